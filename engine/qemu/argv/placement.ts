// Where PCI devices sit. A device keeps its slot for life (recorded in vm.json), because a snapshot
// load or an incoming migration finds devices by address: a disk that moved one slot after a
// hot-plug is a different machine to QEMU.
//
// What a slot means:
// - q35: the index N of the pcie-root-port `rpN` the device is plugged into (q35 cannot hot-plug
//   on pcie.0, so every device gets a port of its own, created up front).
// - pc: the device's slot number on pci.0 itself (i440fx hot-plugs there through ACPI). Slots
//   below PC_FIRST_FREE_SLOT hold the fixed devices listed in PCI_LAYOUT.pc.
//
// Which devices take a slot: NICs, and disks on virtio-blk, nvme or virtio-scsi. A virtio-scsi
// disk gets a virtio-scsi controller of its own, and the disk's slot is that controller's slot:
// the schema has no place for a shared controller, and one controller per disk lets the disk and
// its controller be hot-plugged and unplugged together. Disks and CD drives on SATA or IDE hang
// off the AHCI/IDE controller and have no slot.
import type { Disk, Nic, PciPlacement, VmConfig } from '../../api/vm-config.ts'
import { VireoError } from '../../api/errors.ts'

/** Fixed addresses on the root bus; a stored slot never points at one of these. */
export const PCI_LAYOUT = {
  q35: {
    display: 0x01,
    /** Root ports, eight functions per slot (libvirt's layout): up to 32 ports in slots 2–5. */
    rootPortSlots: [0x02, 0x03, 0x04, 0x05],
    xhci: 0x06,
    rng: 0x07,
    // 0x1f holds the built-in LPC bridge, AHCI and SMBus controllers.
  },
  pc: {
    // 0x00 host bridge, 0x01 PIIX3 (ISA, IDE, ACPI)
    display: 0x02,
    xhci: 0x03,
    rng: 0x04,
    /** The ich9-ahci controller added when a pc VM has SATA devices. */
    ahci: 0x05,
  },
} as const

export const PC_FIRST_FREE_SLOT = 0x06
export const PCI_MAX_SLOT = 31
export const Q35_MAX_ROOT_PORTS = PCI_LAYOUT.q35.rootPortSlots.length * 8

export type PciDevice = { kind: 'disk'; device: Disk } | { kind: 'nic'; device: Nic }

export function isPciDisk(disk: Disk): boolean {
  return disk.bus === 'virtio-blk' || disk.bus === 'nvme' || disk.bus === 'virtio-scsi'
}

/** Every device that needs a PCI slot, in config order (disks first, then NICs). */
export function pciDevices(config: VmConfig): PciDevice[] {
  return [
    ...config.disks.filter(isPciDisk).map((device) => ({ kind: 'disk' as const, device })),
    ...config.nics.map((device) => ({ kind: 'nic' as const, device })),
  ]
}

function usedSlots(config: VmConfig): Set<number> {
  const used = new Set<number>()
  for (const d of pciDevices(config)) if (d.device.pci) used.add(d.device.pci.slot)
  return used
}

function candidateSlots(config: VmConfig): number[] {
  const first = config.machine.type === 'pc' ? PC_FIRST_FREE_SLOT : 0
  const last = config.machine.type === 'pc' ? PCI_MAX_SLOT : Q35_MAX_ROOT_PORTS - 1
  const slots: number[] = []
  for (let s = first; s <= last; s++) slots.push(s)
  return slots
}

/**
 * How many pcie-root-ports a q35 VM gets: one per placed device plus `hotplugSlots` spares, and
 * never fewer than the highest slot in use needs. The count is part of the machine (migration and
 * snapshot-load need the same ports on both sides), so hot-plug code keeps it constant: take one
 * from `hotplugSlots` when a device takes a spare port, give it back when one is removed.
 */
export function rootPortCount(config: VmConfig): number {
  const placed = pciDevices(config).filter((d) => d.device.pci)
  const highest = Math.max(-1, ...placed.map((d) => d.device.pci?.slot ?? -1))
  return Math.min(Q35_MAX_ROOT_PORTS, Math.max(highest + 1, placed.length + config.hotplugSlots))
}

/**
 * The slot a device hot-plugged now would take: on q35 a spare root port that already exists,
 * on pc the lowest free slot on pci.0. Null when there is none.
 */
export function nextFreeSlot(config: VmConfig): number | null {
  const used = usedSlots(config)
  const limit = config.machine.type === 'q35' ? rootPortCount(config) : PCI_MAX_SLOT + 1
  return candidateSlots(config).find((s) => s < limit && !used.has(s)) ?? null
}

/**
 * Gives every PCI device without a slot the lowest free one, never moving a device that has one;
 * SATA and IDE disks lose a placement left over from an earlier bus. Returns a new config.
 */
export function assignPlacements(config: VmConfig): VmConfig {
  const used = usedSlots(config)
  const free = candidateSlots(config).filter((s) => !used.has(s))
  const place = (what: string): PciPlacement => {
    const slot = free.shift()
    if (slot === undefined) {
      throw new VireoError(
        'conflict',
        `there is no free PCI slot left for ${what}; remove a disk or a network card`,
      )
    }
    return { slot }
  }
  const disks = config.disks.map((d): Disk => {
    if (!isPciDisk(d)) {
      const { pci: _stale, ...rest } = d
      return rest
    }
    return d.pci ? d : { ...d, pci: place(`the disk "${d.id}"`) }
  })
  const nics = config.nics.map((n): Nic => (n.pci ? n : { ...n, pci: place(`the network card "${n.id}"`) }))
  return { ...config, disks, nics }
}
