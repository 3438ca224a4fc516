// The internal network switch without QEMU: each "card" is a unix socket server speaking QEMU's
// stream framing, as QEMU's stream netdev does, and the engine's switch connects to them. Learning,
// flooding, no frame back to its port, networks kept apart, frames split across reads, a card
// that comes up late, a connection that drops and heals, and unplugging.
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { InternalNetworks } from '../../engine/net/internal-networks.ts'
import { LearningSwitch } from '../../engine/net/learning-switch.ts'
import { encodeFrame, FrameReader } from '../../engine/net/stream-framing.ts'

const BROADCAST = 'ff:ff:ff:ff:ff:ff'

function frame(dst: string, src: string, payload: string): Buffer {
  const mac = (m: string) => Buffer.from(m.replaceAll(':', ''), 'hex')
  return Buffer.concat([mac(dst), mac(src), Buffer.from([0x88, 0xb5]), Buffer.from(payload)])
}

function payloadOf(f: Buffer): string {
  return f.subarray(14).toString()
}

/** One VM's card as QEMU shows it to the switch: a listening stream socket. */
class FakeCard {
  readonly mac: string
  readonly path: string
  readonly received: string[] = []
  connections = 0
  private server: Server | null = null
  private client: Socket | null = null

  constructor(dir: string, name: string, mac: string) {
    this.mac = mac
    this.path = join(dir, `${name}.net`)
  }

  listen(): Promise<void> {
    const server = createServer((sock) => {
      this.connections++
      this.client = sock
      const reader = new FrameReader((f) => this.received.push(payloadOf(f)))
      sock.on('data', (b: Buffer) => reader.push(b))
      sock.on('close', () => {
        if (this.client === sock) this.client = null
      })
      sock.on('error', () => undefined)
    })
    this.server = server
    return new Promise((ok) => server.listen(this.path, ok))
  }

  get connected(): boolean {
    return this.client !== null
  }

  send(dst: string, payload: string): void {
    if (!this.client) throw new Error(`${this.path} has no switch connected`)
    this.client.write(encodeFrame(frame(dst, this.mac, payload)))
  }

  /** As the guest would, but a byte at a time: framing must not depend on how reads split. */
  async sendTrickled(dst: string, payload: string): Promise<void> {
    const bytes = encodeFrame(frame(dst, this.mac, payload))
    for (const b of bytes) {
      this.client!.write(Buffer.from([b]))
      await new Promise((r) => setImmediate(r))
    }
  }

  dropConnection(): void {
    this.client?.destroy()
    this.client = null
  }

  close(): Promise<void> {
    this.client?.destroy()
    return new Promise((ok) => (this.server ? this.server.close(() => ok()) : ok()))
  }
}

describe('LearningSwitch', () => {
  it('floods what it does not know and sends to the learned port once it does', () => {
    const sw = new LearningSwitch<string>()
    for (const p of ['a', 'b', 'c']) sw.add(p)
    const A = '52:54:00:00:00:0a'
    const B = '52:54:00:00:00:0b'
    expect(sw.route('a', frame(B, A, 'x')).sort()).toEqual(['b', 'c'])
    expect(sw.route('b', frame(A, B, 'y'))).toEqual(['a'])
    expect(sw.route('a', frame(B, A, 'z'))).toEqual(['b'])
    expect(sw.route('a', frame(BROADCAST, A, 'all')).sort()).toEqual(['b', 'c'])
    // A frame for an address that lives on the port it came from goes nowhere.
    expect(sw.route('b', frame(B, A, 'back'))).toEqual([])
    // A moved: learned again where it now speaks from.
    expect(sw.route('c', frame(B, A, 'moved'))).toEqual(['b'])
    expect(sw.portOf('52540000000a')).toBe('c')
    sw.remove('b')
    expect(sw.route('a', frame(B, A, 'gone')).sort()).toEqual(['c'])
    expect(sw.route('a', Buffer.alloc(10))).toEqual([])
  })

  it('never learns a group address as a source', () => {
    const sw = new LearningSwitch<string>()
    for (const p of ['a', 'b', 'c']) sw.add(p)
    sw.route('a', frame(BROADCAST, '01:00:5e:00:00:01', 'bogus'))
    expect(sw.route('b', frame('01:00:5e:00:00:01', '52:54:00:00:00:0b', 'm')).sort()).toEqual(['a', 'c'])
  })
})

