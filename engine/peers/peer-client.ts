// One engine's connection to a paired host: TLS-PSK to its serve port, the same RPC as every other
// client over a WebSocket inside it, and plain HTTP requests inside TLS for file uploads.
import { request, type ClientRequest, type IncomingMessage } from 'node:http'
import { connect as tlsConnect, type TLSSocket } from 'node:tls'
import WebSocket from 'ws'
import { RpcClient } from '../api/client.ts'
import { VireoError } from '../api/errors.ts'
import { webSocketTransport, type WebSocketLike } from '../api/transports/websocket.ts'
import { channelKey, PSK_TLS } from './peer-keys.ts'
import { keepAlive, PEER_RPC_PATH } from './peer-server.ts'

export interface PeerAddress {
  address: string
  port: number
  /** The pairing key, hex. */
  key: string
}

function hostPart(address: string): string {
  return address.includes(':') ? `[${address}]` : address
}

function tlsTo(peer: PeerAddress, selfId: string): TLSSocket {
  return tlsConnect({
    host: peer.address,
    port: peer.port,
    ...PSK_TLS,
    // The key is the authentication; there is no certificate to check.
    checkServerIdentity: () => undefined,
    pskCallback: () => ({ identity: selfId, psk: channelKey(peer.key) }),
  })
}

export async function connectPeer(peer: PeerAddress, selfId: string, timeoutMs = 10_000): Promise<RpcClient> {
  const ws = new WebSocket(`ws://${hostPart(peer.address)}:${peer.port}${PEER_RPC_PATH}`, {
    createConnection: () => tlsTo(peer, selfId),
    handshakeTimeout: timeoutMs,
  })
  await new Promise<void>((resolvePromise, reject) => {
    ws.once('open', () => resolvePromise())
    ws.once('error', (err) =>
      reject(
        new VireoError(
          'unavailable',
          `cannot reach the host at ${peer.address}:${peer.port} (${err.message}); is it serving, and still paired with this one?`,
        ),
      ),
    )
  })
  keepAlive(ws)
  return new RpcClient(webSocketTransport(ws as unknown as WebSocketLike))
}

/** An HTTP request to the peer inside TLS-PSK; the caller writes the body and ends it. */
export function peerRequest(
  peer: PeerAddress,
  selfId: string,
  method: string,
  path: string,
  headers: Record<string, string>,
): { req: ClientRequest; response: Promise<IncomingMessage> } {
  const req = request({
    method,
    path,
    host: peer.address,
    port: peer.port,
    headers,
    createConnection: () => tlsTo(peer, selfId),
  })
  const response = new Promise<IncomingMessage>((resolvePromise, reject) => {
    req.once('response', resolvePromise)
    req.once('error', reject)
  })
  return { req, response }
}
