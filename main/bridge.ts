// When another host owns the data dir (`vireo serve`, or a background host the CLI or a previous
// "keep running" started), a window's MessagePort is joined to that host's unix socket by a
// WebSocket. Nothing is interpreted on the way: JSON envelopes go through as envelopes, stream frames
// as the same bytes, and either side closing closes the other.
import { readFileSync } from 'node:fs'
import WebSocket from 'ws'
import type { Disposable } from '../engine/api/transport.ts'
import { portTransport, type PortLike } from '../engine/api/transports/port.ts'
import { webSocketTransport, type WebSocketLike } from '../engine/api/transports/websocket.ts'
import { dataDirLayout } from '../engine/util/data-dir.ts'

/** The owner's socket as its host.json records it, else where a host of this data dir puts it. */
export function hostSocketPath(dataDir: string, env: NodeJS.ProcessEnv = process.env): string {
  const layout = dataDirLayout(dataDir, env)
  try {
    const record = JSON.parse(readFileSync(layout.hostJson, 'utf8')) as { socket?: unknown }
    if (typeof record.socket === 'string' && record.socket) return record.socket
  } catch {
    /* no host.json (yet): the default place */
  }
  return layout.hostSocket
}

/** Opens a WebSocket to a host's unix socket; rejects if nothing listens there. */
export function openHostSocket(socketPath: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws+unix:${socketPath}:/rpc`, { perMessageDeflate: false })
    ws.once('open', () => {
      ws.removeAllListeners('error')
      ws.on('error', () => undefined) // followed by close, which the transport handles
      resolve(ws)
    })
    ws.once('error', (err) => reject(err))
  })
}

/** Joins `port` to an open WebSocket both ways, until either closes. */
export function bridgePort(port: PortLike, ws: WebSocket): Disposable {
  const a = portTransport(port)
  const b = webSocketTransport(ws as unknown as WebSocketLike)
  a.onMessage((m) => b.send(m))
  b.onMessage((m) => a.send(m))
  a.onBinary((frame) => b.sendBinary(frame))
  b.onBinary((frame) => a.sendBinary(frame))
  a.onClose(() => b.close())
  b.onClose(() => a.close())
  return { dispose: () => a.close() }
}

/** Connects `port` to the host listening on `socketPath`. */
export async function bridgePortToHost(port: PortLike, socketPath: string): Promise<Disposable> {
  // The port's messages wait in its queue until portTransport starts it, after the socket is open.
  const ws = await openHostSocket(socketPath)
  return bridgePort(port, ws)
}
