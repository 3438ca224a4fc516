// The RPC contract over every transport: validation at both ends, errors, events and streams.
import { MessageChannel, type MessagePort } from 'node:worker_threads'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket, { WebSocketServer } from 'ws'
import type { ByteStream, Handlers, RpcBackend, StreamSink } from '../../engine/api/backend.ts'
import { RpcClient } from '../../engine/api/client.ts'
import { VireoError } from '../../engine/api/errors.ts'
import type { EventData, EventName, VmSummary } from '../../engine/api/rpc.ts'
import { serveRpc } from '../../engine/api/server.ts'
import { Listeners, type Transport } from '../../engine/api/transport.ts'
import { inProcessPair } from '../../engine/api/transports/in-process.ts'
import {
  domPortTransport,
  portTransport,
  type DomPort,
  type PortLike,
} from '../../engine/api/transports/port.ts'
import { webSocketTransport, type WebSocketLike } from '../../engine/api/transports/websocket.ts'

const vm: VmSummary = {
  id: '1b4e28ba-2fa1-41d2-883f-0016d3cca427',
  kind: 'vm',
  name: 'a, "b"',
  state: 'running',
  cpus: 1,
  memoryMiB: 256,
  firmware: 'bios',
}

/** A backend with canned answers: the RPC layer is under test here, not the engine. */
function fakeBackend() {
  const events = new Listeners<{ event: EventName; data: unknown }>()
  const written: Uint8Array[] = []
  let sink: StreamSink | null = null
  const handlers = {
    'vm.list': async () => [vm],
    'vm.info': async ({ vm: ref }: { vm: string }) => {
      throw new VireoError('not_found', `there is no VM named "${ref}"`)
    },
    'host.info': async () => ({ bogus: true }),
  } as unknown as Handlers
  const backend: RpcBackend = {
    handlers,
    onEvent: (l) => events.add(({ event, data }) => l(event, data as never)),
    openStream: async (_kind, _vm, s): Promise<ByteStream> => {
      sink = s
      s.data(new TextEncoder().encode('history;'))
      return { write: (b) => written.push(b), close: () => undefined }
    },
  }
  return {
    backend,
    written,
    emit: <E extends EventName>(event: E, data: EventData<E>) => events.emit({ event, data }),
    sink: () => sink!,
  }
}

function nodePort(port: MessagePort): PortLike {
  // Node's MessagePort hands the data itself; Electron's hands an event with .data.
  return {
    postMessage: (m) => port.postMessage(m),
    on: ((ev: 'message' | 'close', l: (e?: { data: unknown }) => void) =>
      ev === 'message'
        ? port.on('message', (data) => l({ data }))
        : port.on('close', () => l())) as PortLike['on'],
    start: () => port.start(),
    close: () => port.close(),
  }
}

const cleanups: (() => void)[] = []
afterEach(() => {
  for (const c of cleanups.splice(0)) c()
})

async function wsPair(): Promise<[Transport, Transport]> {
  const http = createServer()
  const wss = new WebSocketServer({ server: http })
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r))
  const serverSide = new Promise<Transport>((r) =>
    wss.on('connection', (ws) => r(webSocketTransport(ws as unknown as WebSocketLike))),
  )
  const client = new WebSocket(`ws://127.0.0.1:${(http.address() as AddressInfo).port}/`)
  await new Promise((r) => client.once('open', r))
  cleanups.push(() => {
    client.close()
    wss.close()
    http.close()
  })
  return [await serverSide, webSocketTransport(client as unknown as WebSocketLike)]
}

const transports: [string, () => Promise<[Transport, Transport]>][] = [
  ['in-process', async () => inProcessPair()],
  [
    'MessagePort',
    async () => {
      const { port1, port2 } = new MessageChannel()
      cleanups.push(() => port1.close())
      return [portTransport(nodePort(port1)), portTransport(nodePort(port2))]
    },
  ],
  [
    // Both ends as the page holds its end, so frames move. Node's MessagePort is an EventTarget that
    // hands MessageEvents, though its types name only the generic Event.
    'DOM MessagePort',
    async () => {
      const { port1, port2 } = new MessageChannel()
      cleanups.push(() => port1.close())
      return [domPortTransport(port1 as unknown as DomPort), domPortTransport(port2 as unknown as DomPort)]
    },
  ],
  ['WebSocket', wsPair],
]

