// Network settings QEMU or a guest would refuse, refused before anything is stored: MACs that are
// multicast, zero or malformed, DHCP subnets no guest can use, forward addresses no socket binds,
// and two forwards of one host port, on one card or across a VM's cards.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { refusedWithoutTrace, startEngine, type HostileEngine } from './harness.ts'

let t: HostileEngine
let vm: string
let other: string
beforeAll(async () => {
  t = await startEngine()
  vm = (await t.makeVm('net-a')).id
  other = (await t.makeVm('net-b')).id
})
afterAll(() => t.close())

const FORM = (v: string) =>
  `a MAC address is six lower-case hex pairs separated by colons, such as 52:54:00:12:34:56, not ${v}`
const MULTICAST = (mac: string) =>
  `${mac} is a multicast MAC address (the low bit of its first octet is set); a card needs a unicast one such as 52:54:00:12:34:56`

describe('MAC addresses', () => {
  it.each<[string, unknown, string]>([
    [
      'all zero',
      '00:00:00:00:00:00',
      'the MAC address 00:00:00:00:00:00 means "none" to QEMU, which would make up another; give a real one such as 52:54:00:12:34:56',
    ],
    ['broadcast', 'ff:ff:ff:ff:ff:ff', MULTICAST('ff:ff:ff:ff:ff:ff')],
    ['IPv4 multicast', '01:00:5e:00:00:01', MULTICAST('01:00:5e:00:00:01')],
    ['IPv6 multicast', '33:33:00:00:00:01', MULTICAST('33:33:00:00:00:01')],
    ['multicast bit alone', '03:00:00:00:00:00', MULTICAST('03:00:00:00:00:00')],
    ['upper case', 'AA:BB:CC:DD:EE:FE', FORM('"AA:BB:CC:DD:EE:FE"')],
    ['five pairs', '52:54:00:12:34', FORM('"52:54:00:12:34"')],
    ['seven pairs', '52:54:00:12:34:56:78', FORM('"52:54:00:12:34:56:78"')],
    ['dashes', '52-54-00-12-34-56', FORM('"52-54-00-12-34-56"')],
    ['no separators', '525400123456', FORM('"525400123456"')],
    ['a non-hex digit', '52:54:00:12:34:5g', FORM('"52:54:00:12:34:5g"')],
    ['empty', '', FORM('""')],
    ['a leading space', ' 52:54:00:12:34:56', FORM('" 52:54:00:12:34:56"')],
    ['a trailing newline', '52:54:00:12:34:56\n', FORM('"52:54:00:12:34:56\\n"')],
    ['a number', 42, '`mac` must be text, not 42'],
    ['null', null, '`mac` must be text, not null'],
  ])('%s', async (_what, mac, message) => {
    await refusedWithoutTrace(t, 'nic.update', { vm, nic: 'net0', mac }, 'invalid_request', message)
  })

  it("another VM's MAC", async () => {
    const info = (await t.call('vm.info', { vm: other })).result as { config: { nics: { mac: string }[] } }
    const mac = info.config.nics[0]!.mac
    await refusedWithoutTrace(
      t,
      'nic.update',
      { vm, nic: 'net0', mac },
      'conflict',
      `the MAC address ${mac} is already used by "net-b"`,
    )
  })
})

const dhcp = (subnet: unknown) => ({
  vm,
  nic: 'net0',
  network: { mode: 'internal', name: 'lab', dhcp: { subnet } },
})
const UNUSABLE = (subnet: string, how: string, range: string, what: string) =>
  `the DHCP subnet ${subnet} ${how} ${range}, ${what}; choose a private network such as 10.9.0.0/24`
const LOOPBACK = 'loopback, which every guest keeps for itself'
const MULTI = "multicast, never one machine's address"
const RESERVED = 'reserved, with the broadcast address 255.255.255.255'
const THIS_NET = '"this network", never a machine\'s address'
const LINK_LOCAL = 'link-local, which guests take for themselves when DHCP fails'

