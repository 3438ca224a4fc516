// IPv4 subnets as numbers: the DHCP server's own address, its pool, mask and broadcast.

export interface Subnet {
  network: number
  prefix: number
  mask: number
  broadcast: number
}

export function ipToNumber(ip: string): number {
  const parts = ip.split('.').map(Number)
  return (((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0) as number
}

export function numberToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.')
}

/** `10.9.0.0/24`, already checked by the schema (engine/api/vm-config.ts InternalDhcp). */
export function parseSubnet(cidr: string): Subnet {
  const [ip, bits] = cidr.split('/')
  const prefix = Number(bits)
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0
  const network = (ipToNumber(ip!) & mask) >>> 0
  return { network, prefix, mask, broadcast: (network | (~mask >>> 0)) >>> 0 }
}
