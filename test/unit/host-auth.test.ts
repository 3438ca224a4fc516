// The headless host's door: token on the WebSocket upgrade, Host and Origin checked, unix socket 0600.
import { mkdtempSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { startHost, type RunningHost } from '../../engine/host/host.ts'
import { openUnixSocket } from '../../engine/cli/connect.ts'
import { RpcClient } from '../../engine/api/client.ts'
import { webSocketTransport, type WebSocketLike } from '../../engine/api/transports/websocket.ts'

let host: RunningHost
const dataDir = mkdtempSync(join(tmpdir(), 'vireo-auth-'))

beforeAll(async () => {
  host = await startHost({ dataDir, tcp: { address: '127.0.0.1', port: 0 } })
})
afterAll(async () => {
  await host.stop()
})

function attempt(opts: { protocols?: string[]; headers?: Record<string, string> }): Promise<number | 'open'> {
  return new Promise((resolvePromise) => {
    const ws = new WebSocket(`ws://127.0.0.1:${host.port}/rpc`, opts.protocols ?? [], {
      headers: opts.headers ?? {},
    })
    ws.on('open', () => {
      ws.close()
      resolvePromise('open')
    })
    ws.on('unexpected-response', (_req, res) => resolvePromise(res.statusCode ?? 0))
    ws.on('error', () => undefined)
  })
}

describe('vireo serve', () => {
  it('prints a URL with the token in the fragment, on loopback', () => {
    expect(host.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${host.port}/#token=[A-Za-z0-9_-]{32,}$`))
  })

  it('keeps the token file private', () => {
    expect(statSync(join(dataDir, 'token')).mode & 0o777).toBe(0o600)
    expect(statSync(host.engine.layout.hostSocket).mode & 0o777).toBe(0o600)
  })

  it('refuses a WebSocket without a token, or with a wrong one', async () => {
    expect(await attempt({})).toBe(401)
    expect(await attempt({ protocols: ['vireo.token.wrong-token-wrong-token-wrong-token'] })).toBe(401)
    expect(await attempt({ headers: { Cookie: 'vireo_token=nope' } })).toBe(401)
  })

  it('accepts the token as a subprotocol or a cookie, and serves the RPC', async () => {
    expect(await attempt({ protocols: [`vireo.token.${host.token}`] })).toBe('open')
    expect(await attempt({ headers: { Cookie: `vireo_token=${host.token}` } })).toBe('open')
    const ws = new WebSocket(`ws://127.0.0.1:${host.port}/rpc`, [`vireo.token.${host.token}`])
    await new Promise((r) => ws.once('open', r))
    const client = new RpcClient(webSocketTransport(ws as unknown as WebSocketLike))
    expect(await client.call('vm.list', {})).toEqual([])
    client.close()
  })

  it('refuses a foreign Origin and a rebound Host name even with the token', async () => {
    const protocols = [`vireo.token.${host.token}`]
    expect(await attempt({ protocols, headers: { Origin: 'http://evil.example' } })).toBe(403)
    expect(await attempt({ protocols, headers: { Host: `evil.example:${host.port}` } })).toBe(421)
    expect(
      await attempt({
        protocols,
        headers: { Origin: `http://127.0.0.1:${host.port}`, Host: `127.0.0.1:${host.port}` },
      }),
    ).toBe('open')
  })

  it('serves the CLI on its unix socket without a token', async () => {
    const client = await openUnixSocket(host.engine.layout.hostSocket)
    const info = await client.call('host.info', {})
    expect(info.pid).toBe(process.pid)
    expect(info.dataDir).toBe(dataDir)
    client.close()
  })

  it('lets only one engine own a data dir', async () => {
    await expect(startHost({ dataDir })).rejects.toThrow(/owns/)
  })
})

describe('HTTP side of vireo serve', () => {
  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(`http://127.0.0.1:${host.port}${path}`, { headers, redirect: 'manual' })

  it('sends a strict CSP and refuses rebound Host names', async () => {
    const res = await get('/')
    expect(res.headers.get('content-security-policy')).toMatch(/script-src 'self'/)
    const { request } = await import('node:http')
    const status = await new Promise<number>((r) => {
      const req = request(
        { host: '127.0.0.1', port: host.port, path: '/', headers: { Host: 'evil.example' } },
        (res) => r(res.statusCode ?? 0),
      )
      req.end()
    })
    expect(status).toBe(421)
  })

  it('never serves a file outside the renderer build', async () => {
    // Raw requests: fetch() would normalise the dot segments away before they reach the host.
    const { request } = await import('node:http')
    const rawStatus = (path: string) =>
      new Promise<number>((r) => {
        const req = request({ host: '127.0.0.1', port: host.port, path }, (res) => {
          res.resume()
          r(res.statusCode ?? 0)
        })
        req.end()
      })
    for (const path of ['/../../package.json', '/%2e%2e/%2e%2e/package.json', '/..%2f..%2fpackage.json']) {
      expect([400, 404]).toContain(await rawStatus(path))
    }
  })

  it('turns a correct token into an HttpOnly cookie, and refuses a wrong one', async () => {
    const post = (token: string) =>
      fetch(`http://127.0.0.1:${host.port}/sign-in`, { method: 'POST', body: JSON.stringify({ token }) })
    expect((await post('wrong')).status).toBe(401)
    const ok = await post(host.token!)
    expect(ok.status).toBe(204)
    expect(ok.headers.get('set-cookie')).toMatch(/^vireo_token=.+; HttpOnly; SameSite=Strict/)
  })
})
