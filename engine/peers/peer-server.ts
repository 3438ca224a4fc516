// The serve port carries two kinds of client. A browser speaks plain HTTP (sign-in, the renderer,
// RPC over WebSocket with the token). Another Vireo host opens TLS-PSK with the key of its pairing;
// the first byte of a TLS connection is a handshake record (0x16), which no HTTP request starts
// with, so one port serves both and a host's control traffic needs no port of its own.
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http'
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net'
import { TLSSocket, type TLSSocketOptions, type TlsOptions } from 'node:tls'
import { WebSocketServer, type WebSocket } from 'ws'
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
  log: (line: string) => void
}

export interface PeerServer {
  server: NetServer
  /** Open peer sessions, closed when the host stops. */
  sockets: Set<WebSocket>
}

export function createPeerServer(opts: PeerServerOptions): PeerServer {
  const peerOf = new WeakMap<Socket, Peer>()
  const sockets = new Set<WebSocket>()
  const peerHttp = createHttpServer((req, res) => {
    const peer = peerOf.get(req.socket)
    if (!peer) return void res.writeHead(401).end()
    opts.onPeerRequest(req, res, peer)
  })
  const wss = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024 * 1024 })
  peerHttp.on('upgrade', (req, socket, head) => {
    const peer = peerOf.get(req.socket)
    if (!peer || req.url !== PEER_RPC_PATH) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
      return
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws)
      ws.on('close', () => sockets.delete(ws))
      keepAlive(ws)
      opts.onPeerSocket(ws, peer)
    })
  })

  const server = createNetServer((socket) => {
    socket.once('data', (first) => {
      socket.pause()
      socket.unshift(first)
      if (first[0] !== TLS_HANDSHAKE) {
        opts.http.emit('connection', socket)
        socket.resume()
        return
      }
      const who = socket.remoteAddress ?? '?'
      let identity: string | null = null
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
        if (!peerOf.has(tlsSocket)) tlsSocket.destroy()
        else peerHttp.emit('connection', tlsSocket)
      })
      tlsSocket.on('error', (err) => {
        opts.log(
          identity && !opts.trust.byHostId(identity)
            ? `refused a host connection from ${who}: host ${identity} is not paired with this one`
            : `refused a host connection from ${who}: ${err.message}`,
        )
        tlsSocket.destroy()
      })
    })
    socket.on('error', () => socket.destroy())
  })
  return { server, sockets }
}

/**
 * TCP keepalive here is two hours: a cut link would leave both ends waiting. Pings every 5 s and a
 * socket that misses three is closed, so a migration's other side learns within 15 s.
 */
export function keepAlive(ws: WebSocket, intervalMs = 5_000, missed = 3): void {
  let lastPong = Date.now()
  ws.on('pong', () => (lastPong = Date.now()))
  const timer = setInterval(() => {
    if (Date.now() - lastPong > intervalMs * missed) ws.terminate()
    else ws.ping()
  }, intervalMs)
  timer.unref()
  ws.on('close', () => clearInterval(timer))
}
