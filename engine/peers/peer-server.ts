// The serve port carries two kinds of client. A browser speaks plain HTTP (sign-in, the renderer,
// RPC over WebSocket with the token). Another Vireo host opens TLS-PSK with the key of its pairing;
// the first byte of a TLS connection is a handshake record (0x16), which no HTTP request starts
// with, so one port serves both and a host's control traffic needs no port of its own.
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { Server as NetServer, Socket } from 'node:net'
import { TLSSocket, type TLSSocketOptions, type TlsOptions } from 'node:tls'
import { WebSocketServer, type WebSocket } from 'ws'
import { deadline, type ConnectionGuard, type ThrottledLog } from '../host/conn-guard.ts'
import type { ConnectionLimits } from '../host/conn-limits.ts'
import { frontDoor } from '../host/front-door.ts'
import { limitedHttpServer } from '../host/limited-http.ts'
import { say } from '../host/refusal.ts'
import { refuseUpgrade } from '../host/rpc-upgrade.ts'
import { watchLiveness } from '../host/ws-liveness.ts'
import type { Peer, TrustStore } from './trust-store.ts'
import { channelKey, PSK_TLS } from './peer-keys.ts'

export const PEER_RPC_PATH = '/peer/rpc'
const TLS_HANDSHAKE = 0x16

export interface PeerServerOptions {
  /** Serves browsers: every connection that is not TLS goes here. */
  http: Server
  trust: TrustStore
  /** A paired host's RPC session. */
  onPeerSocket: (ws: WebSocket, peer: Peer) => void
  /** A paired host's plain HTTP request (file uploads of a migration). */
  onPeerRequest: (req: IncomingMessage, res: ServerResponse, peer: Peer) => void
  limits: ConnectionLimits
  /** Counts the port's connections, browsers' and hosts' alike. */
  guard: ConnectionGuard
  log: ThrottledLog
}

export interface PeerServer {
  server: NetServer
  /** Open peer sessions, closed when the host stops. */
  sockets: Set<WebSocket>
  /** Stops the deadline checks of the inner HTTP servers (the port itself is closed by its owner). */
  close(): void
}

export function createPeerServer(opts: PeerServerOptions): PeerServer {
  const peerOf = new WeakMap<Socket, Peer>()
  const sockets = new Set<WebSocket>()
  const peerHttp = limitedHttpServer(
    opts.limits,
    { wholeRequest: false, log: opts.log, name: 'the serve port (paired hosts)' },
    (req, res) => {
      const peer = peerOf.get(req.socket)
      if (!peer) return say(res, 401, 'only a paired host may send this; pair with vireo remote add')
      opts.onPeerRequest(req, res, peer)
    },
  )
  const wss = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024 * 1024 })
  peerHttp.on('upgrade', (req, socket, head) => {
    const peer = peerOf.get(req.socket)
    if (!peer || req.url !== PEER_RPC_PATH) {
      return refuseUpgrade(socket, {
        status: 404,
        sentence: `there is no host endpoint at ${req.url ?? ''}; a paired host's RPC is at ${PEER_RPC_PATH}`,
      })
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws)
      ws.on('close', () => sockets.delete(ws))
      keepAlive(ws)
      opts.onPeerSocket(ws, peer)
    })
  })

  const server = frontDoor({
    guard: opts.guard,
    firstByteMs: opts.limits.firstByteMs,
    log: opts.log,
    name: 'the serve port',
    onFirstBytes: (socket, first) => {
      if (first[0] !== TLS_HANDSHAKE) {
        opts.http.emit('connection', socket)
        socket.resume()
        return
      }
      const who = socket.remoteAddress ?? '?'
      let identity: string | null = null
      const handshake = deadline(socket, opts.limits.tlsHandshakeMs, () =>
        opts.log.say(
          'tls handshake',
          `closed a host connection from ${who}: its TLS handshake did not finish within ${opts.limits.tlsHandshakeMs} ms`,
        ),
      )
      // Node's TLSSocket takes pskCallback at run time; its typings list it only for tls.Server.
      const tlsOptions: TLSSocketOptions & Pick<TlsOptions, 'pskCallback'> = {
        isServer: true,
        ...PSK_TLS,
        pskCallback: (_s: TLSSocket, id: string) => {
          identity = id
          const peer = opts.trust.byHostId(id)
          if (!peer) return null
          peerOf.set(tlsSocket, peer)
          return channelKey(peer.key)
        },
      }
      const tlsSocket: TLSSocket = new TLSSocket(socket, tlsOptions)
      tlsSocket.on('secure', () => {
        handshake.clear()
        if (!peerOf.has(tlsSocket)) tlsSocket.destroy()
        else peerHttp.emit('connection', tlsSocket)
      })
      tlsSocket.on('error', (err) => {
        opts.log.say(
          identity ? 'tls: not paired' : 'tls: handshake failed',
          identity && !opts.trust.byHostId(identity)
            ? `refused a host connection from ${who}: host ${identity} is not paired with this one`
            : `refused a host connection from ${who}: ${err.message}`,
        )
        tlsSocket.destroy()
        socket.destroy()
      })
    },
  })
  return { server, sockets, close: () => void peerHttp.close(() => undefined) }
}

/**
 * TCP keepalive here is two hours: a cut link would leave both ends waiting. Pings every 5 s and a
 * socket that misses three is closed, so a migration's other side learns within 15 s.
 */
export function keepAlive(ws: WebSocket, intervalMs = 5_000, missed = 3): void {
  watchLiveness(ws, { firstMs: intervalMs * missed, intervalMs, missed })
}
