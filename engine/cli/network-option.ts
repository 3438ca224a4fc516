// `vireo nic`'s --network nat|none|internal:NAME, --forward/--no-forwards and --dhcp/--no-dhcp:
// what the card's network becomes. Port forwards are NAT's (the host's way in), DHCP is an
// internal network's (the engine's switch answers it); each is refused elsewhere in words.
import { VireoError } from '../api/errors.ts'
import { InternalDhcp, InternalNetworkName, type Network, type PortForward } from '../api/vm-config.ts'

export type NetworkChoice = { mode: 'nat' } | { mode: 'none' } | { mode: 'internal'; name: string }

export function parseNetworkOption(v: string): NetworkChoice {
  if (v === 'nat' || v === 'none') return { mode: v }
  const m = /^internal:(.*)$/.exec(v)
  if (!m) throw new VireoError('invalid_request', `--network: "${v}" is not nat, none or internal:NAME`)
  const name = InternalNetworkName.safeParse(m[1])
  if (!name.success)
    throw new VireoError(
      'invalid_request',
      `--network: "${m[1]}" is not a network name: ${name.error.issues[0]?.message}`,
    )
  return { mode: 'internal', name: name.data }
}

export function parseDhcpOption(v: string): string {
  const subnet = InternalDhcp.shape.subnet.safeParse(v)
  if (!subnet.success)
    throw new VireoError(
      'invalid_request',
      `--dhcp: "${v}" is not a subnet: ${subnet.error.issues[0]?.message}`,
    )
  return subnet.data
}

export interface NetworkOptions {
  network?: NetworkChoice | undefined
  forwards?: PortForward[] | undefined
  noForwards: boolean
  /** A subnet, false for --no-dhcp, undefined when not given. */
  dhcp?: string | false | undefined
}

/** The card's new network, or undefined to leave it as it is. */
export async function networkChange(
  nic: string,
  o: NetworkOptions,
  current: () => Promise<Network | undefined>,
): Promise<Network | undefined> {
  const { network, forwards, noForwards, dhcp } = o
  if (!network && !forwards && !noForwards && dhcp === undefined) return undefined
  // Undefined when there is no such card: the engine then says which cards there are.
  const now = await current()
  const target = network ?? now
  if (dhcp !== undefined && target && target.mode !== 'internal') {
    throw new VireoError(
      'invalid_request',
      `DHCP is served on internal networks, and the card "${nic}" is on ${target.mode === 'nat' ? 'NAT, which has its own' : 'no network'}: give --network internal:NAME too`,
    )
  }
  if (target?.mode === 'internal') {
    if (forwards) {
      throw new VireoError(
        'invalid_request',
        `the card "${nic}" is on the internal network "${target.name}", which the host cannot reach; port forwards need --network nat`,
      )
    }
    // --no-forwards alone leaves an internal card where it is: it has none to remove.
    if (!network && dhcp === undefined) return undefined
    const kept = now?.mode === 'internal' ? now.dhcp?.subnet : undefined
    const subnet = dhcp === undefined ? kept : dhcp || undefined
    return { mode: 'internal', name: target.name, ...(subnet ? { dhcp: { subnet } } : {}) }
  }
  if (network?.mode === 'none') {
    if (forwards) throw new VireoError('invalid_request', 'a card with no network has nothing to forward')
    return { mode: 'none' }
  }
  const kept = now?.mode === 'nat' ? now.portForwards : []
  return { mode: 'nat', portForwards: forwards ?? (noForwards ? [] : kept) }
}
