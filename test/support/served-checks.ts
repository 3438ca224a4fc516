// What the hostile-input tests check against a served host after each attack: an authenticated RPC
// client, and that the host still answers the page and the RPC promptly.
import { expect } from 'vitest'
import WebSocket from 'ws'
import { RpcClient } from '../../engine/api/client.ts'
import { webSocketTransport, type WebSocketLike } from '../../engine/api/transports/websocket.ts'
import { probe } from './raw-conn.ts'
import type { ServedHost } from './serve.ts'

export interface Rpc {
  call: RpcClient['call']
  /** Resolves once the connection is gone on this side. */
  close(): Promise<void>
}

export async function rpc(host: ServedHost): Promise<Rpc> {
  const ws = new WebSocket(`ws://127.0.0.1:${host.port}/rpc`, [`vireo.token.${host.token}`])
  await new Promise((r, j) => ws.once('open', r).once('error', j))
  const client = new RpcClient(webSocketTransport(ws as unknown as WebSocketLike))
  const gone = new Promise<void>((r) => ws.once('close', () => r()))
  return { call: (m, p) => client.call(m, p), close: () => (client.close(), gone) }
}

/** The page and an authenticated RPC, both answered within `withinMs`. */
export async function stillServes(host: ServedHost, withinMs = 3000): Promise<void> {
  const started = Date.now()
  const page = await probe({
    to: host.port,
    send: `GET / HTTP/1.1\r\nHost: 127.0.0.1:${host.port}\r\nConnection: close\r\n\r\n`,
  })
  // The page, or where the renderer is not built (a fresh checkout), the sentence that says so.
  if (page.status !== 200)
    expect({ status: page.status, body: page.body }).toEqual({
      status: 503,
      body: 'the renderer is not built (npm run build:renderer); the CLI works meanwhile',
    })
  const client = await rpc(host)
  expect(await client.call('vm.list', {})).toEqual([])
  await client.close()
  expect(Date.now() - started).toBeLessThan(withinMs)
}
