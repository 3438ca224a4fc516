// The WebSocket door of a host's HTTP server: the RPC on /rpc (with the token on TCP; the unix
// socket's mode is its authentication) and, on TCP, the pairing of another host. Every upgraded
// socket is watched for liveness (engine/host/ws-liveness.ts).
import type { IncomingMessage, Server } from 'node:http'
import type { Duplex } from 'node:stream'
import { WebSocketServer, type WebSocket } from 'ws'
import { serveRpc } from '../api/server.ts'
import { webSocketTransport, type WebSocketLike } from '../api/transports/websocket.ts'
import type { Engine } from '../engine.ts'
import { PAIR_PATH } from '../peers/pairing.ts'
import type { ThrottledLog } from './conn-guard.ts'
import type { ConnectionLimits } from './conn-limits.ts'
import { sayAndClose } from './refusal.ts'
import { tokenFromUpgrade, tokenMatches } from './token.ts'
import { watchLiveness } from './ws-liveness.ts'

export const RPC_PATH = '/rpc'

/** Why an upgrade is refused: the status, and the sentence the client reads. */
export interface UpgradeRefusal {
  status: 401 | 403 | 404 | 421
  sentence: string
}

export interface UpgradeOptions {
  engine: Engine
  limits: ConnectionLimits
  /** Open RPC sockets, closed when the host stops. */
  sockets: Set<WebSocket>
  /** null lets the upgrade in; the unix socket lets every one in. */
  check: (req: IncomingMessage) => UpgradeRefusal | null
  /** Pairing is offered on TCP only. */
  pairing: boolean
  /** Refusals go to the log at most once per reason and window: a flood does not flood it. */
  log: ThrottledLog
}

/** An answer to an upgrade that is not let in, then the socket closed once it has left. */
export function refuseUpgrade(socket: Duplex, r: UpgradeRefusal): void {
  sayAndClose(socket, r.status, r.sentence)
}

export function attachWebSocket(http: Server, o: UpgradeOptions): void {
  const liveness = { firstMs: o.limits.upgradeMs, intervalMs: o.limits.pingMs, missed: 2 }
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: o.limits.maxMessageBytes,
    handleProtocols: (protocols) => {
      for (const p of protocols) if (p.startsWith('vireo.token.')) return p
      return false
    },
  })
  const pairing = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 })
  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const who = req.socket.remoteAddress ?? 'a local client'
    const path = (req.url ?? '').split('?')[0]
    const dead = (why: string) =>
      o.log.say(`dead WebSocket: ${why}`, `closed a WebSocket from ${who}: ${why}`)
    // Pairing needs no token (the code is its secret), and no web page may try codes: browsers
    // always send Origin on a WebSocket, another Vireo host never does.
    if (o.pairing && path === PAIR_PATH) {
      if (req.headers.origin !== undefined || !o.engine.peers.listening) {
        o.log.say('pairing from a page', `refused a pairing from ${who}: it came from a web page`)
        return refuseUpgrade(socket, {
          status: 403,
          sentence: 'pairing is for other Vireo hosts, not web pages; run vireo remote add on the other host',
        })
      }
      pairing.handleUpgrade(req, socket, head, (ws) => {
        watchLiveness(ws, liveness, dead)
        o.engine.peers.pairing.handle(ws, who)
      })
      return
    }
    if (path !== RPC_PATH) {
      o.log.say('upgrade path', `refused a WebSocket from ${who}: no WebSocket at ${path}`)
      return refuseUpgrade(socket, {
        status: 404,
        sentence: `there is no WebSocket at ${path}; the RPC is at ${RPC_PATH}`,
      })
    }
    const refusal = o.check(req)
    if (refusal) return refuseUpgrade(socket, refusal)
    wss.handleUpgrade(req, socket, head, (ws) => {
      o.sockets.add(ws)
      ws.on('close', () => o.sockets.delete(ws))
      watchLiveness(ws, liveness, dead)
      serveRpc(webSocketTransport(ws as unknown as WebSocketLike), o.engine)
    })
  })
}

/** Token, and Host/Origin against DNS rebinding: a page from another origin never gets in. */
export function checkBrowserUpgrade(
  req: IncomingMessage,
  token: string,
  port: number,
  log: ThrottledLog,
): UpgradeRefusal | null {
  const host = req.headers.host ?? ''
  const origin = req.headers.origin
  const who = `${req.socket.remoteAddress ?? '?'}`
  if (!tokenMatches(token, tokenFromUpgrade(req.headers))) {
    log.say('token', `refused a connection from ${who}: missing or wrong token`)
    return {
      status: 401,
      sentence: 'the token is missing or wrong; sign in with the URL vireo serve printed',
    }
  }
  if (!hostHeaderAllowed(host, port)) {
    log.say('host header', `refused a connection from ${who}: unexpected Host header "${host}"`)
    return {
      status: 421,
      sentence: `this host does not answer to the name "${host}"; use its IP address or localhost and port ${port}`,
    }
  }
  if (origin !== undefined && origin !== `http://${host}`) {
    log.say('origin', `refused a connection from ${who}: foreign Origin "${origin}"`)
    return {
      status: 403,
      sentence: `a page from ${origin} may not use this host; open the URL vireo serve printed`,
    }
  }
  return null
}

export function hostHeaderAllowed(host: string, port: number): boolean {
  const m = /^(\[[0-9a-f:.]+\]|[^:]+)(?::(\d+))?$/i.exec(host)
  if (!m) return false
  if (m[2] !== undefined && Number(m[2]) !== port) return false
  const name = (m[1] ?? '').toLowerCase()
  // Names that a rebinding attack cannot point elsewhere: IP literals and localhost.
  return name === 'localhost' || /^[\d.]+$/.test(name) || name.startsWith('[')
}
