// What QEMU or a guest would refuse about addresses, said before anything is stored: DHCP subnets no
// guest can use, forward addresses no socket can bind, and two forwards that want one host port.
// Pure functions on checked strings (dotted quads, CIDR), shared by the schemas and the engine.

export function ipv4Number(ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0)
}

interface Range {
  cidr: string
  what: string
}

// Ranges a DHCP pool must stay out of (RFC 6890), each with the reason a guest cannot use it.
const NOT_FOR_GUESTS: Range[] = [
  { cidr: '0.0.0.0/8', what: '"this network", never a machine\'s address' },
  { cidr: '127.0.0.0/8', what: 'loopback, which every guest keeps for itself' },
  { cidr: '169.254.0.0/16', what: 'link-local, which guests take for themselves when DHCP fails' },
  { cidr: '224.0.0.0/4', what: "multicast, never one machine's address" },
  { cidr: '240.0.0.0/4', what: 'reserved, with the broadcast address 255.255.255.255' },
]

function bounds(cidr: string): [number, number] {
  const [ip = '', bits = '32'] = cidr.split('/')
  const size = 2 ** (32 - Number(bits))
  const start = Math.floor(ipv4Number(ip) / size) * size
  return [start, start + size - 1]
}

/** Why no guest can be given addresses from `cidr` (a checked a.b.c.d/n), or null when one can. */
export function dhcpSubnetProblem(cidr: string): string | null {
  const [lo, hi] = bounds(cidr)
  for (const r of NOT_FOR_GUESTS) {
    const [rlo, rhi] = bounds(r.cidr)
    if (lo > rhi || hi < rlo) continue
    const how = lo >= rlo && hi <= rhi ? 'is in' : 'overlaps'
    return `the DHCP subnet ${cidr} ${how} ${r.cidr}, ${r.what}; choose a private network such as 10.9.0.0/24`
  }
  return null
}

/** Why a forward cannot listen on `ip` (a checked dotted quad), or null when it can try. */
export function forwardAddressProblem(ip: string): string | null {
  const n = ipv4Number(ip)
  if (ip !== '0.0.0.0' && n < 2 ** 24)
    return `a port forward cannot listen on ${ip}: only 0.0.0.0 (every address) is valid in 0.0.0.0/8`
  if (n >= ipv4Number('224.0.0.0'))
    return `a port forward cannot listen on ${ip}, a multicast or reserved address; give one of this host's addresses, 127.0.0.1 or 0.0.0.0`
  return null
}

export interface ForwardLike {
  protocol: 'tcp' | 'udp'
  hostAddress: string
  hostPort: number
  guestPort: number
}

export function describeForward(f: ForwardLike): string {
  return `${f.protocol} ${f.hostAddress}:${f.hostPort} → ${f.guestPort}`
}

/**
 * Two forwards QEMU could not both set up: the same protocol and host port on the same address, or
 * on any address when one of them listens on 0.0.0.0 (every address). null when there are none.
 */
export function forwardClash<F extends ForwardLike>(forwards: readonly F[]): [F, F] | null {
  for (const [i, a] of forwards.entries()) {
    for (const b of forwards.slice(i + 1)) {
      if (a.protocol !== b.protocol || a.hostPort !== b.hostPort) continue
      const overlap =
        a.hostAddress === b.hostAddress || a.hostAddress === '0.0.0.0' || b.hostAddress === '0.0.0.0'
      if (overlap) return [a, b]
    }
  }
  return null
}

/** The clash said as a sentence. */
export function forwardClashSentence(a: ForwardLike, b: ForwardLike, where = ''): string {
  return `the port forwards ${describeForward(a)} and ${describeForward(b)}${where} both want ${a.protocol} port ${a.hostPort} on the host, which QEMU cannot give twice; give each its own host port`
}
