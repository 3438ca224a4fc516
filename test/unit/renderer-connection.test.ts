// The renderer's connection layer: the token from the address, the page's end of the engine's
// MessagePort (engine/api's port transport over a DOM port, against the engine's end in Electron's
// shape and its RPC server), and the WebSocket connect with its plain-words failures.
import { describe, expect, it, vi } from 'vitest'
import type { RpcBackend } from '../../engine/api/backend.ts'
import { RpcClient } from '../../engine/api/client.ts'
import { serveRpc } from '../../engine/api/server.ts'
import { domPortTransport, portTransport, type PortLike } from '../../engine/api/transports/port.ts'
import {
  ConnectError,
  connectBrowser,
  MESSAGES,
  rpcUrl,
  takeToken,
  TOKEN_KEY,
  type BrowserConnectOptions,
} from '../../renderer/connection/browser.ts'

function memoryStore() {
  const m = new Map<string, string>()
  return {
    getItem: (k: string) => m.get(k) ?? null,
    setItem: (k: string, v: string) => void m.set(k, v),
    removeItem: (k: string) => void m.delete(k),
    map: m,
  }
}

describe('token from the address', () => {
  it('takes #token=…, removes it from the address bar and keeps it for the tab', () => {
    const store = memoryStore()
    const replaceState = vi.fn()
    const token = takeToken(
      { hash: '#token=AbC_123-xyz', pathname: '/', search: '' },
      { replaceState, state: null },
      store,
    )
    expect(token).toBe('AbC_123-xyz')
    expect(replaceState).toHaveBeenCalledWith(null, '', '/')
    expect(store.map.get(TOKEN_KEY)).toBe('AbC_123-xyz')
  })

  it('keeps the rest of the fragment and falls back to the stored token', () => {
    const store = memoryStore()
    store.setItem(TOKEN_KEY, 'remembered-token')
    const replaceState = vi.fn()
    expect(takeToken({ hash: '', pathname: '/', search: '' }, { replaceState, state: null }, store)).toBe(
      'remembered-token',
    )
    expect(replaceState).not.toHaveBeenCalled()
    takeToken(
      { hash: '#token=t0ken-value&x=1', pathname: '/app/', search: '?a' },
      { replaceState, state: null },
      store,
    )
    expect(replaceState).toHaveBeenCalledWith(null, '', '/app/?a#x=1')
  })

  it('derives the WebSocket address from the page', () => {
    expect(rpcUrl({ protocol: 'http:', host: '127.0.0.1:8080' })).toBe('ws://127.0.0.1:8080/rpc')
    expect(rpcUrl({ protocol: 'https:', host: 'vm.example' })).toBe('wss://vm.example/rpc')
  })
})

/** The engine's side of a DOM MessageChannel, shaped like Electron's MessagePortMain. */
function engineSide(port: MessagePort): PortLike {
  return {
    postMessage: (m) => port.postMessage(m),
    on: ((event: string, listener: (e?: { data: unknown }) => void) => {
      if (event === 'message') port.addEventListener('message', (e) => listener({ data: e.data }))
      else port.addEventListener('close', () => listener())
    }) as PortLike['on'],
    start: () => port.start(),
    close: () => port.close(),
  }
}

const vm = {
  id: '11111111-1111-4111-8111-111111111111',
  kind: 'vm' as const,
  name: 'web',
  state: 'running' as const,
  cpus: 1,
  memoryMiB: 256,
  firmware: 'bios' as const,
}

function echoBackend(): RpcBackend {
  return {
    handlers: { 'vm.list': async () => [vm] } as unknown as RpcBackend['handlers'],
    onEvent: () => ({ dispose: () => undefined }),
    openStream: async (_kind, _vm, sink) => ({
      write: (bytes) => sink.data(Uint8Array.from(bytes, (b) => b ^ 0xff)),
      close: () => undefined,
    }),
  }
}

