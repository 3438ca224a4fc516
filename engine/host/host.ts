// A Vireo host: one engine owning one data dir, reachable over a unix socket (the CLI; mode 0600, no
// token) and, when serving, over HTTP + WebSocket on TCP (loopback by default, token required).
import { chmodSync, mkdirSync, rmSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo, Server as NetServer } from 'node:net'
import { WebSocketServer, type WebSocket } from 'ws'
import { serveRpc } from '../api/server.ts'
import { webSocketTransport, type WebSocketLike } from '../api/transports/websocket.ts'
import { Engine } from '../engine.ts'
import { writeJsonAtomic } from '../vm/atomic-file.ts'
import { DataDirLock } from './lock.ts'
import { loadOrCreateToken, tokenFromUpgrade, tokenMatches } from './token.ts'
import { makeHttpHandler } from './static-files.ts'
import { PAIR_PATH } from '../peers/pairing.ts'
import { createPeerServer } from '../peers/peer-server.ts'
import type { HostRecord } from './host-record.ts'
import { loadAccept, saveAccept } from './accept-file.ts'
import { prepareHostDataDir } from './private-modes.ts'

export interface HostOptions {
  dataDir: string
  /** Serve HTTP/WebSocket on TCP too (vireo serve); the CLI's background host does not. */
  tcp?: { address: string; port: number } | null
  env?: NodeJS.ProcessEnv
  log?: (line: string) => void
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

export async function startHost(opts: HostOptions): Promise<RunningHost> {
  const log = opts.log ?? (() => undefined)
  prepareHostDataDir(opts.dataDir, log, opts.env)
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
  const servers: (Server | NetServer)[] = []
  const sockets = new Set<WebSocket>()
  try {
    await engine.init()
    for (const p of engine.library.problems) log(`warning: ${p.message}`)

    // Unix socket: its mode and its directory's mode are the authentication.
    mkdirSync(engine.layout.runtimeRoot, { recursive: true, mode: 0o700 })
    rmSync(engine.layout.hostSocket, { force: true })
    const unixHttp = createServer((_req, res) => res.writeHead(404).end())
    attachWebSocket(unixHttp, engine, sockets, () => true)
    await listen(unixHttp, engine.layout.hostSocket)
    chmodSync(engine.layout.hostSocket, 0o600)
    servers.push(unixHttp)

    let url: string | null = null
    let token: string | null = null
    let port: number | null = null
    let tcp: { address: string; closers: (Server | NetServer)[] } | null = null
    const writeRecord = () =>
      writeJsonAtomic(
        engine.layout.hostJson,
        {
          pid: process.pid,
          socket: engine.layout.hostSocket,
          port,
          address: tcp?.address ?? null,
          startedAt: new Date().toISOString(),
        } satisfies HostRecord,
        0o600,
      )
    /** Browsers (with the token) and paired hosts (TLS-PSK) on one TCP port. */
    const openTcp = async (address: string, wantPort: number) => {
      token = loadOrCreateToken(engine.layout.tokenFile)
      const t = token
      const tcpHttp = createServer(
        makeHttpHandler({ token: t, log, hostAllowed: (h) => hostHeaderAllowed(h, port ?? 0) }),
      )
      attachWebSocket(tcpHttp, engine, sockets, (req) => upgradeAllowed(req, t, port ?? 0, log), log)
      // Other hosts reach this one on the same port, inside TLS-PSK (engine/peers/peer-server.ts).
      const peerServer = createPeerServer({
        http: tcpHttp,
        trust: engine.peers.trust,
        onPeerSocket: (ws, peer) => {
          sockets.add(ws)
          const session = engine.peerSession(peer)
          ws.on('close', () => {
            sockets.delete(ws)
            session.close()
          })
          serveRpc(webSocketTransport(ws as unknown as WebSocketLike), session.backend)
        },
        onPeerRequest: (req, res, peer) => engine.peerRequest(req, res, peer),
        log,
      })
      await listen(peerServer.server, wantPort, address)
      port = (peerServer.server.address() as AddressInfo).port
      engine.peers.listening = { address, port }
      tcp = { address, closers: [peerServer.server, tcpHttp] }
      servers.push(peerServer.server, tcpHttp)
      const shown = address.includes(':') ? `[${address}]` : address
      url = `http://${shown}:${port}/#token=${token}`
      engine.url = `http://${shown}:${port}/`
      writeRecord()
    }
    const closeTcp = async () => {
      const open = tcp
      if (!open) return
      tcp = null
      await Promise.all(open.closers.map((s) => new Promise((r) => s.close(r))))
      for (const s of open.closers) servers.splice(servers.indexOf(s), 1)
      url = null
      port = null
      engine.url = null
      engine.peers.listening = null
      writeRecord()
    }
    // Turned on later by the user (the desktop app's "accept machines from other hosts"), and
    // remembered for the next start, on the same port when it is free.
    engine.onAccept = async ({ enabled, address, port: wanted }) => {
      await closeTcp()
      if (enabled) await openTcp(address, wanted)
      saveAccept(engine.layout.acceptFile, enabled ? { address, port: port ?? 0 } : null)
      return { listening: engine.peers.listening, url }
    }
    const accept = opts.tcp ?? loadAccept(engine.layout.acceptFile)
    if (accept) {
      try {
        await openTcp(accept.address, accept.port)
      } catch (err) {
        if (opts.tcp || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err
        log(`port ${accept.port} is taken; accepting other hosts on another one`)
        await openTcp(accept.address, 0)
      }
    }
    writeRecord()

    const stop = (o: { stopVms?: boolean } = {}): Promise<void> => {
      stopping ??= (async () => {
        for (const ws of sockets) ws.close(1001, 'host stopping')
        await Promise.all(servers.map((s) => new Promise((r) => s.close(r))))
        await engine.dispose({ stopVms: o.stopVms ?? false })
        rmSync(engine.layout.hostJson, { force: true })
        rmSync(engine.layout.hostSocket, { force: true })
        lock.release()
        resolveStopped()
      })()
      return stopping
    }
    stopHost = stop
    return { engine, url, token, port, stop, stopped }
  } catch (err) {
    for (const s of servers) s.close()
    await engine.dispose()
    lock.release()
    throw err
  }
}

function listen(server: Server | NetServer, portOrPath: number | string, address?: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject)
    const done = () => {
      server.off('error', reject)
      resolvePromise()
    }
    if (typeof portOrPath === 'string') server.listen(portOrPath, done)
    else server.listen(portOrPath, address, done)
  })
}

