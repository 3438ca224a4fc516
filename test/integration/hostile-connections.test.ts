// Issue 12, "the host outlives stuck and hostile clients": a real `vireo serve` with short deadlines
// (VIREO_CONN_*) is fed connections that stall at every stage, break the protocols or come in
// floods. Each must end in its exact outcome (closed by the server within its deadline, or refused
// at once with its status and sentence), and after each group the host still answers a real client.
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createServer, type Server } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { RpcClient } from '../../engine/api/client.ts'
import { webSocketTransport, type WebSocketLike } from '../../engine/api/transports/websocket.ts'
import { LIMIT_ENV, resolveLimits } from '../../engine/host/conn-limits.ts'
import { PSK_TLS } from '../../engine/peers/peer-keys.ts'
import { cleanupDataDir, hostPid, tempDataDir, vireo, vireoOk } from '../support/cli.ts'
import { deadPid, killIntoZombie, plantLock, startUnreapedHost } from '../support/dead-hosts.ts'
import { frameCases, refusalCases, stallCases, type Target } from '../support/hostile-inputs.ts'
import {
  closeCode,
  probe,
  stubbornClient,
  tlsAttempt,
  upgradeRequest,
  type Probe,
  type ProbeOptions,
} from '../support/raw-conn.ts'
import { rpc, stillServes } from '../support/served-checks.ts'
import { serve, type ServedHost } from '../support/serve.ts'

const L = {
  firstByteMs: 1500,
  tlsHandshakeMs: 2500,
  headersMs: 2000,
  requestMs: 3500,
  upgradeMs: 1800,
  idleMs: 1000,
  pingMs: 800,
  perAddress: 16,
  total: 48,
  maxMessageBytes: 65536,
}
/** What a loaded 2-core machine may add to a deadline: timers, Node's 1/5-deadline checks, the test's own event loop. */
const SLACK = 1500
/** A refusal that does not wait on any deadline. */
const AT_ONCE = 1000

const env = {
  ...process.env,
  ...Object.fromEntries(Object.entries(L).map(([k, v]) => [LIMIT_ENV[k as keyof typeof L], String(v)])),
}
const target = (): Target => ({ port: host.port, token: host.token, socketPath, limits: resolveLimits(env) })
let host: ServedHost
let socketPath: string

beforeAll(async () => {
  host = await serve({ env })
  socketPath = (JSON.parse(readFileSync(join(host.dataDir, 'host.json'), 'utf8')) as { socket: string })
    .socket
})
afterAll(async () => {
  await host?.stop()
})

// Each probe comes from its own loopback address, so that one group's probes never meet the bound
// per address (16) that another test is about.
let nextFrom = 1
const from = () => `127.0.1.${nextFrom++}`
const tcp = (o: Omit<ProbeOptions, 'to'>) => probe({ to: host.port, from: from(), ...o })

function closedWithin(p: Probe, deadlineMs: number): void {
  expect(p.byServer).toBe(true)
  expect(p.closedAfterMs).toBeGreaterThanOrEqual(deadlineMs - 100)
  expect(p.closedAfterMs).toBeLessThanOrEqual(deadlineMs + SLACK)
}
function refusedAtOnce(p: Probe, status: number | null, body?: string): void {
  expect(p.byServer).toBe(true)
  expect(p.closedAfterMs).toBeLessThan(AT_ONCE)
  expect(p.status).toBe(status)
  if (body !== undefined) expect(p.body).toBe(body)
}

