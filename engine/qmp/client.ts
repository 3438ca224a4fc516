// One connection to QEMU's QMP socket: id-correlated commands, typed events, timeouts, clean close.
import { connect, type Socket } from 'node:net'
import type { Disposable } from '../api/transport.ts'
import type { QmpArgs, QmpCommandName, QmpEventName, QmpEvents, QmpResult } from './commands.ts'

export class QmpError extends Error {
  readonly errorClass: string
  constructor(command: string, errorClass: string, desc: string) {
    super(`${command}: ${desc}`)
    this.name = 'QmpError'
    this.errorClass = errorClass
  }
}

export class QmpClosedError extends Error {
  constructor() {
    super('the QMP connection is closed (QEMU exited)')
    this.name = 'QmpClosedError'
  }
}

export class QmpTimeoutError extends Error {
  constructor(command: string, ms: number) {
    super(`QEMU did not answer ${command} within ${ms} ms`)
    this.name = 'QmpTimeoutError'
  }
}

interface Pending {
  command: string
  resolve: (v: unknown) => void
  reject: (e: Error) => void
  timer: NodeJS.Timeout
}

export interface ConnectOptions {
  /** Per-command timeout, including the greeting and capabilities negotiation. */
  timeoutMs?: number
  /** Keep retrying while the socket is absent or refuses, until this time (ms since epoch). */
  retryUntil?: number
  /** A line that is not JSON; reported, never thrown. */
  onProtocolError?: (line: string) => void
}

type Handler = (data: unknown, event: string) => void

export class QmpClient {
  private readonly socket: Socket
  private readonly pending = new Map<string, Pending>()
  private readonly handlers = new Map<string, Set<Handler>>()
  private readonly anyHandlers = new Set<Handler>()
  private readonly closeHandlers = new Set<() => void>()
  private readonly timeoutMs: number
  private readonly onProtocolError: (line: string) => void
  private buffer = ''
  private nextId = 1
  private closed = false
  private greeting: ((g: unknown) => void) | null = null
  version: { major: number; minor: number; micro: number } | null = null

