// The DHCP server of an internal network, fed the frames a guest's client sends: offers from the
// subnet, one address per MAC, acknowledgements, refusals, renewals that survive a new server (a new
// engine), ARP for the server's own address, and the server behind the switch's sockets.
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { InternalDhcp } from '../../engine/api/vm-config.ts'
import { DhcpServer } from '../../engine/net/dhcp-server.ts'
import { InternalNetworks } from '../../engine/net/internal-networks.ts'
import { BROADCAST_MAC, macBytes, readUdp, writeUdp } from '../../engine/net/packets.ts'
import { encodeFrame, FrameReader } from '../../engine/net/stream-framing.ts'
import { ipToNumber, numberToIp } from '../../engine/net/subnet.ts'

const A = '52:54:00:00:00:0a'
const B = '52:54:00:00:00:0b'

/** A BOOTREQUEST as udhcpc sends it, in a broadcast frame (or unicast to the server when renewing). */
function dhcpFrame(
  mac: string,
  type: number,
  opts: { requested?: string; serverId?: string; ciaddr?: string; to?: { mac: Buffer; ip: string } } = {},
): Buffer {
  const p = Buffer.alloc(240)
  p[0] = 1
  p[1] = 1
  p[2] = 6
  p.writeUInt32BE(0x12345678, 4)
  if (opts.ciaddr) p.writeUInt32BE(ipToNumber(opts.ciaddr), 12)
  macBytes(mac).copy(p, 28)
  p.writeUInt32BE(0x63825363, 236)
  const o = [53, 1, type]
  const ip = (code: number, v: string) => o.push(code, 4, ...v.split('.').map(Number))
  if (opts.requested) ip(50, opts.requested)
  if (opts.serverId) ip(54, opts.serverId)
  o.push(255)
  return writeUdp({
    srcMac: macBytes(mac),
    dstMac: opts.to?.mac ?? BROADCAST_MAC,
    srcIp: opts.ciaddr ? ipToNumber(opts.ciaddr) : 0,
    dstIp: opts.to ? ipToNumber(opts.to.ip) : 0xffffffff,
    srcPort: 68,
    dstPort: 67,
    payload: Buffer.concat([p, Buffer.from(o)]),
  })
}

interface Reply {
  dstMac: string
  dstIp: string
  type: number
  yiaddr: string
  options: Map<number, Buffer>
}

function parseReply(frame: Buffer): Reply {
  // The IPv4 header's checksum, checked apart from the code that wrote it.
  let sum = 0
  for (let i = 14; i < 34; i += 2) sum += frame.readUInt16BE(i)
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16)
  expect(sum).toBe(0xffff)
  const udp = readUdp(frame)!
  expect([udp.srcPort, udp.dstPort]).toEqual([67, 68])
  const p = udp.payload
  expect(p[0]).toBe(2)
  expect(p.readUInt32BE(4)).toBe(0x12345678)
  const options = new Map<number, Buffer>()
  for (let i = 240; p[i] !== 255; i += 2 + p[i + 1]!) options.set(p[i]!, p.subarray(i + 2, i + 2 + p[i + 1]!))
  return {
    dstMac: udp.dstMac.toString('hex'),
    dstIp: numberToIp(udp.dstIp),
    type: options.get(53)![0]!,
    yiaddr: numberToIp(p.readUInt32BE(16)),
    options,
  }
}

function ipOption(r: Reply, code: number): string | undefined {
  const v = r.options.get(code)
  return v ? numberToIp(v.readUInt32BE(0)) : undefined
}

function only(frames: Buffer[]): Reply {
  expect(frames).toHaveLength(1)
  return parseReply(frames[0]!)
}

