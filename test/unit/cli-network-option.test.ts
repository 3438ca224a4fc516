// What `vireo nic`'s --network, --forward/--no-forwards and --dhcp/--no-dhcp make of a card's
// network, given the network it is on now; and what they refuse, in words.
import { describe, expect, it } from 'vitest'
import type { Network } from '../../engine/api/vm-config.ts'
import {
  networkChange,
  parseDhcpOption,
  parseNetworkOption,
  type NetworkOptions,
} from '../../engine/cli/network-option.ts'

const fwd = { protocol: 'tcp' as const, hostAddress: '127.0.0.1', hostPort: 2222, guestPort: 22 }
const nat: Network = { mode: 'nat', portForwards: [fwd] }
const lab: Network = { mode: 'internal', name: 'lab', dhcp: { subnet: '10.9.0.0/24' } }

function change(o: Partial<NetworkOptions>, now: Network | undefined) {
  return networkChange('net0', { noForwards: false, ...o }, () => Promise.resolve(now))
}

describe('vireo nic network options', () => {
  it('parses --network and --dhcp', () => {
    expect(parseNetworkOption('nat')).toEqual({ mode: 'nat' })
    expect(parseNetworkOption('internal:lab.2')).toEqual({ mode: 'internal', name: 'lab.2' })
    expect(() => parseNetworkOption('bridge')).toThrow(/"bridge" is not nat, none or internal:NAME/)
    expect(() => parseNetworkOption('internal:')).toThrow(/is not a network name/)
    expect(parseDhcpOption('10.9.0.0/24')).toBe('10.9.0.0/24')
    expect(() => parseDhcpOption('10.9.0.0')).toThrow(/--dhcp: "10.9.0.0" is not a subnet/)
  })

  it('moves a card onto an internal network and keeps or changes its DHCP', async () => {
    expect(await change({ network: { mode: 'internal', name: 'lab' } }, nat)).toEqual({
      mode: 'internal',
      name: 'lab',
    })
    expect(await change({ network: { mode: 'internal', name: 'lab2' } }, lab)).toEqual({
      mode: 'internal',
      name: 'lab2',
      dhcp: { subnet: '10.9.0.0/24' },
    })
    expect(await change({ dhcp: '10.7.0.0/16' }, lab)).toEqual({
      mode: 'internal',
      name: 'lab',
      dhcp: { subnet: '10.7.0.0/16' },
    })
    expect(await change({ dhcp: false }, lab)).toEqual({ mode: 'internal', name: 'lab' })
    // Nothing to remove from an internal card: left as it is.
    expect(await change({ noForwards: true }, lab)).toBeUndefined()
    expect(await change({}, lab)).toBeUndefined()
  })

  it('refuses forwards on internal networks and DHCP elsewhere', async () => {
    await expect(change({ forwards: [fwd] }, lab)).rejects.toThrow(
      /"net0" is on the internal network "lab", which the host cannot reach; port forwards need --network nat/,
    )
    await expect(change({ network: { mode: 'internal', name: 'x' }, forwards: [fwd] }, nat)).rejects.toThrow(
      /internal network "x"/,
    )
    await expect(change({ dhcp: '10.9.0.0/24' }, nat)).rejects.toThrow(
      /DHCP is served on internal networks, and the card "net0" is on NAT/,
    )
    await expect(change({ network: { mode: 'none' }, dhcp: '10.9.0.0/24' }, lab)).rejects.toThrow(
      /is on no network/,
    )
    await expect(change({ network: { mode: 'none' }, forwards: [fwd] }, nat)).rejects.toThrow(
      /nothing to forward/,
    )
  })

  it('keeps NAT as it was: forwards kept, replaced or removed', async () => {
    expect(await change({ network: { mode: 'nat' } }, nat)).toEqual(nat)
    expect(await change({ network: { mode: 'nat' } }, lab)).toEqual({ mode: 'nat', portForwards: [] })
    expect(await change({ noForwards: true }, nat)).toEqual({ mode: 'nat', portForwards: [] })
    expect(await change({ forwards: [{ ...fwd, hostPort: 8080 }] }, { mode: 'none' })).toEqual({
      mode: 'nat',
      portForwards: [{ ...fwd, hostPort: 8080 }],
    })
    expect(await change({ network: { mode: 'none' } }, nat)).toEqual({ mode: 'none' })
  })
})
