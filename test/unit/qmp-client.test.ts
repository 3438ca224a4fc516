// The QMP client against a scripted server on a unix socket: it speaks QMP's wire format (greeting,
// capabilities, id-correlated replies, events) so every edge can be forced. Real QEMU is exercised by
// the integration tests.
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { QmpClient, QmpClosedError, QmpError, QmpTimeoutError } from '../../engine/qmp/client.ts'

type Reply = (msg: { execute: string; id?: unknown; arguments?: unknown }, sock: Socket) => void

let dir: string
let server: Server | undefined
let clients: QmpClient[] = []

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vireo-qmp-'))
})

afterEach(async () => {
  for (const c of clients) c.dispose()
  clients = []
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()))
  server = undefined
  rmSync(dir, { recursive: true, force: true })
})

const GREETING = {
  QMP: { version: { qemu: { major: 7, minor: 2, micro: 19 }, package: '' }, capabilities: [] },
}

/** A QMP server: greets, accepts qmp_capabilities, hands every other command to `reply`. */
function fakeQemu(reply: Reply, opts: { greet?: boolean } = {}): Promise<string> {
  const path = join(dir, 'qmp.sock')
  server = createServer((sock) => {
    if (opts.greet !== false) sock.write(JSON.stringify(GREETING) + '\r\n')
    let buf = ''
    sock.setEncoding('utf8')
    sock.on('data', (chunk: string) => {
      buf += chunk
      let nl: number
      while ((nl = buf.indexOf('\n')) >= 0) {
        const msg = JSON.parse(buf.slice(0, nl)) as { execute: string; id?: unknown }
        buf = buf.slice(nl + 1)
        if (msg.execute === 'qmp_capabilities')
          sock.write(JSON.stringify({ return: {}, id: msg.id }) + '\r\n')
        else reply(msg, sock)
      }
    })
    sock.on('error', () => undefined)
  })
  return new Promise((r) => server!.listen(path, () => r(path)))
}

async function connect(path: string, opts: Parameters<typeof QmpClient.connect>[1] = {}) {
  const c = await QmpClient.connect(path, opts)
  clients.push(c)
  return c
}

const send = (sock: Socket, msg: unknown) => sock.write(JSON.stringify(msg) + '\r\n')