describe('every stage of a connection has a deadline', () => {
  it('closes stalled connections at their stage deadline', async () => {
    const cases = stallCases(target())
    const results = await Promise.all(
      cases.map((c) => (c.probe.to ? probe(c.probe as ProbeOptions) : tcp(c.probe))),
    )
    cases.forEach((c, i) => {
      const p = results[i]!
      expect({ name: c.name, status: p.status }).toEqual({ name: c.name, status: c.status })
      closedWithin(p, c.deadlineMs)
      if (c.body !== undefined) expect(p.body).toBe(c.body)
    })
    await stillServes(host)
  })

  it('lets a live WebSocket stay while it answers pings, and cuts the ones that stop', async () => {
    const url = `ws://127.0.0.1:${host.port}/rpc`
    const protocols = [`vireo.token.${host.token}`]
    const closedAfter = (ws: WebSocket, since: () => number) =>
      new Promise<{ ms: number; code: number }>((r) =>
        ws.once('close', (code) => r({ ms: Date.now() - since(), code })),
      )
    // Never answers a ping and never says anything.
    const mute = new WebSocket(url, protocols, { autoPong: false })
    const opened = Date.now()
    const muteClosed = closedAfter(mute, () => opened)
    // Makes one call, then stops answering pings.
    const stops = new WebSocket(url, protocols, { autoPong: false })
    let lastWord = 0
    const stopsClosed = closedAfter(stops, () => lastWord)
    await new Promise((r) => stops.once('open', r))
    const stopper = new RpcClient(webSocketTransport(stops as unknown as WebSocketLike))
    expect(await stopper.call('vm.list', {})).toEqual([])
    lastWord = Date.now()
    // Alive and silent: answers pings by itself (as browsers do) and never calls.
    const alive = new WebSocket(url, protocols)
    let aliveClosed = false
    alive.once('close', () => (aliveClosed = true))
    await new Promise((r) => alive.once('open', r))

    const m = await muteClosed
    expect(m.code).toBe(1006)
    expect(m.ms).toBeGreaterThanOrEqual(L.upgradeMs - 100)
    expect(m.ms).toBeLessThanOrEqual(L.upgradeMs + SLACK)
    const s = await stopsClosed
    // Cut at the first ping tick after two intervals without a word.
    expect(s.ms).toBeGreaterThanOrEqual(2 * L.pingMs - 100)
    expect(s.ms).toBeLessThanOrEqual(3 * L.pingMs + SLACK)
    // By now the live one has outlived both deadlines several times over.
    await new Promise((r) => setTimeout(r, 3 * L.pingMs))
    expect(aliveClosed).toBe(false)
    alive.close()
    await stillServes(host)
  })
})

describe('broken requests and unwelcome upgrades are refused at once, in a sentence', () => {
  it('answers each with its status and sentence, and closes', async () => {
    const cases = refusalCases(target())
    const results = await Promise.all(cases.map(([, send]) => tcp({ send })))
    cases.forEach(([name, , status, body], i) => {
      const p = results[i]!
      expect({ name, status: p.status, body: body === null ? null : p.body }).toEqual({ name, status, body })
      expect({ name, byServer: p.byServer, atOnce: p.closedAfterMs < AT_ONCE }).toEqual({
        name,
        byServer: true,
        atOnce: true,
      })
    })
    const unix = await probe({
      to: socketPath,
      send: 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    })
    refusedAtOnce(unix, 404, 'the RPC is a WebSocket at /rpc')
    await stillServes(host)
  })

  it('closes a WebSocket that breaks the protocol, with its close code', async () => {
    const cases = frameCases(target().limits)
    const results = await Promise.all(
      cases.map(([, frame]) => {
        let sent = false
        return tcp({
          send: upgradeRequest({ host: `127.0.0.1:${host.port}`, token: host.token }),
          onData: (s, got) => {
            if (sent || !got.includes('\r\n\r\n')) return
            sent = true
            s.write(frame)
          },
        })
      }),
    )
    cases.forEach(([name, , code], i) => {
      const p = results[i]!
      expect({ name, status: p.status, code: closeCode(p.got) }).toEqual({ name, status: 101, code })
      expect(p.byServer).toBe(true)
      expect(p.closedAfterMs).toBeLessThan(AT_ONCE)
    })
    await stillServes(host)
  })

  it('answers RPC garbage with an error and keeps serving that socket', async () => {
    const raw = new WebSocket(`ws://127.0.0.1:${host.port}/rpc`, [`vireo.token.${host.token}`])
    await new Promise((r) => raw.once('open', r))
    const replies: unknown[] = []
    raw.on('message', (d: Buffer) => replies.push(JSON.parse(d.toString())))
    raw.send('this is not JSON')
    raw.send(JSON.stringify({ type: 'request', id: 7, method: 'vm.nope', params: {} }))
    raw.send(JSON.stringify({ type: 'request', id: 8, method: 'vm.info', params: { vm: 42 } }))
    raw.send(Buffer.from([0, 0, 0, 99, 1, 2, 3]))
    raw.send(JSON.stringify({ type: 'request', id: 9, method: 'vm.list', params: {} }))
    await expect.poll(() => replies.length, { timeout: 3000 }).toBeGreaterThanOrEqual(4)
    expect(replies).toContainEqual({
      type: 'response',
      id: -1,
      error: {
        code: 'invalid_request',
        message:
          'this message is not a request; send {"type": "request", "id": N, "method": NAME, "params": {…}}',
      },
    })
    expect(replies).toContainEqual({
      type: 'response',
      id: 7,
      error: {
        code: 'invalid_request',
        message: 'there is no method "vm.nope"; the methods are listed in engine/api/rpc.ts',
      },
    })
    expect(replies).toContainEqual({
      type: 'response',
      id: 8,
      error: {
        code: 'invalid_request',
        message: '`vm` must be text, not 42',
      },
    })
    // The binary frame for a channel that was never opened is dropped; the next call is answered.
    expect(replies).toContainEqual({ type: 'response', id: 9, result: [] })
    expect(raw.readyState).toBe(WebSocket.OPEN)
    raw.close()
  })

  it('refuses TLS that is not a paired host at once', async () => {
    const [certs, stranger] = await Promise.all([
      tlsAttempt(host.port, from(), { rejectUnauthorized: false }),
      tlsAttempt(host.port, from(), {
        ...PSK_TLS,
        checkServerIdentity: () => undefined,
        pskCallback: () => ({ identity: randomUUID(), psk: Buffer.alloc(32, 7) }),
      }),
    ])
    expect(certs.error).not.toBe('')
    expect(certs.ms).toBeLessThan(AT_ONCE)
    expect(stranger.error).not.toBe('')
    expect(stranger.ms).toBeLessThan(AT_ONCE)
    await expect
      .poll(() => host.log())
      .toMatch(
        /refused a host connection from 127\.0\.1\.\d+: host [0-9a-f-]{36} is not paired with this one/,
      )
    await stillServes(host)
  })
})