describe.each(transports)('RPC over %s', (_name, make) => {
  it('answers a valid request with a validated result', async () => {
    const [s, c] = await make()
    serveRpc(s, fakeBackend().backend)
    const client = new RpcClient(c)
    expect(await client.call('vm.list', {})).toEqual([vm])
  })

  it('rejects invalid params with a clear error, and survives', async () => {
    const [s, c] = await make()
    serveRpc(s, fakeBackend().backend)
    const client = new RpcClient(c)
    // @ts-expect-error deliberately wrong params
    await expect(client.call('vm.info', { vm: 42 })).rejects.toMatchObject({ code: 'invalid_request' })
    await expect(client.call('vm.info', { vm: 'x' })).rejects.toMatchObject({
      code: 'not_found',
      message: 'there is no VM named "x"',
    })
    expect(await client.call('vm.list', {})).toHaveLength(1)
  })

  it('answers garbage and unknown methods with errors instead of crashing', async () => {
    const [s, c] = await make()
    serveRpc(s, fakeBackend().backend)
    const replies: unknown[] = []
    c.onMessage((m) => replies.push(m))
    c.send({ hello: 'world' })
    c.send({ type: 'request', id: 7, method: 'vm.explode', params: {} })
    await new Promise((r) => setTimeout(r, 50))
    expect(replies).toEqual([
      {
        type: 'response',
        id: -1,
        error: {
          code: 'invalid_request',
          message:
            'this message is not a request; send {"type": "request", "id": N, "method": NAME, "params": {…}}',
        },
      },
      {
        type: 'response',
        id: 7,
        error: {
          code: 'invalid_request',
          message: 'there is no method "vm.explode"; the methods are listed in engine/api/rpc.ts',
        },
      },
    ])
  })

  it('refuses a malformed result on the client side', async () => {
    const [s, c] = await make()
    serveRpc(s, fakeBackend().backend)
    await expect(new RpcClient(c).call('host.info', {})).rejects.toMatchObject({ code: 'internal' })
  })

  it('delivers events, validated', async () => {
    const [s, c] = await make()
    const fake = fakeBackend()
    serveRpc(s, fake.backend)
    const client = new RpcClient(c)
    const got = new Promise((r) => client.on('vm.state', r))
    await client.call('vm.list', {})
    fake.emit('vm.state', { id: vm.id, name: vm.name, state: 'paused' })
    expect(await got).toEqual({ id: vm.id, name: vm.name, state: 'paused' })
  })

  it('carries stream bytes both ways on binary frames, history first', async () => {
    const [s, c] = await make()
    const fake = fakeBackend()
    serveRpc(s, fake.backend)
    const client = new RpcClient(c)
    const stream = await client.openStream('console', vm.name)
    const chunks: string[] = []
    const ended = new Promise((r) => stream.onEnd(r))
    stream.onData((b) => chunks.push(new TextDecoder().decode(b)))
    fake.sink().data(new TextEncoder().encode('live'))
    stream.write('typed\n')
    await new Promise((r) => setTimeout(r, 50))
    expect(chunks.join('')).toBe('history;live')
    expect(new TextDecoder().decode(fake.written[0])).toBe('typed\n')
    fake.sink().end('the VM stopped')
    expect(await ended).toBe('the VM stopped')
  })

  it('has the history in hand when the stream opens, so a client can tell it from what follows', async () => {
    // `vireo console --send` counts only output after its send: history arriving late would count.
    const [s, c] = await make()
    const fake = fakeBackend()
    serveRpc(s, fake.backend)
    const client = new RpcClient(c)
    const stream = await client.openStream('console', vm.name)
    const chunks: string[] = []
    stream.onData((b) => chunks.push(new TextDecoder().decode(b)))
    expect(chunks).toEqual(['history;'])
  })

  it('sends what a stream gives in one turn as one frame, copied as it comes, all of it before the end', async () => {
    const [s, c] = await make()
    const fake = fakeBackend()
    serveRpc(s, fake.backend)
    const client = new RpcClient(c)
    const stream = await client.openStream('display', vm.name)
    const chunks: string[] = []
    stream.onData((b) => chunks.push(new TextDecoder().decode(b)))
    await new Promise((r) => setTimeout(r, 20))
    chunks.length = 0
    // One buffer for every write, as the display's socket reads do: each must be copied at once.
    const reused = new Uint8Array(1)
    for (const part of 'abc') {
      reused[0] = part.charCodeAt(0)
      fake.sink().data(reused)
    }
    await new Promise((r) => setTimeout(r, 20))
    expect(chunks).toEqual(['abc'])
    const ended = new Promise((r) => stream.onEnd(r))
    fake.sink().data(new TextEncoder().encode('last words'))
    fake.sink().end('the VM stopped')
    await ended
    expect(chunks).toEqual(['abc', 'last words'])
  })
})