describe('QmpClient', () => {
  it('negotiates capabilities and reads the QEMU version from the greeting', async () => {
    const seen: string[] = []
    const path = await fakeQemu((m, s) => {
      seen.push(m.execute)
      send(s, { return: { status: 'running', running: true }, id: m.id })
    })
    const c = await connect(path)
    expect(c.version).toEqual({ major: 7, minor: 2, micro: 19 })
    expect(await c.execute('query-status')).toEqual({ status: 'running', running: true })
    expect(seen).toEqual(['query-status'])
  })

  it('matches replies to commands by id, whatever order they come back in', async () => {
    const held: { id: unknown; name: string; sock: Socket }[] = []
    const path = await fakeQemu((m, s) => {
      held.push({ id: m.id, name: m.execute, sock: s })
      if (held.length === 2)
        for (const h of held.reverse()) send(h.sock, { return: { name: h.name }, id: h.id })
    })
    const c = await connect(path)
    const [a, b] = await Promise.all([c.execute('query-status'), c.execute('query-kvm')])
    expect(a).toEqual({ name: 'query-status' })
    expect(b).toEqual({ name: 'query-kvm' })
  })

  it('turns a QMP error into a QmpError with its class and description', async () => {
    const path = await fakeQemu((m, s) =>
      send(s, { error: { class: 'DeviceNotFound', desc: "Device 'nic9' not found" }, id: m.id }),
    )
    const c = await connect(path)
    const err = await c.execute('device_del', { id: 'nic9' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(QmpError)
    expect((err as QmpError).errorClass).toBe('DeviceNotFound')
    expect((err as QmpError).message).toContain("Device 'nic9' not found")
  })

  it('delivers events to their handlers and to onAny, and waits for one that matches', async () => {
    let sock: Socket | undefined
    const path = await fakeQemu((m, s) => {
      sock = s
      send(s, { return: {}, id: m.id })
    })
    const c = await connect(path)
    await c.execute('cont')
    const stops: unknown[] = []
    const any: string[] = []
    c.on('STOP', (d) => stops.push(d))
    c.onAny((e) => any.push(e))
    const deleted = c.waitForEvent('DEVICE_DELETED', (d) => d.device === 'disk2', 2000)
    send(sock!, { event: 'STOP', data: {}, timestamp: { seconds: 1, microseconds: 0 } })
    send(sock!, { event: 'DEVICE_DELETED', data: { device: 'disk1', path: '/x' }, timestamp: {} })
    send(sock!, { event: 'DEVICE_DELETED', data: { device: 'disk2', path: '/y' }, timestamp: {} })
    expect(await deleted).toEqual({ device: 'disk2', path: '/y' })
    expect(stops).toEqual([{}])
    expect(any).toEqual(['STOP', 'DEVICE_DELETED', 'DEVICE_DELETED'])
  })

  it('times out a command QEMU never answers, and drops the late answer', async () => {
    let late: (() => void) | undefined
    const path = await fakeQemu((m, s) => {
      if (m.execute === 'stop') late = () => send(s, { return: { late: true }, id: m.id })
      else send(s, { return: { ok: true }, id: m.id })
    })
    const c = await connect(path, { timeoutMs: 2000 })
    const err = await c.execute('stop', undefined, { timeoutMs: 100 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(QmpTimeoutError)
    late!()
    // The connection stays usable, and the late reply does not resolve the next command.
    expect(await c.execute('cont')).toEqual({ ok: true })
  })

  it('rejects pending commands and waiters when QEMU goes away, and refuses new ones', async () => {
    let sock: Socket | undefined
    const path = await fakeQemu((_m, s) => {
      sock = s
    })
    const c = await connect(path)
    let closed = false
    c.onClose(() => (closed = true))
    const pending = c.execute('system_powerdown').catch((e: unknown) => e)
    const waiting = c.waitForEvent('SHUTDOWN', () => true, 5000).catch((e: unknown) => e)
    await new Promise((r) => setTimeout(r, 50))
    sock!.destroy()
    expect(await pending).toBeInstanceOf(QmpClosedError)
    expect(await waiting).toBeInstanceOf(QmpClosedError)
    expect(closed).toBe(true)
    expect(c.isClosed).toBe(true)
    await expect(c.execute('cont')).rejects.toBeInstanceOf(QmpClosedError)
  })

  it('reports a line that is not JSON and carries on', async () => {
    const path = await fakeQemu((m, s) => {
      s.write('this is not json\r\n')
      send(s, { return: { fine: true }, id: m.id })
    })
    const bad: string[] = []
    const c = await connect(path, { onProtocolError: (l) => bad.push(l) })
    expect(await c.execute('query-status')).toEqual({ fine: true })
    expect(bad).toEqual(['this is not json'])
  })

  it('keeps trying while the socket does not exist yet, within retryUntil', async () => {
    const path = join(dir, 'qmp.sock')
    const connecting = connect(path, { retryUntil: Date.now() + 3000 })
    await new Promise((r) => setTimeout(r, 300))
    await fakeQemu((m, s) => send(s, { return: {}, id: m.id }))
    const c = await connecting
    expect(await c.execute('cont')).toEqual({})
  })

  it('gives up on a missing socket without retryUntil, and on a server that never greets', async () => {
    await expect(QmpClient.connect(join(dir, 'absent.sock'))).rejects.toMatchObject({ code: 'ENOENT' })
    const path = await fakeQemu(() => undefined, { greet: false })
    await expect(QmpClient.connect(path, { timeoutMs: 200 })).rejects.toBeInstanceOf(QmpTimeoutError)
  })
})
