// Just enough Ethernet, ARP, IPv4 and UDP to answer DHCP on an internal network: reading the
// frames a guest sends to the server, and writing the server's replies.

export const ETHERTYPE_IPV4 = 0x0800
export const ETHERTYPE_ARP = 0x0806
export const BROADCAST_MAC = Buffer.from('ffffffffffff', 'hex')

export function macBytes(mac: string): Buffer {
  return Buffer.from(mac.replaceAll(':', ''), 'hex')
}

export interface UdpDatagram {
  srcMac: Buffer
  dstMac: Buffer
  srcIp: number
  dstIp: number
  srcPort: number
  dstPort: number
  payload: Buffer
}

/** A UDP datagram in an unfragmented IPv4 packet in an Ethernet frame; null for anything else. */
export function readUdp(frame: Buffer): UdpDatagram | null {
  if (frame.byteLength < 14 + 20 + 8 || frame.readUInt16BE(12) !== ETHERTYPE_IPV4) return null
  const ip = frame.subarray(14)
  const ihl = (ip[0]! & 0x0f) * 4
  if (ip[0]! >> 4 !== 4 || ihl < 20 || ip[9] !== 17) return null
  // More fragments, or a fragment offset: DHCP is never fragmented.
  if ((ip.readUInt16BE(6) & 0x3fff) !== 0) return null
  const total = Math.min(ip.readUInt16BE(2), ip.byteLength)
  const udp = ip.subarray(ihl, total)
  if (udp.byteLength < 8) return null
  const udpLength = Math.min(udp.readUInt16BE(4), udp.byteLength)
  return {
    dstMac: frame.subarray(0, 6),
    srcMac: frame.subarray(6, 12),
    srcIp: ip.readUInt32BE(12),
    dstIp: ip.readUInt32BE(16),
    srcPort: udp.readUInt16BE(0),
    dstPort: udp.readUInt16BE(2),
    payload: udp.subarray(8, udpLength),
  }
}

function ipChecksum(header: Buffer): number {
  let sum = 0
  for (let i = 0; i < header.byteLength; i += 2) sum += header.readUInt16BE(i)
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16)
  return ~sum & 0xffff
}

/** An Ethernet frame carrying a UDP datagram (UDP checksum 0: none, which IPv4 allows). */
export function writeUdp(d: UdpDatagram): Buffer {
  const frame = Buffer.alloc(14 + 20 + 8 + d.payload.byteLength)
  d.dstMac.copy(frame, 0)
  d.srcMac.copy(frame, 6)
  frame.writeUInt16BE(ETHERTYPE_IPV4, 12)
  const ip = frame.subarray(14, 34)
  ip[0] = 0x45
  ip.writeUInt16BE(20 + 8 + d.payload.byteLength, 2)
  ip[8] = 64
  ip[9] = 17
  ip.writeUInt32BE(d.srcIp, 12)
  ip.writeUInt32BE(d.dstIp, 16)
  ip.writeUInt16BE(ipChecksum(ip), 10)
  const udp = frame.subarray(34)
  udp.writeUInt16BE(d.srcPort, 0)
  udp.writeUInt16BE(d.dstPort, 2)
  udp.writeUInt16BE(8 + d.payload.byteLength, 4)
  d.payload.copy(udp, 8)
  return frame
}

/** The reply to an ARP request for `ip` from whoever asked, as `mac`; null if it is not one. */
export function answerArp(frame: Buffer, ip: number, mac: Buffer): Buffer | null {
  if (frame.byteLength < 42 || frame.readUInt16BE(12) !== ETHERTYPE_ARP) return null
  const arp = frame.subarray(14)
  // Ethernet/IPv4, a request, for this address.
  if (arp.readUInt16BE(0) !== 1 || arp.readUInt16BE(2) !== ETHERTYPE_IPV4 || arp.readUInt16BE(6) !== 1)
    return null
  if (arp.readUInt32BE(24) !== ip) return null
  const reply = Buffer.alloc(42)
  const asker = arp.subarray(8, 14)
  asker.copy(reply, 0)
  mac.copy(reply, 6)
  reply.writeUInt16BE(ETHERTYPE_ARP, 12)
  const r = reply.subarray(14)
  r.writeUInt16BE(1, 0)
  r.writeUInt16BE(ETHERTYPE_IPV4, 2)
  r[4] = 6
  r[5] = 4
  r.writeUInt16BE(2, 6)
  mac.copy(r, 8)
  r.writeUInt32BE(ip, 14)
  asker.copy(r, 18)
  arp.copy(r, 24, 14, 18)
  return reply
}