describe('connections are bounded per client address and in all', () => {
  it('keeps 16 of 200 half-open connections from one address, refuses the rest at once, and closes the 16 at the deadline', async () => {
    const results = await Promise.all(
      Array.from({ length: 200 }, () => probe({ to: host.port, from: '127.0.2.1' })),
    )
    const refused = results.filter((p) => p.status === 503)
    const kept = results.filter((p) => p.status === null)
    expect(kept).toHaveLength(L.perAddress)
    expect(refused).toHaveLength(200 - L.perAddress)
    for (const p of refused) {
      expect(p.body).toBe(
        '127.0.2.1 has 16 connections open to this Vireo host, its bound; close some and try again',
      )
      expect(p.closedAfterMs).toBeLessThan(AT_ONCE)
    }
    for (const p of kept) closedWithin(p, L.firstByteMs)
    expect(host.log()).toContain(
      'refused a connection to the serve port from 127.0.2.1: it has 16 open (the bound per address)',
    )
    await stillServes(host)
  })

  it('counts WebSockets towards the bound of their address', async () => {
    const sockets = await Promise.all(
      Array.from({ length: L.perAddress }, async () => {
        const ws = new WebSocket(`ws://127.0.0.1:${host.port}/rpc`, [`vireo.token.${host.token}`], {
          localAddress: '127.0.2.2',
        })
        await new Promise((r) => ws.once('open', r))
        return ws
      }),
    )
    const extra = await probe({ to: host.port, from: '127.0.2.2' })
    refusedAtOnce(
      extra,
      503,
      '127.0.2.2 has 16 connections open to this Vireo host, its bound; close some and try again',
    )
    await Promise.all(sockets.map((ws) => new Promise((r) => ws.once('close', r).close())))
    await stillServes(host)
  })

  it('refuses a flood beyond the total bound at once', async () => {
    // Every connection of the tests before has closed on this side; let the host read those FINs.
    await new Promise((r) => setTimeout(r, 500))
    // Four addresses, 16 each: 64 connections for a bound of 48.
    const results = await Promise.all(
      Array.from({ length: 64 }, (_, i) => probe({ to: host.port, from: `127.0.3.${1 + (i % 4)}` })),
    )
    const refused = results.filter((p) => p.status === 503)
    const held = results.filter((p) => p.status === null)
    // Never more than the bound; on a loaded machine a connection of the tests before may still
    // count on the host's side for a moment, so one fewer may be taken.
    expect(held.length).toBeLessThanOrEqual(L.total)
    expect(held.length).toBeGreaterThanOrEqual(L.total - 2)
    expect(refused).toHaveLength(64 - held.length)
    for (const p of refused) {
      expect(p.body).toBe('this Vireo host has 48 connections open, its bound; try again later')
      expect(p.closedAfterMs).toBeLessThan(AT_ONCE)
    }
    for (const p of results.filter((r) => r.status === null)) closedWithin(p, L.firstByteMs)
    await stillServes(host)
  })
})

