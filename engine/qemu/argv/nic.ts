// Network cards: the device (model, MAC, slot) and its backend. NAT is QEMU's user-mode network
// with one hostfwd rule per port forward, bound to exactly the address the forward names. A card
// on the `none` network has no backend at all: the guest sees a card with no traffic (QEMU 7.2
// prints "warning: nic <id> has no peer" for it).
//
// A card on an internal network is a stream netdev on which QEMU listens (a unix socket in the VM's
// runtime dir), and the engine's switch (engine/net) connects to it. QEMU listens rather than the
// engine because the switch must heal when a new engine re-attaches after a crash: checked on QEMU
// 7.2, a stream server accepts a new client each time the last one went away (the guest's frames
// flow again), and never waits for a client at start-up (frames sent meanwhile are dropped, as on
// a cable with no switch behind it). QEMU as the client cannot heal (7.2 has no `reconnect` for
// stream netdevs); a dgram netdev on unix sockets would, but Node has no unix datagram sockets.
// Never `-netdev socket,mcast`: multicast may leave the host.
import type { Nic, NicModel, PortForward, VmConfig } from '../../api/vm-config.ts'
import { bootProp } from './boot.ts'
import { ArgvError, type LaunchContext } from './context.ts'
import type { DeviceJson, NetdevJson } from './json.ts'
import { runtimeSocket } from './paths.ts'
import { placedAddress } from './pcie.ts'

export const NIC_DRIVERS: Record<NicModel, string> = {
  'virtio-net': 'virtio-net-pci',
  e1000: 'e1000',
  e1000e: 'e1000e',
  rtl8139: 'rtl8139',
  vmxnet3: 'vmxnet3',
}

export interface NicDevices {
  /** Add before the device, delete after it; null for a card with no network. */
  netdev: NetdevJson | null
  device: DeviceJson
}

export function netdevId(nicId: string): string {
  return `${nicId}-net`
}

/** QEMU's hostfwd rule: `tcp:127.0.0.1:2222-:22` (an empty guest address is the DHCP lease). */
export function hostfwdRule(f: PortForward): string {
  return `${f.protocol}:${f.hostAddress}:${f.hostPort}-:${f.guestPort}`
}

function checkForwards(nic: Nic, forwards: PortForward[]): void {
  const seen = new Set<string>()
  for (const f of forwards) {
    const key = `${f.protocol} ${f.hostAddress}:${f.hostPort}`
    if (seen.has(key))
      throw new ArgvError(
        `the network card "${nic.id}" forwards ${key} twice; a host port can be forwarded once`,
      )
    seen.add(key)
  }
}

/** The socket's name in the runtime dir: QEMU listens on it, the engine's switch connects. */
export function internalNicSocketName(nicId: string): `${string}.net` {
  return `${nicId}.net`
}

export function nicNetdev(nic: Nic, ctx: LaunchContext): NetdevJson | null {
  if (nic.network.mode === 'none') return null
  if (nic.network.mode === 'internal') {
    return {
      type: 'stream',
      id: netdevId(nic.id),
      server: true,
      addr: { type: 'unix', path: runtimeSocket(ctx, internalNicSocketName(nic.id)) },
    }
  }
  const forwards = nic.network.portForwards
  checkForwards(nic, forwards)
  return {
    type: 'user',
    id: netdevId(nic.id),
    ...(forwards.length ? { hostfwd: forwards.map((f) => ({ str: hostfwdRule(f) })) } : {}),
  }
}

export function nicDevices(config: VmConfig, nic: Nic, ctx: LaunchContext): NicDevices {
  const netdev = nicNetdev(nic, ctx)
  return {
    netdev,
    device: {
      driver: NIC_DRIVERS[nic.model],
      id: nic.id,
      ...placedAddress(config, `the network card "${nic.id}"`, nic.pci),
      ...(netdev ? { netdev: netdev.id } : {}),
      mac: nic.mac,
      ...bootProp(config, nic.id),
    },
  }
}

/**
 * Cards whose cable is unplugged. QEMU 7.2 has no property to start a card with its link down, so
 * the launcher sends `set_link {name: <id>, up: false}` over QMP as soon as it connects.
 */
export function nicsWithLinkDown(config: VmConfig): string[] {
  return config.nics.filter((n) => !n.linkUp).map((n) => n.id)
}