describe('InternalNetworks over unix sockets', () => {
  let dir: string
  let nets: InternalNetworks
  let cards: FakeCard[]

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vsw-'))
    nets = new InternalNetworks({ connectTimeoutMs: 5_000 })
    cards = []
  })

  afterEach(async () => {
    nets.dispose()
    await Promise.all(cards.map((c) => c.close()))
    rmSync(dir, { recursive: true, force: true })
  })

  async function card(name: string, mac: string, listen = true): Promise<FakeCard> {
    const c = new FakeCard(dir, name, mac)
    cards.push(c)
    if (listen) await c.listen()
    return c
  }

  function plug(vm: string, c: FakeCard, network: string): void {
    nets.attach(vm, [{ nicId: 'net0', network, socketPath: c.path }])
  }

  it('switches frames between the cards of one network and keeps networks apart', async () => {
    const a = await card('a', '52:54:00:00:00:0a')
    const b = await card('b', '52:54:00:00:00:0b')
    const c = await card('c', '52:54:00:00:00:0c')
    const other = await card('o', '52:54:00:00:00:0d')
    plug('vm-a', a, 'lab')
    plug('vm-b', b, 'lab')
    plug('vm-c', c, 'lab')
    plug('vm-o', other, 'other')
    await expect.poll(() => nets.connectedPorts('lab').length).toBe(3)
    await expect.poll(() => other.connected).toBe(true)

    a.send(BROADCAST, 'hello-all')
    await expect.poll(() => b.received).toContain('hello-all')
    await expect.poll(() => c.received).toContain('hello-all')
    // b answers a by unicast: a has been learned, so c does not hear it.
    b.send(a.mac, 'hello-a')
    await expect.poll(() => a.received).toContain('hello-a')
    a.send(b.mac, 'hello-b')
    await expect.poll(() => b.received).toContain('hello-b')
    // An address nobody has used yet is flooded.
    a.send('52:54:00:00:00:99', 'unknown')
    await expect.poll(() => c.received).toContain('unknown')
    await expect.poll(() => b.received).toContain('unknown')
    // A marker through every path, then nothing else must have arrived anywhere.
    a.send(BROADCAST, 'end')
    await expect.poll(() => c.received).toContain('end')
    await expect.poll(() => b.received).toContain('end')
    expect(a.received).toEqual(['hello-a'])
    expect(b.received).toEqual(['hello-all', 'hello-b', 'unknown', 'end'])
    expect(c.received).toEqual(['hello-all', 'unknown', 'end'])
    expect(other.received).toEqual([])
  })

  it('reads frames however the stream is split', async () => {
    const a = await card('a', '52:54:00:00:00:0a')
    const b = await card('b', '52:54:00:00:00:0b')
    plug('vm-a', a, 'lab')
    plug('vm-b', b, 'lab')
    await expect.poll(() => nets.connectedPorts('lab').length).toBe(2)
    await a.sendTrickled(BROADCAST, 'one byte at a time')
    a.send(BROADCAST, 'then whole')
    await expect.poll(() => b.received).toEqual(['one byte at a time', 'then whole'])
  })

  it('plugs a card whose socket appears late, heals a dropped connection, and unplugs', async () => {
    const a = await card('a', '52:54:00:00:00:0a')
    const late = await card('late', '52:54:00:00:00:0b', false)
    plug('vm-a', a, 'lab')
    plug('vm-late', late, 'lab')
    await new Promise((r) => setTimeout(r, 300))
    await late.listen()
    await expect.poll(() => nets.connectedPorts('lab').sort()).toEqual(['vm-a/net0', 'vm-late/net0'])
    a.send(BROADCAST, 'first')
    await expect.poll(() => late.received).toEqual(['first'])

    // The connection goes (as when QEMU's side drops it): the switch comes back on its own.
    late.dropConnection()
    await expect.poll(() => late.connections).toBe(2)
    await expect.poll(() => late.connected).toBe(true)
    await expect.poll(() => nets.connectedPorts('lab').length).toBe(2)
    a.send(BROADCAST, 'second')
    await expect.poll(() => late.received).toEqual(['first', 'second'])

    nets.detach('vm-late')
    await expect.poll(() => late.connected).toBe(false)
    expect(nets.connectedPorts('lab')).toEqual(['vm-a/net0'])
    await new Promise((r) => setTimeout(r, 300))
    expect(late.connections).toBe(2)
  })

  it('a new switch (a new engine) reaches cards the last one left', async () => {
    const a = await card('a', '52:54:00:00:00:0a')
    const b = await card('b', '52:54:00:00:00:0b')
    plug('vm-a', a, 'lab')
    plug('vm-b', b, 'lab')
    await expect.poll(() => nets.connectedPorts('lab').length).toBe(2)
    nets.dispose()
    await expect.poll(() => a.connected || b.connected).toBe(false)
    nets = new InternalNetworks()
    plug('vm-a', a, 'lab')
    plug('vm-b', b, 'lab')
    await expect.poll(() => a.connected && b.connected).toBe(true)
    await expect.poll(() => nets.connectedPorts('lab').length).toBe(2)
    b.send(BROADCAST, 'after restart')
    await expect.poll(() => a.received).toEqual(['after restart'])
  })
})
