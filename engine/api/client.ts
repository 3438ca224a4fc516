// The typed client every front end uses: the renderer, the CLI, another host.
import { RpcErrorBody, VireoError } from './errors.ts'
import { firstSentence, issueSentences } from './input-errors.ts'
import {
  Envelope,
  Events,
  isEventName,
  Methods,
  type EventData,
  type EventName,
  type MethodName,
  type ParamsIn,
  type Result,
} from './rpc.ts'
import { decodeFrame, encodeFrame, Listeners, type Disposable, type Transport } from './transport.ts'
import type { StreamKind } from './backend.ts'

export interface ClientStream {
  readonly channel: number
  onData(handler: (bytes: Uint8Array) => void): Disposable
  onEnd(handler: (reason: string) => void): Disposable
  write(bytes: Uint8Array | string): void
  close(): Promise<void>
}

interface Pending {
  method: MethodName
  resolve: (v: unknown) => void
  reject: (e: Error) => void
}

export class RpcClient {
  private readonly transport: Transport
  private readonly pending = new Map<number, Pending>()
  private readonly events = new Map<string, Listeners<unknown>>()
  private readonly streams = new Map<number, { data: Listeners<Uint8Array>; end: Listeners<string> }>()
  private readonly closeListeners = new Listeners<void>()
  /** Frames for a channel whose stream.open reply has not arrived yet. */
  private readonly orphans = new Map<number, Uint8Array[]>()
  private nextId = 1
  private closed = false

  constructor(transport: Transport) {
    this.transport = transport
    transport.onMessage((m) => this.receive(m))
    transport.onBinary((frame) => {
      const decoded = decodeFrame(frame)
      if (!decoded) return
      const stream = this.streams.get(decoded.channel)
      if (stream) stream.data.emit(decoded.payload)
      else this.keepOrphan(decoded.channel, decoded.payload)
    })
    transport.onClose(() => this.handleClose())
  }

  /**
   * One request. With `timeoutMs`, a reply that has not come by then fails the call (the request
   * may still run in the engine; its late reply is dropped). Long jobs (a conversion, a migration)
   * take no timeout: their progress comes as events.
   */
  call<M extends MethodName>(
    method: M,
    params: ParamsIn<M>,
    opts: { timeoutMs?: number } = {},
  ): Promise<Result<M>> {
    if (this.closed)
      return Promise.reject(new VireoError('unavailable', 'the connection to the engine is closed'))
    const id = this.nextId++
    return new Promise<Result<M>>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | null = null
      const settle = () => {
        if (timer) clearTimeout(timer)
        this.pending.delete(id)
      }
      this.pending.set(id, {
        method,
        resolve: (v) => {
          settle()
          resolve(v as Result<M>)
        },
        reject: (e) => {
          settle()
          reject(e)
        },
      })
      if (opts.timeoutMs !== undefined) {
        timer = setTimeout(() => {
          this.pending.delete(id)
          reject(
            new VireoError(
              'timeout',
              `the engine did not answer ${method} within ${Math.ceil(opts.timeoutMs! / 1000)} s`,
            ),
          )
        }, opts.timeoutMs)
      }
      this.transport.send({ type: 'request', id, method, params })
    })
  }

  on<E extends EventName>(event: E, handler: (data: EventData<E>) => void): Disposable {
    let l = this.events.get(event)
    if (!l) this.events.set(event, (l = new Listeners<unknown>()))
    return l.add(handler as (d: unknown) => void)
  }

  onClose(handler: () => void): Disposable {
    return this.closeListeners.add(handler)
  }

  async openStream(kind: StreamKind, vm: string): Promise<ClientStream> {
    const { channel } = await this.call('stream.open', { vm, kind })
    const data = new Listeners<Uint8Array>()
    const end = new Listeners<string>()
    // Frames the engine sent before its reply (the console's history) were kept for us.
    const buffered = this.orphans.get(channel) ?? []
    this.orphans.delete(channel)
    const early = data.add((b) => buffered.push(b))
    this.streams.set(channel, { data, end })
    const encoder = new TextEncoder()
    let flushed = false
    return {
      channel,
      onData: (handler) => {
        const sub = data.add(handler)
        if (!flushed) {
          flushed = true
          early.dispose()
          for (const b of buffered.splice(0)) handler(b)
        }
        return sub
      },
      onEnd: (handler) => end.add(handler),
      write: (bytes) =>
        this.transport.sendBinary(
          encodeFrame(channel, typeof bytes === 'string' ? encoder.encode(bytes) : bytes),
        ),
      close: async () => {
        this.streams.delete(channel)
        if (!this.closed) await this.call('stream.close', { channel })
      },
    }
  }

  close(): void {
    this.transport.close()
    this.handleClose()
  }

  private keepOrphan(channel: number, payload: Uint8Array): void {
    // Only the newest channels can still be waiting for their reply; older leftovers are dropped.
    if (!this.orphans.has(channel) && this.orphans.size >= 8) {
      const oldest = this.orphans.keys().next().value
      if (oldest !== undefined) this.orphans.delete(oldest)
    }
    let list = this.orphans.get(channel)
    if (!list) this.orphans.set(channel, (list = []))
    list.push(payload)
  }

  private receive(message: unknown): void {
    const env = Envelope.safeParse(message)
    if (!env.success) return
    const m = env.data
    if (m.type === 'event') {
      if (!isEventName(m.event)) return
      const parsed = Events[m.event].safeParse(m.data)
      if (!parsed.success) return
      if (m.event === 'stream.closed') {
        const { channel, reason } = parsed.data as EventData<'stream.closed'>
        const s = this.streams.get(channel)
        this.streams.delete(channel)
        s?.end.emit(reason)
      }
      this.events.get(m.event)?.emit(parsed.data)
      return
    }
    if (m.type !== 'response') return
    const p = this.pending.get(m.id)
    if (!p) return
    this.pending.delete(m.id)
    if ('error' in m) {
      const body = RpcErrorBody.parse(m.error)
      p.reject(new VireoError(body.code, body.message))
      return
    }
    // Validate the engine's answer too: a client never trusts an unchecked shape.
    const subject = `the ${p.method} result`
    const parsed = Methods[p.method].result.safeParse(m.result, { error: issueSentences(subject) })
    if (parsed.success) p.resolve(parsed.data)
    else
      p.reject(
        new VireoError(
          'internal',
          `the engine sent a malformed ${p.method} result (${firstSentence(parsed.error)}); this is a bug in Vireo`,
        ),
      )
  }

  private handleClose(): void {
    if (this.closed) return
    this.closed = true
    for (const p of this.pending.values())
      p.reject(new VireoError('unavailable', 'the connection to the engine closed'))
    this.pending.clear()
    for (const s of this.streams.values()) s.end.emit('connection closed')
    this.streams.clear()
    this.closeListeners.emit()
  }
}
