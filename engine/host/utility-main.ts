// The engine's entry in the desktop app. Electron's main process forks this file with
// `utilityProcess.fork(…, ['--data-dir', DIR])`. It starts the same host as `vireo host run` (so the
// app's engine owns the data dir and the CLI reaches it over the unix socket), and serves RPC on
// every MessagePort main hands it, one per window. It never imports electron: `process.parentPort`
// is typed here by the little it needs.
import { VireoError } from '../api/errors.ts'
import { serveRpc } from '../api/server.ts'
import type { Disposable } from '../api/transport.ts'
import { portTransport, type PortLike } from '../api/transports/port.ts'
import { startHost, type HostOptions, type RunningHost } from './host.ts'

/** What main sends to the engine. */
export type ToEngine =
  /** `ports[0]` is one end of a MessageChannelMain; the other end went to a window. */
  | { type: 'connect' }
  /** Stop the host (and the VMs with it when asked), then exit. */
  | { type: 'quit'; stopVms: boolean }

/** What the engine reports to main. */
export type FromEngine =
  | { type: 'ready'; pid: number; dataDir: string; socket: string }
  /** Another host (`vireo serve`, a background host) owns the data dir: connect to it instead. */
  | { type: 'owner-elsewhere'; message: string }
  | { type: 'failed'; message: string }
  /** The host stopped (asked by main, or by `vireo host stop`); the process exits next. */
  | { type: 'stopped' }

/** Electron's `MessageEvent` in the main and utility processes: the data, and the ports it carried. */
export interface ParentPortEvent {
  data: unknown
  ports: readonly PortLike[]
}

/** The part of Electron's `process.parentPort` this file uses. */
export interface ParentPortLike {
  on(event: 'message', listener: (event: ParentPortEvent) => void): unknown
  postMessage(message: FromEngine): void
}

export interface UtilityOptions {
  dataDir: string
  parentPort: ParentPortLike
  /** Ends the process; tests pass their own. */
  exit?: (code: number) => void
  /** The host to start; tests may pass their own. */
  start?: (opts: HostOptions) => Promise<RunningHost>
  log?: (line: string) => void
}

export interface UtilityRun {
  /** The running host, or null when it could not start (reported to main already). */
  host: Promise<RunningHost | null>
  /** Resolves with the exit code once the utility is done (after `exit` was called). */
  done: Promise<number>
}

/** `--data-dir DIR` or `--data-dir=DIR` from an argv. */
export function dataDirFromArgv(argv: readonly string[]): string | null {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? ''
    if (arg === '--data-dir') return argv[i + 1] || null
    if (arg.startsWith('--data-dir=')) return arg.slice('--data-dir='.length) || null
  }
  return null
}

function isToEngine(data: unknown): data is ToEngine {
  if (!data || typeof data !== 'object') return false
  const m = data as { type?: unknown; stopVms?: unknown }
  return m.type === 'connect' || (m.type === 'quit' && typeof m.stopVms === 'boolean')
}

/** Starts the host and answers main's messages. Everything the utility process does is here. */
export function runUtility(opts: UtilityOptions): UtilityRun {
  const log = opts.log ?? ((line: string) => process.stderr.write(`vireo engine: ${line}\n`))
  const exit = opts.exit ?? ((code: number) => process.exit(code))
  const start = opts.start ?? startHost
  const sessions = new Set<Disposable>()
  let finished = false
  let resolveDone!: (code: number) => void
  const done = new Promise<number>((r) => (resolveDone = r))

  const finish = (code: number, report: FromEngine) => {
    if (finished) return
    finished = true
    for (const s of sessions) s.dispose()
    sessions.clear()
    opts.parentPort.postMessage(report)
    resolveDone(code)
    exit(code)
  }

  const host: Promise<RunningHost | null> = start({ dataDir: opts.dataDir, log }).then(
    (h) => {
      opts.parentPort.postMessage({
        type: 'ready',
        pid: process.pid,
        dataDir: h.engine.layout.root,
        socket: h.engine.layout.hostSocket,
      })
      // `vireo host stop` over the unix socket ends the host too: say so, and go.
      void h.stopped.then(() => finish(0, { type: 'stopped' }))
      return h
    },
    (err: unknown) => {
      const message = err instanceof Error ? err.message : String(err)
      if (err instanceof VireoError && err.code === 'conflict') {
        log(`another host owns ${opts.dataDir}: ${message}`)
        finish(0, { type: 'owner-elsewhere', message })
      } else {
        log(`could not start: ${message}`)
        finish(1, { type: 'failed', message })
      }
      return null
    },
  )

  opts.parentPort.on('message', (event) => {
    const msg = event.data
    if (!isToEngine(msg)) {
      log('ignored a malformed message from main')
      return
    }
    if (msg.type === 'connect') {
      const port = event.ports[0]
      if (!port) return
      // A port that arrives while the host is starting waits for it (its messages queue until then).
      void host.then((h) => {
        if (!h || finished) {
          port.close?.()
          return
        }
        const session = serveRpc(portTransport(port), h.engine)
        sessions.add(session)
        port.on('close', () => sessions.delete(session))
      })
      return
    }
    void host.then(async (h) => {
      if (h) await h.stop({ stopVms: msg.stopVms })
      finish(0, { type: 'stopped' })
    })
  })

  return { host, done }
}

// Run only as the utility process's entry: there, and only there, Electron sets process.parentPort.
const parentPort = (process as unknown as { parentPort?: ParentPortLike }).parentPort
if (parentPort) {
  const dataDir = dataDirFromArgv(process.argv)
  if (dataDir) runUtility({ dataDir, parentPort })
  else {
    parentPort.postMessage({ type: 'failed', message: 'the engine was started without --data-dir' })
    process.exit(2)
  }
}
