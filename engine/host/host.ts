// A Vireo host: one engine owning one data dir, reachable over a unix socket (the CLI; mode 0600, no
// token) and, when serving, over HTTP + WebSocket on TCP (loopback by default, token required).
// Every connection on either has its deadlines and bounds (engine/host/conn-limits.ts).
import { chmodSync, mkdirSync, rmSync } from 'node:fs'
import type { WebSocket } from 'ws'
import { VireoError } from '../api/errors.ts'
import { Engine } from '../engine.ts'
import { writeJsonAtomic } from '../util/atomic-file.ts'
import { loadAccept, saveAccept } from './accept-file.ts'
import { ConnectionGuard, ThrottledLog } from './conn-guard.ts'
import { resolveLimits, type ConnectionLimits } from './conn-limits.ts'
import { frontDoor } from './front-door.ts'
import type { HostRecord } from './host-record.ts'
import { limitedHttpServer } from './limited-http.ts'
import { listen } from './listen.ts'
import { DataDirLock } from './lock.ts'
import { say } from './refusal.ts'
import { attachWebSocket } from './rpc-upgrade.ts'
import { openServePort, type ServePort } from './serve-port.ts'
import { loadOrCreateToken } from './token.ts'
import { prepareHostDataDir } from './private-modes.ts'

export interface HostOptions {
  dataDir: string
  /** Serve HTTP/WebSocket on TCP too (vireo serve); the CLI's background host does not. */
  tcp?: { address: string; port: number } | null
  env?: NodeJS.ProcessEnv
  log?: (line: string) => void
  /** Deadlines and bounds of every connection; what is not given comes from VIREO_CONN_*, then the defaults. */
  limits?: Partial<ConnectionLimits>
}

export interface RunningHost {
  engine: Engine
  url: string | null
  token: string | null
  port: number | null
  /** Stops listening and releases the data dir; VMs keep running unless asked. */
  stop(opts?: { stopVms?: boolean }): Promise<void>
  stopped: Promise<void>
}

/** How long open WebSockets get to hear "host stopping" before they are cut. */
const STOP_GRACE_MS = 1_000