describe('DhcpServer', () => {
  it('offers and acknowledges one address per MAC from the subnet', () => {
    const s = new DhcpServer('10.9.0.0/24', 'lab')
    const offer = only(s.handle(dhcpFrame(A, 1)))
    expect(offer.type).toBe(2)
    expect(offer.dstMac).toBe('ffffffffffff')
    expect(offer.dstIp).toBe('255.255.255.255')
    expect(ipToNumber(offer.yiaddr)).toBeGreaterThan(ipToNumber('10.9.0.1'))
    expect(ipToNumber(offer.yiaddr)).toBeLessThan(ipToNumber('10.9.0.255'))
    expect(ipOption(offer, 54)).toBe('10.9.0.1')
    expect(ipOption(offer, 1)).toBe('255.255.255.0')
    expect(ipOption(offer, 28)).toBe('10.9.0.255')
    expect(offer.options.get(51)!.readUInt32BE(0)).toBe(3600)
    // No router: the network has no way out.
    expect(offer.options.has(3)).toBe(false)

    const ack = only(s.handle(dhcpFrame(A, 3, { requested: offer.yiaddr, serverId: '10.9.0.1' })))
    expect(ack.type).toBe(5)
    expect(ack.yiaddr).toBe(offer.yiaddr)
    expect(s.leaseOf(A)).toBe(offer.yiaddr)
    // Asked again, the same address.
    expect(only(s.handle(dhcpFrame(A, 1))).yiaddr).toBe(offer.yiaddr)

    const other = only(s.handle(dhcpFrame(B, 1)))
    expect(other.yiaddr).not.toBe(offer.yiaddr)
    // B asking for A's address is refused.
    const nak = only(s.handle(dhcpFrame(B, 3, { requested: offer.yiaddr })))
    expect(nak.type).toBe(6)
    expect(nak.dstMac).toBe('ffffffffffff')
    // An address outside the pool, or the server's own, is refused too.
    expect(only(s.handle(dhcpFrame(B, 3, { requested: '10.9.1.7' }))).type).toBe(6)
    expect(only(s.handle(dhcpFrame(B, 3, { requested: '10.9.0.1' }))).type).toBe(6)
  })

  it('renews by unicast, also on a new server that never saw the lease', () => {
    const first = new DhcpServer('10.9.0.0/24', 'lab')
    const ip = only(first.handle(dhcpFrame(A, 1))).yiaddr
    first.handle(dhcpFrame(A, 3, { requested: ip }))
    const fresh = new DhcpServer('10.9.0.0/24', 'lab')
    expect(fresh.mac).toEqual(first.mac)
    const renewed = only(
      fresh.handle(dhcpFrame(A, 3, { ciaddr: ip, to: { mac: fresh.mac, ip: '10.9.0.1' } })),
    )
    expect(renewed.type).toBe(5)
    expect(renewed.yiaddr).toBe(ip)
    expect(renewed.dstMac).toBe(A.replaceAll(':', ''))
    expect(renewed.dstIp).toBe(ip)
    // And the same MAC is offered the same address by a server that starts empty.
    expect(only(new DhcpServer('10.9.0.0/24', 'lab').handle(dhcpFrame(A, 1))).yiaddr).toBe(ip)
  })

  it('stays quiet for other servers, other ports, released and declined addresses', () => {
    const s = new DhcpServer('192.168.50.0/29', 'tiny')
    const ip = only(s.handle(dhcpFrame(A, 1))).yiaddr
    expect(s.handle(dhcpFrame(A, 3, { requested: ip, serverId: '192.168.50.99' }))).toEqual([])
    expect(s.leaseOf(A)).toBeUndefined()
    // DECLINE: the address is in use by someone; it is never offered again.
    only(s.handle(dhcpFrame(A, 1)))
    const declined = s.leaseOf(A)!
    expect(s.handle(dhcpFrame(A, 4))).toEqual([])
    expect(only(s.handle(dhcpFrame(A, 1))).yiaddr).not.toBe(declined)
    expect(s.handle(dhcpFrame(A, 7))).toEqual([])
    expect(s.leaseOf(A)).toBeUndefined()
    // A /29 has six host addresses: the server's, and five to lease, one of them declined.
    const macs = [1, 2, 3, 4, 5, 6].map((i) => `52:54:00:00:01:0${i}`)
    const offered = macs.map((m) => s.handle(dhcpFrame(m, 1)).length)
    expect(offered).toEqual([1, 1, 1, 1, 0, 0])
    const notDhcp = dhcpFrame(A, 1)
    notDhcp.writeUInt16BE(69, 34 + 2)
    expect(s.handle(notDhcp)).toEqual([])
  })

  it('answers ARP for its own address, and only for it', () => {
    const s = new DhcpServer('10.9.0.0/24', 'lab')
    const request = (target: string) => {
      const f = Buffer.alloc(42)
      BROADCAST_MAC.copy(f, 0)
      macBytes(A).copy(f, 6)
      f.writeUInt16BE(0x0806, 12)
      f.writeUInt16BE(1, 14)
      f.writeUInt16BE(0x0800, 16)
      f[18] = 6
      f[19] = 4
      f.writeUInt16BE(1, 20)
      macBytes(A).copy(f, 22)
      f.writeUInt32BE(ipToNumber('10.9.0.77'), 28)
      f.writeUInt32BE(ipToNumber(target), 38)
      return f
    }
    const [reply] = s.handle(request('10.9.0.1'))
    expect(reply!.subarray(0, 6)).toEqual(macBytes(A))
    expect(reply!.readUInt16BE(20)).toBe(2)
    expect(reply!.subarray(22, 28)).toEqual(s.mac)
    expect(numberToIp(reply!.readUInt32BE(28))).toBe('10.9.0.1')
    expect(numberToIp(reply!.readUInt32BE(38))).toBe('10.9.0.77')
    expect(s.handle(request('10.9.0.2'))).toEqual([])
  })

  it('takes only network addresses as subnets', () => {
    expect(InternalDhcp.safeParse({ subnet: '10.9.0.0/24' }).success).toBe(true)
    expect(InternalDhcp.safeParse({ subnet: '10.9.0.5/24' }).error?.issues[0]?.message).toMatch(
      /host bits zero/,
    )
    expect(InternalDhcp.safeParse({ subnet: '10.9.0.0/31' }).error?.issues[0]?.message).toMatch(
      /\/8 to a \/30/,
    )
    expect(InternalDhcp.safeParse({ subnet: '10.9.0.0' }).success).toBe(false)
  })
})