describe('DHCP subnets', () => {
  it.each<[string, unknown, string]>([
    ['loopback /8', '127.0.0.0/8', UNUSABLE('127.0.0.0/8', 'is in', '127.0.0.0/8', LOOPBACK)],
    ['loopback /16', '127.1.0.0/16', UNUSABLE('127.1.0.0/16', 'is in', '127.0.0.0/8', LOOPBACK)],
    ['multicast', '224.0.0.0/24', UNUSABLE('224.0.0.0/24', 'is in', '224.0.0.0/4', MULTI)],
    ['the top of multicast', '239.255.255.0/24', UNUSABLE('239.255.255.0/24', 'is in', '224.0.0.0/4', MULTI)],
    ['reserved', '240.0.0.0/8', UNUSABLE('240.0.0.0/8', 'is in', '240.0.0.0/4', RESERVED)],
    ['the broadcast /24', '255.255.255.0/24', UNUSABLE('255.255.255.0/24', 'is in', '240.0.0.0/4', RESERVED)],
    ['"this network"', '0.0.0.0/8', UNUSABLE('0.0.0.0/8', 'is in', '0.0.0.0/8', THIS_NET)],
    ['"this network" /16', '0.0.0.0/16', UNUSABLE('0.0.0.0/16', 'is in', '0.0.0.0/8', THIS_NET)],
    ['link-local', '169.254.0.0/16', UNUSABLE('169.254.0.0/16', 'is in', '169.254.0.0/16', LINK_LOCAL)],
    ['link-local /24', '169.254.10.0/24', UNUSABLE('169.254.10.0/24', 'is in', '169.254.0.0/16', LINK_LOCAL)],
    [
      'a /8 around link-local',
      '169.0.0.0/8',
      UNUSABLE('169.0.0.0/8', 'overlaps', '169.254.0.0/16', LINK_LOCAL),
    ],
    ['host bits set', '10.9.0.1/24', 'a DHCP subnet is written with its network address (host bits zero)'],
    ['a /31', '10.9.0.0/31', 'a DHCP subnet is a /8 to a /30'],
    ['a /7', '10.0.0.0/7', 'a DHCP subnet is a /8 to a /30'],
    ['no prefix', '10.9.0.0', 'a DHCP subnet is an IPv4 network such as 10.9.0.0/24'],
    ['a /33', '10.9.0.0/33', 'a DHCP subnet is an IPv4 network such as 10.9.0.0/24'],
    ['an octet of 300', '300.1.1.0/24', 'a DHCP subnet is an IPv4 network such as 10.9.0.0/24'],
    ['a trailing space', '10.9.0.0/24 ', 'a DHCP subnet is an IPv4 network such as 10.9.0.0/24'],
    ['IPv6', 'fd00::/64', 'a DHCP subnet is an IPv4 network such as 10.9.0.0/24'],
    ['a number', 10, 'a DHCP subnet is an IPv4 network such as 10.9.0.0/24'],
  ])('%s', async (_what, subnet, message) => {
    await refusedWithoutTrace(t, 'nic.update', dhcp(subnet), 'invalid_request', message)
  })

  it('an unusable subnet is refused for a new card too', async () => {
    await refusedWithoutTrace(
      t,
      'device.attach',
      { vm, kind: 'nic', network: { mode: 'internal', name: 'lab', dhcp: { subnet: '127.0.0.0/24' } } },
      'invalid_request',
      UNUSABLE('127.0.0.0/24', 'is in', '127.0.0.0/8', LOOPBACK),
    )
  })
})

type Fwd = { protocol?: string; hostAddress?: string; hostPort: unknown; guestPort: unknown }
const nat =
  (...portForwards: Fwd[]) =>
  () => ({ vm, nic: 'net0', network: { mode: 'nat', portForwards } })
const CLASH = (a: string, b: string, proto: string, port: number, where = '') =>
  `the port forwards ${a} and ${b}${where} both want ${proto} port ${port} on the host, which QEMU cannot give twice; give each its own host port`

