// One RPC session over one transport: validates every request, dispatches it, forwards events,
// and multiplexes byte streams on binary frames. A malformed message gets an error reply; it never
// throws out of here.
import { toErrorBody, VireoError } from './errors.ts'
import { Envelope, isMethodName, Methods, type MethodName } from './rpc.ts'
import type { ByteStream, RpcBackend } from './backend.ts'
import { decodeFrame, encodeFrame, type Disposable, type Transport } from './transport.ts'
import type { z } from 'zod'

export function formatZodError(err: z.ZodError): string {
  return err.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ')
}

export function serveRpc(transport: Transport, backend: RpcBackend): Disposable {
  const streams = new Map<number, ByteStream>()
  // Channels whose output may flow: set before the backend opens the stream, so the history it sends
  // at once is not lost.
  const live = new Set<number>()
  let nextChannel = 1
  let closed = false

  const eventSub = backend.onEvent((event, data) => {
    if (!closed) transport.send({ type: 'event', event, data })
  })

  const reply = (id: number, result: unknown) => transport.send({ type: 'response', id, result })
  const fail = (id: number, err: unknown) => transport.send({ type: 'response', id, error: toErrorBody(err) })

  async function dispatch(id: number, method: MethodName, rawParams: unknown): Promise<unknown> {
    const spec = Methods[method]
    const parsed = spec.params.safeParse(rawParams ?? {})
    if (!parsed.success) {
      throw new VireoError('invalid_request', `${method}: ${formatZodError(parsed.error)}`)
    }
    const params = parsed.data as never
    if (method === 'stream.open') {
      const p = parsed.data as z.output<(typeof Methods)['stream.open']['params']>
      const channel = nextChannel++
      live.add(channel)
      try {
        const stream = await backend.openStream(p.kind, p.vm, {
          data: (bytes) => {
            if (!closed && live.has(channel)) transport.sendBinary(encodeFrame(channel, bytes))
          },
          end: (reason) => {
            streams.get(channel)?.close()
            streams.delete(channel)
            if (live.delete(channel) && !closed) {
              transport.send({ type: 'event', event: 'stream.closed', data: { channel, reason } })
            }
          },
        })
        if (!live.has(channel)) stream.close()
        else streams.set(channel, stream)
      } catch (err) {
        live.delete(channel)
        throw err
      }
      return { channel }
    }
    if (method === 'stream.close') {
      const p = parsed.data as { channel: number }
      streams.get(p.channel)?.close()
      streams.delete(p.channel)
      live.delete(p.channel)
      return {}
    }
    const handler = backend.handlers[method] as (p: never) => Promise<unknown>
    return handler(params)
  }

  const msgSub = transport.onMessage((message) => {
    const env = Envelope.safeParse(message)
    if (!env.success || env.data.type !== 'request') {
      const id = typeof (message as { id?: unknown })?.id === 'number' ? (message as { id: number }).id : -1
      fail(id, new VireoError('invalid_request', 'not a valid request envelope'))
      return
    }
    const { id, method, params } = env.data
    if (!isMethodName(method)) {
      fail(id, new VireoError('invalid_request', `unknown method "${method}"`))
      return
    }
    dispatch(id, method, params).then(
      (result) => reply(id, result),
      (err: unknown) => fail(id, err),
    )
  })

  const binSub = transport.onBinary((frame) => {
    const decoded = decodeFrame(frame)
    if (decoded) streams.get(decoded.channel)?.write(decoded.payload)
  })

  const dispose = () => {
    if (closed) return
    closed = true
    eventSub.dispose()
    msgSub.dispose()
    binSub.dispose()
    for (const s of streams.values()) s.close()
    streams.clear()
    live.clear()
  }
  transport.onClose(dispose)
  return { dispose }
}
