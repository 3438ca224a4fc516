// `--network nat|none|internal:NAME` of `vireo nic`, and the rule that port forwards are NAT's.
import { VireoError } from '../api/errors.ts'
import { InternalNetworkName, type Network } from '../api/vm-config.ts'

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

/** Port forwards reach a card from the host through NAT; an internal network has no way in. */
export function refuseForwardsOnInternal(nic: string, network: Network | NetworkChoice | undefined): void {
  if (network?.mode !== 'internal') return
  throw new VireoError(
    'invalid_request',
    `the card "${nic}" is on the internal network "${network.name}", which the host cannot reach; port forwards need --network nat`,
  )
}
