// The engine as main sees it: a utility process running engine/host/utility-main.ts, which owns the
// data dir — or, when another host owns it already, that host's unix socket. Either way each window
// gets its own MessagePort (one end of a MessageChannelMain) and speaks the engine/api contract on
// it; main keeps one connection of its own, to ask what runs when the app quits. If the engine goes
// away (it crashed, or `vireo host stop` ended it), it is started again and every window gets a
// fresh port.
import {
  MessageChannelMain,
  utilityProcess,
  type MessagePortMain,
  type UtilityProcess,
  type WebContents,
} from 'electron'
import { RpcClient } from '../engine/api/client.ts'
import type { VmSummary } from '../engine/api/rpc.ts'
import type { Disposable } from '../engine/api/transport.ts'
import { portTransport } from '../engine/api/transports/port.ts'
import { webSocketTransport, type WebSocketLike } from '../engine/api/transports/websocket.ts'
import type { FromEngine, ToEngine } from '../engine/host/utility-main.ts'
import { Channels } from '../preload/channels.ts'
import { bridgePortToHost, hostSocketPath, openHostSocket } from './bridge.ts'

export type EngineMode = 'local' | 'remote'

export interface EngineProcessOptions {
  /** engine/host/utility-main.ts */
  entry: string
  dataDir: string
  log?: (line: string) => void
  /** Restarts allowed within a minute before giving up. */
  maxRestartsPerMinute?: number
  /** Told when the engine is gone for good. */
  onGiveUp?: (reason: string) => void
}

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

function isFromEngine(m: unknown): m is FromEngine {
  const t = (m as { type?: unknown } | null)?.type
  return t === 'ready' || t === 'owner-elsewhere' || t === 'failed' || t === 'stopped'
}

/** The engine's first report: ready, owner-elsewhere or failed (an exit before any counts as failed). */
function firstReport(child: UtilityProcess): Promise<FromEngine> {
  return new Promise((resolve) => {
    const onMessage = (m: unknown) => {
      if (!isFromEngine(m) || m.type === 'stopped') return
      child.off('message', onMessage)
      child.off('exit', onExit)
      resolve(m)
    }
    const onExit = (code: number) => {
      child.off('message', onMessage)
      resolve({ type: 'failed', message: `the engine exited (code ${code}) before it was ready` })
    }
    child.on('message', onMessage)
    child.once('exit', onExit)
  })
}

export class EngineProcess {
  private readonly opts: EngineProcessOptions
  private readonly log: (line: string) => void
  private child: UtilityProcess | null = null
  private socketPath: string | null = null
  private client: RpcClient | null = null
  private currentMode: EngineMode | null = null
  private starting: Promise<EngineMode> | null = null
  private stopping = false
  private readonly windows = new Set<WebContents>()
  private readonly bridges = new Set<Disposable>()
  private restarts: number[] = []

  constructor(opts: EngineProcessOptions) {
    this.opts = opts
    this.log = opts.log ?? ((line) => console.error(`vireo: ${line}`))
  }

  /** 'local' when the app's engine owns the data dir, 'remote' when another host does; null when none runs. */
  get mode(): EngineMode | null {
    return this.currentMode
  }

  start(): Promise<EngineMode> {
    this.starting ??= this.launch().catch((err: unknown) => {
      this.starting = null
      throw err
    })
    return this.starting
  }

  private async launch(): Promise<EngineMode> {
    let lastError = ''
    for (let attempt = 1; attempt <= 3; attempt++) {
      const child = utilityProcess.fork(this.opts.entry, ['--data-dir', this.opts.dataDir], {
        serviceName: 'Vireo engine',
        stdio: 'inherit',
      })
      const report = await firstReport(child)
      if (report.type === 'ready') {
        this.adoptLocal(child)
        return 'local'
      }
      if (report.type !== 'owner-elsewhere')
        throw new Error(report.type === 'failed' ? report.message : 'the engine stopped')
      // The owner may still be starting (its socket not listening yet): give it a few seconds. If it
      // went away instead, the next engine we fork becomes the owner.
      for (let i = 0; i < 20; i++) {
        try {
          await this.adoptRemote()
          return 'remote'
        } catch (err) {
          lastError = (err as Error).message
          await delay(250)
        }
      }
    }
    throw new Error(`another Vireo host owns ${this.opts.dataDir} but does not answer: ${lastError}`)
  }