describe('port forwards', () => {
  it.each<[string, ReturnType<typeof nat>, string]>([
    [
      'the same port twice',
      nat({ hostPort: 2222, guestPort: 22 }, { hostPort: 2222, guestPort: 80 }),
      CLASH('tcp 127.0.0.1:2222 → 22', 'tcp 127.0.0.1:2222 → 80', 'tcp', 2222),
    ],
    [
      'every address and loopback on one port',
      nat({ hostAddress: '0.0.0.0', hostPort: 8080, guestPort: 80 }, { hostPort: 8080, guestPort: 81 }),
      CLASH('tcp 0.0.0.0:8080 → 80', 'tcp 127.0.0.1:8080 → 81', 'tcp', 8080),
    ],
    [
      'UDP twice',
      nat(
        { protocol: 'udp', hostPort: 53, guestPort: 53 },
        { protocol: 'udp', hostPort: 53, guestPort: 5353 },
      ),
      CLASH('udp 127.0.0.1:53 → 53', 'udp 127.0.0.1:53 → 5353', 'udp', 53),
    ],
    [
      'port 0',
      nat({ hostPort: 0, guestPort: 22 }),
      '`network.portForwards[0].hostPort` must be at least 1, not 0',
    ],
    [
      'port 70000',
      nat({ hostPort: 70000, guestPort: 22 }),
      '`network.portForwards[0].hostPort` must be at most 65535, not 70000',
    ],
    [
      'a fractional guest port',
      nat({ hostPort: 2222, guestPort: 22.5 }),
      '`network.portForwards[0].guestPort` must be a whole number, not 22.5',
    ],
    [
      'a port as text',
      nat({ hostPort: '2222', guestPort: 22 }),
      '`network.portForwards[0].hostPort` must be a whole number from 1 to 65535, not the text "2222"',
    ],
    [
      'SCTP',
      nat({ protocol: 'sctp', hostPort: 2222, guestPort: 22 }),
      '`network.portForwards[0].protocol` must be one of tcp, udp, not the text "sctp"',
    ],
    [
      'a multicast address',
      nat({ hostAddress: '224.0.0.1', hostPort: 2222, guestPort: 22 }),
      "a port forward cannot listen on 224.0.0.1, a multicast or reserved address; give one of this host's addresses, 127.0.0.1 or 0.0.0.0",
    ],
    [
      'the broadcast address',
      nat({ hostAddress: '255.255.255.255', hostPort: 2222, guestPort: 22 }),
      "a port forward cannot listen on 255.255.255.255, a multicast or reserved address; give one of this host's addresses, 127.0.0.1 or 0.0.0.0",
    ],
    [
      'an address in 0.0.0.0/8',
      nat({ hostAddress: '0.1.2.3', hostPort: 2222, guestPort: 22 }),
      'a port forward cannot listen on 0.1.2.3: only 0.0.0.0 (every address) is valid in 0.0.0.0/8',
    ],
    [
      'IPv6 loopback',
      nat({ hostAddress: '::1', hostPort: 2222, guestPort: 22 }),
      '`network.portForwards[0].hostAddress` must be an IPv4 address such as 192.0.2.10, not the text "::1"',
    ],
    [
      'a host name',
      nat({ hostAddress: 'localhost', hostPort: 2222, guestPort: 22 }),
      '`network.portForwards[0].hostAddress` must be an IPv4 address such as 192.0.2.10, not the text "localhost"',
    ],
    [
      'an address with a newline',
      nat({ hostAddress: '127.0.0.1\n', hostPort: 2222, guestPort: 22 }),
      '`network.portForwards[0].hostAddress` must be an IPv4 address such as 192.0.2.10, not the text "127.0.0.1\\n"',
    ],
  ])('%s', async (_what, params, message) => {
    await refusedWithoutTrace(t, 'nic.update', params(), 'invalid_request', message)
  })

  it('a network mode that does not exist, and an internal network name that cannot be one', async () => {
    await refusedWithoutTrace(
      t,
      'nic.update',
      { vm, nic: 'net0', network: { mode: 'bridge' } },
      'invalid_request',
      '`network.mode` must be one of nat, internal, none, not the text "bridge"',
    )
    await refusedWithoutTrace(
      t,
      'nic.update',
      { vm, nic: 'net0', network: { mode: 'internal', name: '-lab' } },
      'invalid_request',
      'an internal network name is 1-32 letters, digits, ., _ or -',
    )
  })

  it('TCP and UDP on one port are two forwards QEMU can set up', async () => {
    const r = await t.call(
      'nic.update',
      nat({ hostPort: 5353, guestPort: 53 }, { protocol: 'udp', hostPort: 5353, guestPort: 53 })(),
    )
    expect(r.error).toBeUndefined()
  })

  it("a second card's forward on a port the first card forwards, attached or changed", async () => {
    const first = await t.call('nic.update', nat({ hostPort: 2222, guestPort: 22 })())
    expect(first.error).toBeUndefined()
    await refusedWithoutTrace(
      t,
      'device.attach',
      {
        vm,
        kind: 'nic',
        network: { mode: 'nat', portForwards: [{ hostAddress: '0.0.0.0', hostPort: 2222, guestPort: 22 }] },
      },
      'invalid_request',
      CLASH('tcp 127.0.0.1:2222 → 22', 'tcp 0.0.0.0:2222 → 22', 'tcp', 2222, ' (on net0 and the new card)'),
    )
    const second = await t.call('device.attach', {
      vm,
      kind: 'nic',
      network: { mode: 'nat', portForwards: [] },
    })
    expect(second.error).toBeUndefined()
    await refusedWithoutTrace(
      t,
      'nic.update',
      { vm, nic: 'net1', network: { mode: 'nat', portForwards: [{ hostPort: 2222, guestPort: 80 }] } },
      'invalid_request',
      CLASH('tcp 127.0.0.1:2222 → 22', 'tcp 127.0.0.1:2222 → 80', 'tcp', 2222, ' (on net0 and net1)'),
    )
  })
})
