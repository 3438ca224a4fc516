// engine/host/utility-main.ts, as Electron's main process drives it: a parentPort that delivers
// Electron-shaped `{data, ports}` events, and MessagePorts — here Node's worker_threads ports,
// adapted to the shape of Electron's MessagePortMain — that carry the engine/api contract.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MessageChannel, type MessagePort } from 'node:worker_threads'
import { afterEach, describe, expect, it } from 'vitest'
import { RpcClient } from '../../engine/api/client.ts'
import { portTransport, type PortLike } from '../../engine/api/transports/port.ts'
import { startHost, type RunningHost } from '../../engine/host/host.ts'
import {
  dataDirFromArgv,
  runUtility,
  type FromEngine,
  type ParentPortEvent,
  type ParentPortLike,
} from '../../engine/host/utility-main.ts'

/** A worker_threads port in the shape of Electron's MessagePortMain (`on('message', e => e.data)`). */
function electronPort(port: MessagePort): PortLike {
  return {
    postMessage: (m) => port.postMessage(m),
    on: ((event: 'message' | 'close', listener: (e?: { data: unknown }) => void) =>
      event === 'message'
        ? port.on('message', (data: unknown) => listener({ data }))
        : port.on('close', () => listener())) as PortLike['on'],
    start: () => port.start(),
    close: () => port.close(),
  }
}

/** Electron's process.parentPort, from main's side: send events in, read reports out. */
function fakeParentPort() {
  const listeners: Array<(e: ParentPortEvent) => void> = []
  const reports: FromEngine[] = []
  const waiting: Array<() => void> = []
  const parentPort: ParentPortLike = {
    on: (_event, listener) => listeners.push(listener),
    postMessage: (m) => {
      reports.push(m)
      for (const w of waiting.splice(0)) w()
    },
  }
  return {
    parentPort,
    reports,
    send: (data: unknown, ports: PortLike[] = []) => {
      for (const l of listeners) l({ data, ports })
    },
    async next(type: FromEngine['type']): Promise<FromEngine> {
      for (;;) {
        const found = reports.find((r) => r.type === type)
        if (found) return found
        await new Promise<void>((r) => waiting.push(r))
      }
    },
  }
}

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

function tempDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vireo-utility-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

describe('utility-main', () => {
  it('reads --data-dir from argv', () => {
    expect(dataDirFromArgv(['/electron', '/app/utility-main.ts', '--data-dir', '/d'])).toBe('/d')
    expect(dataDirFromArgv(['x', '--data-dir=/e'])).toBe('/e')
    expect(dataDirFromArgv(['x', '--data-dir'])).toBeNull()
    expect(dataDirFromArgv(['x'])).toBeNull()
  })

  it('starts the host and serves RPC on a MessagePort main hands it', async () => {
    const dataDir = tempDataDir()
    const main = fakeParentPort()
    const exits: number[] = []
    const run = runUtility({
      dataDir,
      parentPort: main.parentPort,
      exit: (c) => exits.push(c),
      log: () => undefined,
    })
    cleanups.push(async () => {
      const h = await run.host
      await h?.stop()
    })

    // Main connects before the host is up: the port waits for it.
    const { port1, port2 } = new MessageChannel()
    main.send({ type: 'connect' }, [electronPort(port1)])
    const client = new RpcClient(portTransport(electronPort(port2)))
    cleanups.push(() => client.close())

    const ready = await main.next('ready')
    expect(ready).toMatchObject({ type: 'ready', pid: process.pid })
    expect(await client.call('vm.list', {})).toEqual([])
    const info = await client.call('host.info', {})
    expect(info.dataDir).toBe(dataDir)
    expect(exits).toEqual([])
  })

  it('ignores malformed messages and connects without a port', async () => {
    const dataDir = tempDataDir()
    const main = fakeParentPort()
    const logs: string[] = []
    const run = runUtility({
      dataDir,
      parentPort: main.parentPort,
      exit: () => undefined,
      log: (l) => logs.push(l),
    })
    cleanups.push(async () => (await run.host)?.stop())
    await main.next('ready')
    main.send({ type: 'quit' }) // no stopVms: malformed
    main.send('connect')
    main.send({ type: 'connect' }) // no port
    expect(logs.filter((l) => l.includes('malformed'))).toHaveLength(2)
    expect(main.reports.map((r) => r.type)).toEqual(['ready'])
  })

  it('on quit stops the host, releases the data dir, reports stopped and exits 0', async () => {
    const dataDir = tempDataDir()
    const main = fakeParentPort()
    const exits: number[] = []
    const run = runUtility({
      dataDir,
      parentPort: main.parentPort,
      exit: (c) => exits.push(c),
      log: () => undefined,
    })
    await main.next('ready')
    main.send({ type: 'quit', stopVms: false })
    expect(await run.done).toBe(0)
    expect(exits).toEqual([0])
    expect(main.reports.map((r) => r.type)).toEqual(['ready', 'stopped'])
    // The dir is free again: a background host can take it over.
    const next = await startHost({ dataDir })
    await next.stop()
  })

  it('reports owner-elsewhere and exits when another host owns the data dir', async () => {
    const dataDir = tempDataDir()
    const owner: RunningHost = await startHost({ dataDir })
    cleanups.push(() => owner.stop())
    const main = fakeParentPort()
    const exits: number[] = []
    const run = runUtility({
      dataDir,
      parentPort: main.parentPort,
      exit: (c) => exits.push(c),
      log: () => undefined,
    })
    expect(await run.host).toBeNull()
    expect(await run.done).toBe(0)
    expect(main.reports).toHaveLength(1)
    expect(main.reports[0]?.type).toBe('owner-elsewhere')
    expect(exits).toEqual([0])
  })

  it('reports other start failures as failed, exit 1', async () => {
    const main = fakeParentPort()
    const run = runUtility({
      dataDir: '/nonexistent',
      parentPort: main.parentPort,
      exit: () => undefined,
      log: () => undefined,
      start: () => Promise.reject(new Error('disk on fire')),
    })
    expect(await run.done).toBe(1)
    expect(main.reports).toEqual([{ type: 'failed', message: 'disk on fire' }])
  })
})