describe('DHCP behind the switch', () => {
  it('serves the cards of the network that asks for it, and refuses a second subnet', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vdh-'))
    const nets = new InternalNetworks()
    const servers: ReturnType<typeof createServer>[] = []
    /** A card as QEMU shows it: the frames the switch sent, and a way to send one. */
    async function card(name: string) {
      const path = join(dir, `${name}.net`)
      const got: Buffer[] = []
      let client: Socket | null = null
      const server = createServer((sock) => {
        client = sock
        const reader = new FrameReader((f) => got.push(f))
        sock.on('data', (b: Buffer) => reader.push(b))
        sock.on('error', () => undefined)
      })
      servers.push(server)
      await new Promise<void>((ok) => server.listen(path, ok))
      return {
        path,
        got,
        send: (f: Buffer) => client!.write(encodeFrame(f)),
        connected: () => client !== null,
      }
    }
    try {
      const a = await card('a')
      const plain = await card('p')
      nets.attach('vm-a', [{ nicId: 'net0', network: 'lab', socketPath: a.path, dhcpSubnet: '10.9.0.0/24' }])
      nets.attach('vm-p', [{ nicId: 'net0', network: 'plain', socketPath: plain.path }])
      await expect.poll(() => a.connected() && plain.connected()).toBe(true)
      expect(nets.dhcpServer('lab')?.cidr).toBe('10.9.0.0/24')
      expect(nets.dhcpServer('plain')).toBeNull()

      a.send(dhcpFrame(A, 1))
      plain.send(dhcpFrame(B, 1))
      await expect.poll(() => a.got.length).toBe(1)
      expect(parseReply(a.got[0]!).type).toBe(2)
      await new Promise((r) => setTimeout(r, 200))
      expect(plain.got).toEqual([])

      expect(() =>
        nets.assertCompatible('vm-b', [
          { nicId: 'net1', network: 'lab', socketPath: '/x', dhcpSubnet: '10.8.0.0/24' },
        ]),
      ).toThrow(/"lab" already leases addresses from 10.9.0.0\/24, not 10.8.0.0\/24/)
      nets.assertCompatible('vm-b', [
        { nicId: 'net1', network: 'lab', socketPath: '/x', dhcpSubnet: '10.9.0.0/24' },
      ])
      nets.assertCompatible('vm-b', [{ nicId: 'net1', network: 'lab', socketPath: '/x' }])

      nets.detach('vm-a')
      expect(nets.dhcpServer('lab')).toBeNull()
    } finally {
      nets.dispose()
      for (const s of servers) s.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
