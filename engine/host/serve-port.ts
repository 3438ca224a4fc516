// The serve port: browsers (the page, sign-in, RPC over WebSocket with the token) and paired hosts
// (TLS-PSK, told apart by their first byte) on one TCP listener.
import type { AddressInfo, Server as NetServer } from 'node:net'
import type { WebSocket } from 'ws'
import { serveRpc } from '../api/server.ts'
import { webSocketTransport, type WebSocketLike } from '../api/transports/websocket.ts'
import type { Engine } from '../engine.ts'
import { createPeerServer } from '../peers/peer-server.ts'
import type { ConnectionGuard, ThrottledLog } from './conn-guard.ts'
import type { ConnectionLimits } from './conn-limits.ts'
import { limitedHttpServer } from './limited-http.ts'
import { checkListenAddress, listen, listenRefusal } from './listen.ts'
import { attachWebSocket, checkBrowserUpgrade, hostHeaderAllowed } from './rpc-upgrade.ts'
import { makeHttpHandler } from './static-files.ts'

export interface ServePortOptions {
  engine: Engine
  address: string
  port: number
  token: string
  limits: ConnectionLimits
  /** Shared by every serve port the host opens over its life: the bounds hold across a move. */
  guard: ConnectionGuard
  log: ThrottledLog
  /** Open WebSockets (browsers' and hosts'), closed when the host stops. */
  sockets: Set<WebSocket>
}

export interface ServePort {
  address: string
  port: number
  server: NetServer
  /** Stops accepting; idle keep-alive connections end now, the rest at their own deadlines. */
  close(): void
}

/** Listens on address:port, or fails with one sentence (port taken, address not this machine's…). */
export async function openServePort(o: ServePortOptions): Promise<ServePort> {
  checkListenAddress(o.address)
  let bound = o.port
  const http = limitedHttpServer(
    o.limits,
    { wholeRequest: true, log: o.log, name: 'the serve port' },
    makeHttpHandler({ token: o.token, log: o.log, hostAllowed: (h) => hostHeaderAllowed(h, bound) }),
  )
  attachWebSocket(http, {
    engine: o.engine,
    limits: o.limits,
    sockets: o.sockets,
    check: (req) => checkBrowserUpgrade(req, o.token, bound, o.log),
    pairing: true,
    log: o.log,
  })
  const peers = createPeerServer({
    http,
    trust: o.engine.peers.trust,
    onPeerSocket: (ws, peer) => {
      o.sockets.add(ws)
      const session = o.engine.peerSession(peer)
      ws.on('close', () => {
        o.sockets.delete(ws)
        session.close()
      })
      serveRpc(webSocketTransport(ws as unknown as WebSocketLike), session.backend)
    },
    onPeerRequest: (req, res, peer) => o.engine.peerRequest(req, res, peer),
    limits: o.limits,
    guard: o.guard,
    log: o.log,
  })
  const close = () => {
    peers.server.close()
    peers.close()
    http.close(() => undefined)
  }
  try {
    await listen(peers.server, o.port, o.address)
  } catch (err) {
    close()
    throw listenRefusal(err, o.address, o.port)
  }
  bound = (peers.server.address() as AddressInfo).port
  return { address: o.address, port: bound, server: peers.server, close }
}