  private constructor(socket: Socket, opts: ConnectOptions) {
    this.socket = socket
    this.timeoutMs = opts.timeoutMs ?? 30_000
    this.onProtocolError = opts.onProtocolError ?? (() => undefined)
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => this.receive(chunk))
    socket.on('error', () => undefined)
    socket.on('close', () => this.handleClose())
  }

  static async connect(path: string, opts: ConnectOptions = {}): Promise<QmpClient> {
    const socket = await openWithRetry(path, opts.retryUntil ?? 0)
    const client = new QmpClient(socket, opts)
    try {
      const greeting = await client.waitGreeting()
      const v = (
        greeting as { QMP?: { version?: { qemu?: { major: number; minor: number; micro: number } } } }
      ).QMP
      client.version = v?.version?.qemu ?? null
      await client.execute('qmp_capabilities', {})
      return client
    } catch (err) {
      client.dispose()
      throw err
    }
  }

  execute<C extends QmpCommandName>(
    command: C,
    args?: QmpArgs<C>,
    opts: { timeoutMs?: number } = {},
  ): Promise<QmpResult<C>> {
    if (this.closed) return Promise.reject(new QmpClosedError())
    const id = `v${this.nextId++}`
    const ms = opts.timeoutMs ?? this.timeoutMs
    return new Promise<QmpResult<C>>((resolvePromise, reject) => {
      const timer = setTimeout(() => {
        // A late answer then finds no pending entry and is dropped.
        this.pending.delete(id)
        reject(new QmpTimeoutError(command, ms))
      }, ms)
      this.pending.set(id, { command, resolve: resolvePromise as (v: unknown) => void, reject, timer })
      const msg = args === undefined ? { execute: command, id } : { execute: command, arguments: args, id }
      this.socket.write(JSON.stringify(msg) + '\n')
    })
  }

  on<E extends QmpEventName>(event: E, handler: (data: QmpEvents[E]) => void): Disposable {
    let set = this.handlers.get(event)
    if (!set) this.handlers.set(event, (set = new Set()))
    const h = handler as Handler
    set.add(h)
    return { dispose: () => set.delete(h) }
  }

  onAny(handler: (event: string, data: unknown) => void): Disposable {
    const h: Handler = (data, event) => handler(event, data)
    this.anyHandlers.add(h)
    return { dispose: () => this.anyHandlers.delete(h) }
  }

  waitForEvent<E extends QmpEventName>(
    event: E,
    predicate: (data: QmpEvents[E]) => boolean = () => true,
    timeoutMs = this.timeoutMs,
  ): Promise<QmpEvents[E]> {
    return new Promise((resolvePromise, reject) => {
      const timer = setTimeout(() => {
        sub.dispose()
        closeSub.dispose()
        reject(new Error(`QEMU sent no ${event} within ${timeoutMs} ms`))
      }, timeoutMs)
      const sub = this.on(event, (data) => {
        if (!predicate(data)) return
        clearTimeout(timer)
        sub.dispose()
        closeSub.dispose()
        resolvePromise(data)
      })
      const closeSub = this.onClose(() => {
        clearTimeout(timer)
        sub.dispose()
        reject(new QmpClosedError())
      })
    })
  }

  onClose(handler: () => void): Disposable {
    if (this.closed) {
      queueMicrotask(handler)
      return { dispose: () => undefined }
    }
    this.closeHandlers.add(handler)
    return { dispose: () => this.closeHandlers.delete(handler) }
  }

  get isClosed(): boolean {
    return this.closed
  }

  dispose(): void {
    this.socket.destroy()
    this.handleClose()
  }

  private waitGreeting(): Promise<unknown> {
    return new Promise((resolvePromise, reject) => {
      const timer = setTimeout(
        () => reject(new QmpTimeoutError('the greeting', this.timeoutMs)),
        this.timeoutMs,
      )
      const closeSub = this.onClose(() => {
        clearTimeout(timer)
        reject(new QmpClosedError())
      })
      this.greeting = (g) => {
        clearTimeout(timer)
        closeSub.dispose()
        resolvePromise(g)
      }
    })
  }

  private receive(chunk: string): void {
    this.buffer += chunk
    let nl: number
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl).trim()
      this.buffer = this.buffer.slice(nl + 1)
      if (line) this.handleLine(line)
    }
  }

  private handleLine(line: string): void {
    let msg: Record<string, unknown>
    try {
      msg = JSON.parse(line) as Record<string, unknown>
    } catch {
      this.onProtocolError(line)
      return
    }
    if ('QMP' in msg) {
      this.greeting?.(msg)
      this.greeting = null
      return
    }
    if (typeof msg.event === 'string') {
      for (const h of [...(this.handlers.get(msg.event) ?? [])]) h(msg.data ?? {}, msg.event)
      for (const h of [...this.anyHandlers]) h(msg.data ?? {}, msg.event)
      return
    }
    const id = typeof msg.id === 'string' ? msg.id : null
    const p = id ? this.pending.get(id) : undefined
    if (!p || !id) return
    this.pending.delete(id)
    clearTimeout(p.timer)
    if ('error' in msg) {
      const e = msg.error as { class?: string; desc?: string }
      p.reject(new QmpError(p.command, e.class ?? 'GenericError', e.desc ?? 'unknown error'))
    } else p.resolve(msg.return)
  }

  private handleClose(): void {
    if (this.closed) return
    this.closed = true
    for (const p of this.pending.values()) {
      clearTimeout(p.timer)
      p.reject(new QmpClosedError())
    }
    this.pending.clear()
    for (const h of [...this.closeHandlers]) h()
    this.closeHandlers.clear()
    this.handlers.clear()
    this.anyHandlers.clear()
  }
}

function openWithRetry(path: string, retryUntil: number): Promise<Socket> {
  return new Promise((resolvePromise, reject) => {
    const attempt = () => {
      const sock = connect(path)
      sock.once('connect', () => {
        sock.removeAllListeners('error')
        resolvePromise(sock)
      })
      sock.once('error', (err: NodeJS.ErrnoException) => {
        sock.destroy()
        const retriable = err.code === 'ENOENT' || err.code === 'ECONNREFUSED'
        if (retriable && Date.now() < retryUntil) setTimeout(attempt, 50)
        else reject(err)
      })
    }
    attempt()
  })
}
