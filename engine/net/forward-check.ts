// Port forwards across a whole VM: two NAT cards of one machine share the host's ports, so QEMU
// cannot start with the same host port forwarded twice, whichever cards ask. Refused in words
// before the change is stored (nic.update, device.attach), not found out at the next start.
import { VireoError } from '../api/errors.ts'
import { forwardClash, forwardClashSentence, type ForwardLike } from '../api/network-rules.ts'
import type { Network } from '../api/vm-config.ts'

interface CardNetwork {
  id: string
  network: Network
}

/** Throws when two forwards of these cards (the VM's cards as they would be) want one host port. */
export function assertForwardsFree(cards: readonly CardNetwork[]): void {
  const all: (ForwardLike & { card: string })[] = cards.flatMap((c) =>
    c.network.mode === 'nat' ? c.network.portForwards.map((f) => ({ ...f, card: c.id })) : [],
  )
  const clash = forwardClash(all)
  if (!clash) return
  const [a, b] = clash
  const where = a.card === b.card ? ` (both on ${a.card})` : ` (on ${a.card} and ${b.card})`
  throw new VireoError('invalid_request', forwardClashSentence(a, b, where))
}