  private adoptLocal(child: UtilityProcess): void {
    this.child = child
    this.currentMode = 'local'
    const { port1, port2 } = new MessageChannelMain()
    child.postMessage({ type: 'connect' } satisfies ToEngine, [port1])
    this.client = new RpcClient(portTransport(port2))
    child.once('exit', (code) => this.lost(`the engine exited (code ${code})`))
    this.log(`engine ${child.pid ?? '?'} owns ${this.opts.dataDir}`)
  }

  private async adoptRemote(): Promise<void> {
    const socketPath = hostSocketPath(this.opts.dataDir)
    const ws = await openHostSocket(socketPath)
    this.socketPath = socketPath
    this.currentMode = 'remote'
    this.client = new RpcClient(webSocketTransport(ws as unknown as WebSocketLike))
    this.client.onClose(() => this.lost('the host that owns the data dir went away'))
    this.log(`another host owns ${this.opts.dataDir}; connected to it at ${socketPath}`)
  }

  private lost(reason: string): void {
    if (this.stopping || this.currentMode === null) return
    this.log(reason)
    this.currentMode = null
    this.child = null
    this.starting = null
    this.client?.close()
    this.client = null
    for (const b of this.bridges) b.dispose()
    this.bridges.clear()
    const now = Date.now()
    this.restarts = this.restarts.filter((t) => now - t < 60_000)
    if (this.restarts.length >= (this.opts.maxRestartsPerMinute ?? 5)) {
      this.opts.onGiveUp?.(reason)
      return
    }
    this.restarts.push(now)
    void delay(300)
      .then(() => this.start())
      .then(
        () => Promise.all([...this.windows].map((w) => this.handPort(w))),
        (err: unknown) => this.opts.onGiveUp?.((err as Error).message),
      )
      .catch((err: unknown) => this.log(`could not reconnect a window: ${(err as Error).message}`))
  }

  /** Hands `contents` a MessagePort to the engine now, and a fresh one after every engine restart. */
  async connectWindow(contents: WebContents): Promise<void> {
    if (!this.windows.has(contents)) {
      this.windows.add(contents)
      contents.once('destroyed', () => this.windows.delete(contents))
    }
    await this.start()
    await this.handPort(contents)
  }

  private async handPort(contents: WebContents): Promise<void> {
    if (contents.isDestroyed()) return
    const port = await this.openPort()
    if (contents.isDestroyed()) port.close()
    else contents.postMessage(Channels.port, null, [port])
  }

  /** A new channel to the engine; the caller gets the end to give away. */
  private async openPort(): Promise<MessagePortMain> {
    const { port1, port2 } = new MessageChannelMain()
    if (this.currentMode === 'local' && this.child) {
      this.child.postMessage({ type: 'connect' } satisfies ToEngine, [port1])
    } else if (this.currentMode === 'remote' && this.socketPath) {
      const bridge = await bridgePortToHost(port1, this.socketPath)
      this.bridges.add(bridge)
    } else {
      throw new Error('the engine is not running')
    }
    return port2
  }

  /** The VMs the engine knows, or null if it cannot tell within the time. */
  async listVms(timeoutMs = 3000): Promise<VmSummary[] | null> {
    const client = this.client
    if (!client) return null
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<null>((r) => (timer = setTimeout(() => r(null), timeoutMs)))
    try {
      return await Promise.race([client.call('vm.list', {}), timeout])
    } catch {
      return null
    } finally {
      clearTimeout(timer)
    }
  }

  /**
   * Lets go of the engine. Our own engine stops its host (shutting the VMs down first when asked) and
   * exits, releasing the data dir; another host's connection is just closed.
   */
  async stop(opts: { stopVms: boolean }): Promise<void> {
    this.stopping = true
    const child = this.child
    this.child = null
    this.currentMode = null
    if (child) {
      const exited = new Promise<void>((r) => child.once('exit', () => r()))
      child.postMessage({ type: 'quit', stopVms: opts.stopVms } satisfies ToEngine)
      // The guests get the engine's own shutdown time (30 s each, in parallel) and a margin.
      const limit = opts.stopVms ? 90_000 : 15_000
      const inTime = await Promise.race([exited.then(() => true), delay(limit).then(() => false)])
      if (!inTime) {
        this.log('the engine did not stop in time; ending it (running VMs stay up for the next engine)')
        child.kill()
        await exited
      }
    }
    this.client?.close()
    this.client = null
    for (const b of this.bridges) b.dispose()
    this.bridges.clear()
  }
}
