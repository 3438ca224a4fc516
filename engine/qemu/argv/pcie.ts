// PCI topology: the fixed addresses, the q35 root ports, and where a placed device goes. Every
// address is explicit, so the guest sees the same hardware after a hot-plug, a snapshot load or a
// migration (QEMU would otherwise hand out the next free slot in command-line order).
import type { PciPlacement, VmConfig } from '../../api/vm-config.ts'
import { PC_FIRST_FREE_SLOT, PCI_LAYOUT, pciDevices, rootPortCount, type PciDevice } from './placement.ts'
import { ArgvError } from './context.ts'
import type { DeviceJson } from './json.ts'

export interface PciAddress {
  bus: string
  addr: string
}

export function rootBus(config: VmConfig): string {
  return config.machine.type === 'q35' ? 'pcie.0' : 'pci.0'
}

export function pciAddr(slot: number, fn = 0): string {
  return fn === 0 ? `0x${slot.toString(16)}` : `0x${slot.toString(16)}.${fn}`
}

export function rootPortId(index: number): string {
  return `rp${index}`
}

/** Where a fixed device sits on the root bus. */
export function fixedAddress(config: VmConfig, what: 'display' | 'xhci' | 'rng'): PciAddress {
  const layout = config.machine.type === 'q35' ? PCI_LAYOUT.q35 : PCI_LAYOUT.pc
  return { bus: rootBus(config), addr: pciAddr(layout[what]) }
}

export function rootPortDevice(index: number): DeviceJson {
  const fn = index % 8
  const slot = PCI_LAYOUT.q35.rootPortSlots[Math.floor(index / 8)]
  if (slot === undefined)
    throw new ArgvError(`a q35 VM has at most ${PCI_LAYOUT.q35.rootPortSlots.length * 8} PCIe ports`)
  return {
    driver: 'pcie-root-port',
    id: rootPortId(index),
    bus: 'pcie.0',
    addr: pciAddr(slot, fn),
    // Unique per port, as the PCIe slot numbering the guest sees (libvirt's scheme).
    chassis: index + 1,
    port: 0x10 + index,
    ...(fn === 0 ? { multifunction: true } : {}),
  }
}

/** q35's root ports rp0…rpN, one per placed device plus the hot-plug spares; none on pc. */
export function rootPortDevices(config: VmConfig): DeviceJson[] {
  if (config.machine.type !== 'q35') return []
  return Array.from({ length: rootPortCount(config) }, (_, i) => rootPortDevice(i))
}

function describe(d: PciDevice): string {
  return d.kind === 'disk' ? `the disk "${d.device.id}"` : `the network card "${d.device.id}"`
}

/** The bus and address of a device from its recorded slot. */
export function placedAddress(config: VmConfig, owner: string, pci: PciPlacement | undefined): PciAddress {
  if (!pci) {
    throw new ArgvError(
      `${owner} has no PCI slot recorded yet (assignPlacements gives it one before the VM starts)`,
    )
  }
  if (config.machine.type === 'q35') return { bus: rootPortId(pci.slot), addr: pciAddr(0) }
  if (pci.slot < PC_FIRST_FREE_SLOT) {
    throw new ArgvError(
      `${owner} is placed in PCI slot ${pci.slot}, which the pc machine keeps for built-in devices (slots 0–${PC_FIRST_FREE_SLOT - 1})`,
    )
  }
  return { bus: 'pci.0', addr: pciAddr(pci.slot) }
}

/** Two devices in one slot would make QEMU refuse to start, or worse, swap them between runs. */
export function checkPlacements(config: VmConfig): void {
  const bySlot = new Map<number, PciDevice>()
  for (const d of pciDevices(config)) {
    const slot = d.device.pci?.slot
    if (slot === undefined) continue
    const other = bySlot.get(slot)
    if (other)
      throw new ArgvError(`${describe(other)} and ${describe(d)} are both placed in PCI slot ${slot}`)
    bySlot.set(slot, d)
  }
}
