// Main's side of the engine, with electron's utilityProcess and MessageChannelMain stood in for by
// the real utility entry run in this process and worker_threads ports in Electron's shape: a window
// gets a port that speaks RPC to the app's own engine, or — when another host owns the data dir —
// a port bridged to that host's unix socket, frames unchanged.
import { EventEmitter } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MessageChannel, type MessagePort } from 'node:worker_threads'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { WebSocketServer } from 'ws'
import { RpcClient } from '../../engine/api/client.ts'
import { portTransport, type PortLike } from '../../engine/api/transports/port.ts'
import { startHost } from '../../engine/host/host.ts'
import { runUtility, type ParentPortEvent } from '../../engine/host/utility-main.ts'

/** A worker_threads port in the shape of Electron's MessagePortMain. */
function electronPort(port: MessagePort): PortLike & { raw: MessagePort } {
  return {
    raw: port,
    postMessage: (m) => port.postMessage(m),
    on: ((event: 'message' | 'close', listener: (e?: { data: unknown }) => void) =>
      event === 'message'
        ? port.on('message', (data: unknown) => listener({ data }))
        : port.on('close', () => listener())) as PortLike['on'],
    start: () => port.start(),
    close: () => port.close(),
  }
}

/** utilityProcess.fork: runs utility-main's handler here, behind a UtilityProcess-shaped object. */
const forks: Array<{ args: string[]; child: EventEmitter }> = []
function fork(_entry: string, args: string[]) {
  const child = Object.assign(new EventEmitter(), {
    pid: process.pid,
    listeners: [] as Array<(e: ParentPortEvent) => void>,
    postMessage(data: unknown, ports: PortLike[] = []) {
      queueMicrotask(() => {
        for (const l of child.listeners) l({ data, ports })
      })
    },
    kill: () => child.emit('exit', 9),
  })
  forks.push({ args, child })
  const dataDir = args[args.indexOf('--data-dir') + 1]!
  runUtility({
    dataDir,
    log: () => undefined,
    parentPort: {
      on: (_e, l) => child.listeners.push(l),
      postMessage: (m) => queueMicrotask(() => child.emit('message', m)),
    },
    exit: (code) => queueMicrotask(() => child.emit('exit', code)),
  })
  return child
}

vi.mock('electron', () => ({
  utilityProcess: { fork: (entry: string, args: string[]) => fork(entry, args) },
  MessageChannelMain: class {
    port1: PortLike
    port2: PortLike
    constructor() {
      const { port1, port2 } = new MessageChannel()
      this.port1 = electronPort(port1)
      this.port2 = electronPort(port2)
    }
  },
}))

const { EngineProcess } = await import('../../main/engine-process.ts')
const { bridgePortToHost } = await import('../../main/bridge.ts')

/** A WebContents that keeps the ports main posts to it. */
function fakeContents() {
  const ports: PortLike[] = []
  const contents = Object.assign(new EventEmitter(), {
    isDestroyed: () => false,
    postMessage: (channel: string, _message: unknown, transfer: PortLike[]) => {
      expect(channel).toBe('vireo:port')
      ports.push(...transfer)
    },
  })
  return { contents, ports }
}

const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
  forks.length = 0
})

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vireo-main-engine-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