export async function startHost(opts: HostOptions): Promise<RunningHost> {
  const log = opts.log ?? (() => undefined)
  prepareHostDataDir(opts.dataDir, log, opts.env)
  const limits = resolveLimits(opts.env ?? process.env, opts.limits)
  const noisy = new ThrottledLog(log)
  let stopping: Promise<void> | null = null
  // host.stop over RPC can only arrive once the host is up and `stop` below is bound.
  let stopHost: ((o: { stopVms?: boolean }) => Promise<void>) | null = null
  let resolveStopped!: () => void
  const stopped = new Promise<void>((r) => (resolveStopped = r))
  const engine = new Engine({
    dataDir: opts.dataDir,
    ...(opts.env ? { env: opts.env } : {}),
    onHostStop: (stopVms) => void stopHost?.({ stopVms }),
    log,
  })
  const lock = DataDirLock.acquire(engine.layout.lockFile)
  const sockets = new Set<WebSocket>()
  const bounds = { perAddress: limits.perAddress, total: limits.total, log: noisy }
  const unixGuard = new ConnectionGuard({ ...bounds, name: 'the CLI socket', perAddressApplies: false })
  const tcpGuard = new ConnectionGuard({ ...bounds, name: 'the serve port' })
  const closers: (() => void)[] = []
  let serving: ServePort | null = null
  try {
    await engine.init()
    for (const p of engine.library.problems) log(`warning: ${p.message}`)

    // Unix socket: its mode and its directory's mode are the authentication.
    mkdirSync(engine.layout.runtimeRoot, { recursive: true, mode: 0o700 })
    rmSync(engine.layout.hostSocket, { force: true })
    const unixHttp = limitedHttpServer(
      limits,
      { wholeRequest: true, log: noisy, name: 'the CLI socket' },
      (_req, res) => say(res, 404, 'the RPC is a WebSocket at /rpc'),
    )
    attachWebSocket(unixHttp, { engine, limits, sockets, check: () => null, pairing: false, log: noisy })
    const unixDoor = frontDoor({
      guard: unixGuard,
      firstByteMs: limits.firstByteMs,
      log: noisy,
      name: 'the CLI socket',
      onFirstBytes: (socket) => {
        unixHttp.emit('connection', socket)
        socket.resume()
      },
    })
    await listen(unixDoor, engine.layout.hostSocket)
    chmodSync(engine.layout.hostSocket, 0o600)
    closers.push(
      () => unixDoor.close(),
      () => unixHttp.close(() => undefined),
    )

    let url: string | null = null
    let token: string | null = null
    const startedAt = new Date().toISOString()
    const writeRecord = () =>
      writeJsonAtomic(
        engine.layout.hostJson,
        {
          pid: process.pid,
          socket: engine.layout.hostSocket,
          port: serving?.port ?? null,
          address: serving?.address ?? null,
          startedAt,
        } satisfies HostRecord,
        0o600,
      )
    /** Browsers (with the token) and paired hosts (TLS-PSK) on one TCP port. */
    const openTcp = (address: string, port: number): Promise<ServePort> => {
      token = loadOrCreateToken(engine.layout.tokenFile)
      return openServePort({ engine, address, port, token, limits, guard: tcpGuard, log: noisy, sockets })
    }
    const setServing = (next: ServePort | null) => {
      serving = next
      const shown = next ? (next.address.includes(':') ? `[${next.address}]` : next.address) : ''
      url = next ? `http://${shown}:${next.port}/#token=${token}` : null
      engine.url = next ? `http://${shown}:${next.port}/` : null
      engine.peers.listening = next ? { address: next.address, port: next.port } : null
      writeRecord()
    }
    // Turned on later by the user (the desktop app's "accept machines from other hosts"), and
    // remembered for the next start. The new listener opens before the old one closes, so a port
    // that cannot be had leaves the host serving where it was; and the old one is only told to stop
    // listening, never waited on: the caller's own connection may be one of its clients.
    // One change at a time: two callers racing would each close the listener the other opened.
    let accepting: Promise<unknown> = Promise.resolve()
    engine.onAccept = (p) => {
      const next = accepting.then(() => changeAccept(p))
      accepting = next.catch(() => undefined)
      return next
    }
    const changeAccept = async ({
      enabled,
      address,
      port: wanted,
    }: {
      enabled: boolean
      address: string
      port: number
    }) => {
      const old = serving
      if (!enabled) {
        if (old) old.close()
        setServing(null)
      } else if (!old || old.address !== address || (wanted !== 0 && wanted !== old.port)) {
        setServing(await moveTcp(old, address, wanted))
      }
      const now = serving as ServePort | null
      saveAccept(engine.layout.acceptFile, now ? { address: now.address, port: now.port } : null)
      return { listening: engine.peers.listening, url }
    }
    const moveTcp = async (old: ServePort | null, address: string, port: number): Promise<ServePort> => {
      try {
        const next = await openTcp(address, port)
        old?.close()
        return next
      } catch (err) {
        // The same port on another of this machine's addresses can clash with the old listener
        // itself (0.0.0.0 covers 127.0.0.1): let it go first, and take it back if the new one fails.
        if (!old || port !== old.port || !portInUse(err)) throw err
        old.close()
        await new Promise((r) => setImmediate(r))
        try {
          return await openTcp(address, port)
        } catch (again) {
          setServing(await openTcp(old.address, old.port).catch(() => null))
          throw again
        }
      }
    }
    const accept = opts.tcp ?? loadAccept(engine.layout.acceptFile)
    if (accept) {
      try {
        setServing(await openTcp(accept.address, accept.port))
      } catch (err) {
        if (opts.tcp || !portInUse(err)) throw err
        log(`port ${accept.port} is taken; accepting other hosts on another one`)
        setServing(await openTcp(accept.address, 0))
      }
    }
    writeRecord()

    const stop = (o: { stopVms?: boolean } = {}): Promise<void> => {
      stopping ??= (async () => {
        // Nothing here waits on a client: a stuck one must not keep the host (or its data dir).
        serving?.close()
        for (const close of closers) close()
        for (const ws of sockets) ws.close(1001, 'host stopping')
        const deadline = Date.now() + STOP_GRACE_MS
        while (sockets.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
        for (const ws of sockets) ws.terminate()
        unixGuard.destroyAll()
        tcpGuard.destroyAll()
        await engine.dispose({ stopVms: o.stopVms ?? false })
        rmSync(engine.layout.hostJson, { force: true })
        rmSync(engine.layout.hostSocket, { force: true })
        lock.release()
        resolveStopped()
      })()
      return stopping
    }
    stopHost = stop
    return {
      engine,
      url,
      token,
      port: (serving as ServePort | null)?.port ?? null,
      stop,
      stopped,
    }
  } catch (err) {
    ;(serving as ServePort | null)?.close()
    for (const close of closers) close()
    unixGuard.destroyAll()
    tcpGuard.destroyAll()
    await engine.dispose()
    lock.release()
    throw err
  }
}

function portInUse(err: unknown): boolean {
  return err instanceof VireoError && err.code === 'conflict'
}