describe('moving the serve port', () => {
  let busy: Server
  let busyPort: number
  beforeAll(async () => {
    busy = createServer()
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r))
    busyPort = (busy.address() as { port: number }).port
  })
  afterAll(() => new Promise<void>((r) => busy.close(() => r())))
  const accept = (address: string, port: number) =>
    vireo(host.dataDir, ['host', 'accept', '--listen', address, '--port', String(port), '--json'])

  it('refuses a port in use in one sentence, and keeps serving where it was', async () => {
    const r = await accept('127.0.0.1', busyPort)
    expect(r.code).toBe(1)
    expect(r.stderr.trim()).toBe(
      JSON.stringify({
        error: {
          code: 'conflict',
          message: `port ${busyPort} on 127.0.0.1 is already in use; choose another port or free it`,
        },
      }),
    )
    await stillServes(host)
  })

  it('answers the same over the serve port itself instead of hanging', async () => {
    const client = await rpc(host)
    const started = Date.now()
    await expect(
      client.call('host.accept', { enabled: true, address: '127.0.0.1', port: busyPort }),
    ).rejects.toMatchObject({
      code: 'conflict',
      message: `port ${busyPort} on 127.0.0.1 is already in use; choose another port or free it`,
    })
    expect(Date.now() - started).toBeLessThan(AT_ONCE)
    await client.close()
    await stillServes(host)
  })

  it('refuses an address that is not this machine’s, and a name, in one sentence each', async () => {
    const cases: [string, string, string][] = [
      [
        '192.0.2.1',
        'invalid_request',
        '192.0.2.1 is not an address of this machine; choose one of its own addresses, or 0.0.0.0 for all',
      ],
      [
        'vireo.invalid',
        'invalid_request',
        'the listen address must be an IP address (such as 127.0.0.1 or ::1) or localhost, not "vireo.invalid"',
      ],
    ]
    for (const [address, code, message] of cases) {
      const r = await accept(address, 0)
      expect(r.code).toBe(1)
      expect(JSON.parse(r.stderr)).toEqual({ error: { code, message } })
    }
    await stillServes(host)
  })

  it('moves to a free port when asked over that very port, and the caller keeps its connection', async () => {
    const spare = createServer()
    await new Promise<void>((r) => spare.listen(0, '127.0.0.1', r))
    const next = (spare.address() as { port: number }).port
    await new Promise<void>((r) => spare.close(() => r()))
    const client = await rpc(host)
    const started = Date.now()
    const moved = await client.call('host.accept', { enabled: true, address: '127.0.0.1', port: next })
    expect(Date.now() - started).toBeLessThan(AT_ONCE)
    expect(moved.listening).toEqual({ address: '127.0.0.1', port: next })
    expect(await client.call('vm.list', {})).toEqual([])
    await client.close()
    const old = host.port
    host.port = next
    await stillServes(host)
    await expect(probe({ to: old })).rejects.toMatchObject({ code: 'ECONNREFUSED' })
  })
})

describe('a host that died leaves nothing the CLI waits for', () => {
  let dir: string
  beforeAll(() => void (dir = tempDataDir('vireo-dead-host-')))
  afterAll(() => cleanupDataDir(dir))

  it('starts a new host at once when the old one was SIGKILLed and is a zombie', async () => {
    const { pid, parent } = await startUnreapedHost(dir)
    try {
      await killIntoZombie(pid)
      const started = Date.now()
      const r = await vireo(dir, ['list', '--json'])
      expect({ code: r.code, vms: JSON.parse(r.stdout) as unknown }).toEqual({ code: 0, vms: [] })
      expect(Date.now() - started).toBeLessThan(10_000)
      expect(hostPid(dir)).not.toBe(pid)
    } finally {
      parent.kill('SIGKILL')
    }
    await vireoOk(dir, ['host', 'stop'])
  })

  it.each([
    ['a pid now used by another process', async () => `${process.pid} 1\n`],
    ['a dead pid, in the format without a start time', async () => `${await deadPid()}\n`],
    ['no pid at all', async () => 'garbage\n'],
  ])('starts a new host at once over a lock naming %s', async (_what, lock) => {
    plantLock(dir, await lock())
    const started = Date.now()
    const r = await vireo(dir, ['list', '--json'])
    expect({ code: r.code, vms: JSON.parse(r.stdout) as unknown }).toEqual({ code: 0, vms: [] })
    expect(Date.now() - started).toBeLessThan(10_000)
    await vireoOk(dir, ['host', 'stop'])
  })
})

describe('stopping with clients that never let go', () => {
  it('stops within a second or two though live clients ignore the close on both sockets', async () => {
    const clients = [
      stubbornClient({
        to: host.port,
        from: from(),
        send: upgradeRequest({ host: `127.0.0.1:${host.port}`, token: host.token }),
      }),
      stubbornClient({ to: socketPath, send: upgradeRequest({ host: 'localhost' }) }),
    ]
    await Promise.all(clients.map((c) => c.open))
    let settled = false
    void Promise.all(clients.map((c) => c.closed)).then(() => (settled = true))
    // Past the upgrade deadline and two ping intervals: the host counts them alive.
    await new Promise((r) => setTimeout(r, L.upgradeMs + 3 * L.pingMs))
    expect(settled).toBe(false)
    const started = Date.now()
    const exited = new Promise((r) => host.process.once('exit', r))
    const r = await vireo(host.dataDir, ['host', 'stop'])
    expect(r.stdout.trim()).toBe('Host stopped.')
    await exited
    expect(Date.now() - started).toBeLessThan(5_000)
    for (const c of clients) expect((await c.closed).byServer).toBe(true)
  })
})