describe('EngineProcess', () => {
  it('forks the engine on the data dir and hands a window a port that speaks RPC', async () => {
    const dataDir = tempDir()
    const engine = new EngineProcess({
      entry: '/app/engine/host/utility-main.ts',
      dataDir,
      log: () => undefined,
    })
    cleanups.push(() => engine.stop({ stopVms: false }))
    expect(await engine.start()).toBe('local')
    expect(forks[0]?.args).toEqual(['--data-dir', dataDir])

    const { contents, ports } = fakeContents()
    await engine.connectWindow(contents as never)
    expect(ports).toHaveLength(1)
    const client = new RpcClient(portTransport(ports[0]!))
    cleanups.push(() => client.close())
    expect(await client.call('vm.list', {})).toEqual([])
    expect(await engine.listVms()).toEqual([])
  })

  it('starts the engine again when it goes away, and hands every window a fresh port', async () => {
    const dataDir = tempDir()
    const engine = new EngineProcess({ entry: '/e', dataDir, log: () => undefined })
    cleanups.push(() => engine.stop({ stopVms: false }))
    await engine.start()
    const { contents, ports } = fakeContents()
    await engine.connectWindow(contents as never)
    // As `vireo host stop` would: the host stops and the utility process exits.
    const first = forks[0]!.child as EventEmitter & { postMessage(m: unknown): void }
    first.postMessage({ type: 'quit', stopVms: false })
    await vi.waitFor(() => expect(ports).toHaveLength(2), { timeout: 5000 })
    expect(forks).toHaveLength(2)
    expect(engine.mode).toBe('local')
    const client = new RpcClient(portTransport(ports[1]!))
    cleanups.push(() => client.close())
    expect(await client.call('vm.list', {})).toEqual([])
  })

  it('stops its engine on quit, which releases the data dir', async () => {
    const dataDir = tempDir()
    const engine = new EngineProcess({ entry: '/e', dataDir, log: () => undefined })
    await engine.start()
    await engine.stop({ stopVms: false })
    expect(engine.mode).toBeNull()
    const next = await startHost({ dataDir })
    await next.stop()
  })

  it('connects to the host that owns the data dir instead, through its unix socket', async () => {
    const dataDir = tempDir()
    const owner = await startHost({ dataDir })
    cleanups.push(() => owner.stop())
    const engine = new EngineProcess({ entry: '/e', dataDir, log: () => undefined })
    cleanups.push(() => engine.stop({ stopVms: false }))
    expect(await engine.start()).toBe('remote')

    const { contents, ports } = fakeContents()
    await engine.connectWindow(contents as never)
    const client = new RpcClient(portTransport(ports[0]!))
    cleanups.push(() => client.close())
    expect(await client.call('vm.list', {})).toEqual([])
    expect((await client.call('host.info', {})).dataDir).toBe(dataDir)
  })
})

describe('bridge', () => {
  it('passes envelopes and binary frames through unchanged, and closes both ways', async () => {
    const dir = tempDir()
    const socketPath = join(dir, 's.sock')
    const http = createServer()
    const wss = new WebSocketServer({ server: http })
    const seen: Array<{ binary: boolean; data: Buffer }> = []
    let serverClosed = false
    wss.on('connection', (ws) => {
      ws.on('message', (data, isBinary) => {
        seen.push({ binary: isBinary, data: data as Buffer })
        ws.send(data, { binary: isBinary }) // echo
      })
      ws.on('close', () => (serverClosed = true))
    })
    await new Promise<void>((r) => http.listen(socketPath, r))
    cleanups.push(() => new Promise((r) => http.close(r)))
    cleanups.push(() => wss.close())

    const { port1, port2 } = new MessageChannel()
    const bridge = await bridgePortToHost(electronPort(port1), socketPath)
    const replies: unknown[] = []
    port2.on('message', (m) => replies.push(m))

    const frame = new Uint8Array([0, 0, 0, 7, 1, 2, 3, 255])
    port2.postMessage({ t: 'm', m: { type: 'request', id: 1, method: 'vm.list', params: {} } })
    port2.postMessage({ t: 'b', b: frame })
    await vi.waitFor(() => expect(replies).toHaveLength(2))
    expect(seen[0]).toEqual({
      binary: false,
      data: Buffer.from('{"type":"request","id":1,"method":"vm.list","params":{}}'),
    })
    expect(seen[1]?.binary).toBe(true)
    expect([...seen[1]!.data]).toEqual([...frame])
    expect(replies[0]).toEqual({ t: 'm', m: { type: 'request', id: 1, method: 'vm.list', params: {} } })
    expect(replies[1]).toEqual({ t: 'b', b: frame })

    bridge.dispose()
    await vi.waitFor(() => expect(serverClosed).toBe(true))
    port2.close()
  })

  it('rejects when nothing listens on the socket', async () => {
    const { port1 } = new MessageChannel()
    await expect(bridgePortToHost(electronPort(port1), join(tempDir(), 'none.sock'))).rejects.toThrow()
    port1.close()
  })
})
