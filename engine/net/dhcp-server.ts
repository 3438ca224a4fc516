// DHCP for an internal network (RFC 2131, the part guests use): offers, acknowledges and releases
// addresses from one subnet, and answers ARP for its own address so that renewals sent to it by
// unicast arrive. It lives on the network's switch as one more port; it knows no sockets. Leases
// live in memory; a guest's address comes from a hash of its MAC, and a renewal of any free
// address is granted, so guests keep their addresses across an engine restart.
import { createHash } from 'node:crypto'
import { answerArp, BROADCAST_MAC, readUdp, writeUdp } from './packets.ts'
import { parseSubnet, numberToIp, type Subnet } from './subnet.ts'

export const DHCP_LEASE_SECONDS = 3600
const SERVER_PORT = 67
const CLIENT_PORT = 68
const MAGIC_COOKIE = 0x63825363

const DISCOVER = 1
const OFFER = 2
const REQUEST = 3
const DECLINE = 4
const ACK = 5
const NAK = 6
const RELEASE = 7

const OPT_MASK = 1
const OPT_BROADCAST = 28
const OPT_REQUESTED_IP = 50
const OPT_LEASE_TIME = 51
const OPT_MESSAGE_TYPE = 53
const OPT_SERVER_ID = 54
const OPT_RENEWAL = 58
const OPT_REBINDING = 59
const OPT_END = 255

interface DhcpRequest {
  type: number
  xid: Buffer
  flags: number
  ciaddr: number
  chaddr: Buffer
  requestedIp: number | null
  serverId: number | null
}

function readRequest(p: Buffer): DhcpRequest | null {
  if (p.byteLength < 240 || p[0] !== 1 || p[1] !== 1 || p[2] !== 6 || p.readUInt32BE(236) !== MAGIC_COOKIE)
    return null
  const options = new Map<number, Buffer>()
  for (let i = 240; i < p.byteLength;) {
    const code = p[i]!
    if (code === OPT_END) break
    if (code === 0) {
      i++
      continue
    }
    const len = p[i + 1] ?? 0
    options.set(code, p.subarray(i + 2, i + 2 + len))
    i += 2 + len
  }
  const type = options.get(OPT_MESSAGE_TYPE)?.[0]
  if (type === undefined) return null
  const ip = (code: number) => {
    const v = options.get(code)
    return v && v.byteLength === 4 ? v.readUInt32BE(0) : null
  }
  return {
    type,
    xid: p.subarray(4, 8),
    flags: p.readUInt16BE(10),
    ciaddr: p.readUInt32BE(12),
    chaddr: p.subarray(28, 34),
    requestedIp: ip(OPT_REQUESTED_IP),
    serverId: ip(OPT_SERVER_ID),
  }
}

function option(code: number, value: number, bytes: 1 | 4): Buffer {
  const b = Buffer.alloc(2 + bytes)
  b[0] = code
  b[1] = bytes
  if (bytes === 1) b[2] = value
  else b.writeUInt32BE(value >>> 0, 2)
  return b
}

export class DhcpServer {
  readonly subnet: Subnet
  readonly cidr: string
  readonly serverIp: number
  readonly mac: Buffer
  /** Client MAC (hex) → address; declined addresses are held under `declined:<ip>`. */
  private readonly leases = new Map<string, number>()

  constructor(cidr: string, network: string) {
    this.cidr = cidr
    this.subnet = parseSubnet(cidr)
    this.serverIp = this.subnet.network + 1
    // Locally administered and unicast, the same for the same network every time.
    const h = createHash('sha256').update(`${network} ${cidr}`).digest()
    this.mac = Buffer.from([0x02, 0x56, 0x49, h[0]!, h[1]!, h[2]!])
  }

  /** The address leased to a MAC (`52:54:00:…`). */
  leaseOf(mac: string): string | undefined {
    const ip = this.leases.get(mac.replaceAll(':', ''))
    return ip === undefined ? undefined : numberToIp(ip)
  }