describe('the page’s end of the engine’s MessagePort', () => {
  it('carries RPC calls and stream bytes to the engine’s port transport and back', async () => {
    const { port1, port2 } = new MessageChannel()
    serveRpc(portTransport(engineSide(port2)), echoBackend())
    const client = new RpcClient(domPortTransport(port1))
    expect(await client.call('vm.list', {})).toEqual([vm])
    const stream = await client.openStream('display', 'web')
    const got = new Promise<Uint8Array>((resolve) => stream.onData(resolve))
    stream.write(Uint8Array.of(1, 2, 3))
    expect([...(await got)]).toEqual([0xfe, 0xfd, 0xfc])
    client.close()
    port2.close()
  })

  it('moves a whole frame’s buffer instead of copying it', () => {
    const posted: Array<{ message: unknown; transfer: ArrayBuffer[] }> = []
    const port = {
      postMessage: (message: unknown, transfer: ArrayBuffer[]) => posted.push({ message, transfer }),
      addEventListener: () => undefined,
      start: () => undefined,
      close: () => undefined,
    }
    const t = domPortTransport(port)
    const whole = new Uint8Array(8)
    t.sendBinary(whole)
    const part = new Uint8Array(16).subarray(4, 8)
    t.sendBinary(part)
    t.send({ type: 'request', id: 1, method: 'vm.list' })
    expect(posted[0]).toEqual({ message: { t: 'b', b: whole }, transfer: [whole.buffer] })
    expect(posted[1]?.transfer).toEqual([])
    expect(posted[2]).toEqual({
      message: { t: 'm', m: { type: 'request', id: 1, method: 'vm.list' } },
      transfer: [],
    })
  })

  it('never hands the engine’s end a transfer list (Electron’s ports move only ports)', () => {
    const posted: unknown[][] = []
    const port: PortLike = {
      postMessage: (...args: unknown[]) => void posted.push(args),
      on: () => undefined,
    }
    const t = portTransport(port)
    t.sendBinary(new Uint8Array(8))
    t.send({ type: 'request', id: 1, method: 'vm.list' })
    expect(posted.map((args) => args.length)).toEqual([1, 1])
  })
})

/** A WebSocket that opens or fails when the test says so. */
function fakeSockets() {
  const made: Array<{ url: string; protocols: string[]; fire(type: 'open' | 'close'): void }> = []
  const makeSocket: NonNullable<BrowserConnectOptions['makeSocket']> = (url, protocols) => {
    const listeners = new Map<string, Array<(ev: unknown) => void>>()
    const ws = {
      binaryType: 'blob',
      readyState: 0,
      send: vi.fn(),
      close: vi.fn(),
      addEventListener: (type: string, l: (ev: unknown) => void) => {
        listeners.set(type, [...(listeners.get(type) ?? []), l])
      },
    }
    made.push({
      url,
      protocols,
      fire: (type) => {
        ws.readyState = type === 'open' ? 1 : 3
        for (const l of listeners.get(type) ?? []) l({})
      },
    })
    return ws as unknown as ReturnType<NonNullable<BrowserConnectOptions['makeSocket']>>
  }
  return { made, makeSocket }
}

describe('connecting from a browser', () => {
  it('offers the token as the vireo.token subprotocol and resolves once the socket opens', async () => {
    const { made, makeSocket } = fakeSockets()
    const pending = connectBrowser('good-token-123', { url: 'ws://h/rpc', makeSocket })
    await Promise.resolve()
    expect(made[0]).toMatchObject({ url: 'ws://h/rpc', protocols: ['vireo.token.good-token-123'] })
    made[0]?.fire('open')
    expect(await pending).toBeInstanceOf(RpcClient)
  })

  it('says plainly that the token was not accepted when the upgrade fails and sign-in says 401', async () => {
    const { made, makeSocket } = fakeSockets()
    const fetchFn = vi.fn(async () => new Response(null, { status: 401 }))
    const pending = connectBrowser('wrong-token-123', { url: 'ws://h/rpc', makeSocket, fetch: fetchFn })
    await Promise.resolve()
    made[0]?.fire('close')
    const err = await pending.catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ConnectError)
    expect(err).toMatchObject({ kind: 'unauthorized', message: MESSAGES.unauthorized })
    expect((err as Error).message).toMatch(/^The token was not accepted/)
    expect(fetchFn).toHaveBeenCalledWith('/sign-in', expect.objectContaining({ method: 'POST' }))
  })

  it('tells an unreachable host, a refused origin and a missing token apart', async () => {
    for (const [fetchFn, token, kind] of [
      [async () => Promise.reject(new TypeError('Failed to fetch')), 'some-token-1', 'unreachable'],
      [async () => new Response(null, { status: 204 }), 'some-token-1', 'refused'],
      [async () => new Response(null, { status: 401 }), null, 'sign-in'],
    ] as const) {
      const { made, makeSocket } = fakeSockets()
      const pending = connectBrowser(token, { url: 'ws://h/rpc', makeSocket, fetch: fetchFn as typeof fetch })
      await Promise.resolve()
      made[0]?.fire('close')
      await expect(pending).rejects.toMatchObject({ kind })
    }
  })

  it('refuses a token that cannot be one without opening a socket', async () => {
    const { made, makeSocket } = fakeSockets()
    await expect(connectBrowser('bad token!', { makeSocket })).rejects.toMatchObject({ kind: 'unauthorized' })
    expect(made).toHaveLength(0)
  })
})