function attachWebSocket(
  http: Server,
  engine: Engine,
  sockets: Set<WebSocket>,
  allowed: (req: IncomingMessage) => boolean,
  log: (line: string) => void = () => undefined,
): void {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: 16 * 1024 * 1024,
    handleProtocols: (protocols) => {
      for (const p of protocols) if (p.startsWith('vireo.token.')) return p
      return false
    },
  })
  const pairing = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 })
  http.on('upgrade', (req, socket, head) => {
    // Pairing needs no token (the code is its secret), and no web page may try codes: browsers
    // always send Origin on a WebSocket, another Vireo host never does.
    if (req.url === PAIR_PATH) {
      if (req.headers.origin !== undefined || !engine.peers.listening) {
        log(`refused a pairing from ${req.socket.remoteAddress ?? '?'}: it came from a web page`)
        socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
        return
      }
      const who = req.socket.remoteAddress ?? '?'
      pairing.handleUpgrade(req, socket, head, (ws) => engine.peers.pairing.handle(ws, who))
      return
    }
    if (!allowed(req)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
      return
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws)
      ws.on('close', () => sockets.delete(ws))
      serveRpc(webSocketTransport(ws as unknown as WebSocketLike), engine)
    })
  })
}

/** Token, and Host/Origin against DNS rebinding: a page from another origin never gets in. */
function upgradeAllowed(
  req: IncomingMessage,
  token: string,
  port: number,
  log: (l: string) => void,
): boolean {
  const host = req.headers.host ?? ''
  const origin = req.headers.origin
  const who = `${req.socket.remoteAddress ?? '?'}`
  if (!tokenMatches(token, tokenFromUpgrade(req.headers))) {
    log(`refused a connection from ${who}: missing or wrong token`)
    return false
  }
  if (!hostHeaderAllowed(host, port)) {
    log(`refused a connection from ${who}: unexpected Host header "${host}"`)
    return false
  }
  if (origin !== undefined && origin !== `http://${host}`) {
    log(`refused a connection from ${who}: foreign Origin "${origin}"`)
    return false
  }
  return true
}

function hostHeaderAllowed(host: string, port: number): boolean {
  const m = /^(\[[0-9a-f:.]+\]|[^:]+)(?::(\d+))?$/i.exec(host)
  if (!m) return false
  if (m[2] !== undefined && Number(m[2]) !== port) return false
  const name = (m[1] ?? '').toLowerCase()
  // Names that a rebinding attack cannot point elsewhere: IP literals and localhost.
  return name === 'localhost' || /^[\d.]+$/.test(name) || name.startsWith('[')
}