  /** The frames to send back for one the switch delivered here (none for what is not for the server). */
  handle(frame: Buffer): Buffer[] {
    const arp = answerArp(frame, this.serverIp, this.mac)
    if (arp) return [arp]
    const udp = readUdp(frame)
    if (!udp || udp.dstPort !== SERVER_PORT || udp.srcPort !== CLIENT_PORT) return []
    if (!udp.dstMac.equals(BROADCAST_MAC) && !udp.dstMac.equals(this.mac)) return []
    const req = readRequest(udp.payload)
    if (!req) return []
    const client = req.chaddr.toString('hex')
    switch (req.type) {
      case DISCOVER: {
        const ip = this.pick(client, req.requestedIp)
        return ip === null ? [] : [this.reply(req, OFFER, ip)]
      }
      case REQUEST: {
        // Another server's offer was chosen: ours is withdrawn.
        if (req.serverId !== null && req.serverId !== this.serverIp) {
          this.leases.delete(client)
          return []
        }
        const wanted = req.requestedIp ?? req.ciaddr
        if (this.grantable(client, wanted)) {
          this.leases.set(client, wanted)
          return [this.reply(req, ACK, wanted)]
        }
        return [this.reply(req, NAK, 0)]
      }
      case RELEASE:
        this.leases.delete(client)
        return []
      case DECLINE: {
        // Someone already uses the address: never hand it out again.
        const ip = this.leases.get(client)
        this.leases.delete(client)
        if (ip !== undefined) this.leases.set(`declined:${ip}`, ip)
        return []
      }
      default:
        return []
    }
  }

  private inPool(ip: number): boolean {
    return ip > this.serverIp && ip < this.subnet.broadcast
  }

  private holder(ip: number): string | undefined {
    for (const [k, v] of this.leases) if (v === ip) return k
    return undefined
  }

  private grantable(client: string, ip: number): boolean {
    if (!this.inPool(ip)) return false
    const h = this.holder(ip)
    return h === undefined || h === client
  }

  private pick(client: string, requested: number | null): number | null {
    const current = this.leases.get(client)
    if (current !== undefined) return current
    if (requested !== null && this.grantable(client, requested)) {
      this.leases.set(client, requested)
      return requested
    }
    const first = this.serverIp + 1
    const size = this.subnet.broadcast - first
    if (size <= 0) return null
    const start = createHash('sha256').update(client).digest().readUInt32BE(0) % size
    for (let i = 0; i < size; i++) {
      const ip = first + ((start + i) % size)
      if (this.holder(ip) === undefined) {
        this.leases.set(client, ip)
        return ip
      }
    }
    return null
  }

  private reply(req: DhcpRequest, type: number, yiaddr: number): Buffer {
    const p = Buffer.alloc(240)
    p[0] = 2
    p[1] = 1
    p[2] = 6
    req.xid.copy(p, 4)
    p.writeUInt16BE(req.flags, 10)
    if (type !== NAK) p.writeUInt32BE(req.ciaddr, 12)
    p.writeUInt32BE(yiaddr >>> 0, 16)
    req.chaddr.copy(p, 28)
    p.writeUInt32BE(MAGIC_COOKIE, 236)
    const opts = [option(OPT_MESSAGE_TYPE, type, 1), option(OPT_SERVER_ID, this.serverIp, 4)]
    if (type !== NAK) {
      opts.push(
        option(OPT_LEASE_TIME, DHCP_LEASE_SECONDS, 4),
        option(OPT_RENEWAL, DHCP_LEASE_SECONDS / 2, 4),
        option(OPT_REBINDING, (DHCP_LEASE_SECONDS * 7) / 8, 4),
        option(OPT_MASK, this.subnet.mask, 4),
        option(OPT_BROADCAST, this.subnet.broadcast, 4),
      )
    }
    const payload = Buffer.concat([p, ...opts, Buffer.from([OPT_END])])
    // A client that has its address (a renewal) gets a unicast; one still without is told by broadcast.
    const unicast = type !== NAK && req.ciaddr !== 0
    return writeUdp({
      srcMac: this.mac,
      dstMac: unicast ? Buffer.from(req.chaddr) : BROADCAST_MAC,
      srcIp: this.serverIp,
      dstIp: unicast ? req.ciaddr : 0xffffffff,
      srcPort: SERVER_PORT,
      dstPort: CLIENT_PORT,
      payload,
    })
  }
}
