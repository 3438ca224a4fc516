// A VM's config with a device added or removed: its id, its PCI slot, and the q35 root-port count
// held still. Pure.
//
// The count of pcie-root-ports is part of the machine (engine/qemu/argv/placement.ts): a snapshot
// load or an incoming migration needs the same ports on both sides, so attaching and detaching
// never change it. A device that takes a spare port takes it from `hotplugSlots`; one that leaves
// gives it back. Only a stopped VM with no spare port left grows by one port, since nothing then
// holds the old machine.
import { VireoError } from '../api/errors.ts'
import type { Disk, Nic, VmConfig } from '../api/vm-config.ts'
import {
  assignPlacements,
  isPciDisk,
  nextFreeSlot,
  pciDevices,
  rootPortCount,
} from '../qemu/argv/placement.ts'

export type NewDevice = { kind: 'disk'; device: Disk } | { kind: 'nic'; device: Nic }

/** The schema's ceiling on spare ports. */
const MAX_HOTPLUG_SLOTS = 16

function placedCount(config: VmConfig): number {
  return pciDevices(config).filter((d) => d.device.pci).length
}

/** `hotplugSlots` set so that the port count stays `ports` now that the placed devices changed. */
function keepPorts(config: VmConfig, ports: number): VmConfig {
  if (config.machine.type !== 'q35') return config
  // A port beyond the highest slot in use and the spares would be lost without this; the highest
  // slot alone never needs more than `ports` (it was below it before).
  const spare = Math.min(MAX_HOTPLUG_SLOTS, Math.max(0, ports - placedCount(config)))
  return { ...config, hotplugSlots: spare }
}

/** Every id QEMU will see from the VM's own devices. */
function usedIds(config: VmConfig): Set<string> {
  return new Set([...config.disks, ...config.cdroms, ...config.nics].map((d) => d.id))
}

/**
 * The lowest free `<prefix><N>`: disk1, net1, … A name `taken` refuses (a disk image of that name
 * left in the VM's folder by an earlier detach) is skipped.
 */
export function nextDeviceId(
  config: VmConfig,
  prefix: 'disk' | 'net',
  taken: (id: string) => boolean = () => false,
): string {
  const used = usedIds(config)
  for (let n = 0; ; n++) {
    const id = `${prefix}${n}`
    if (!used.has(id) && !taken(id)) return id
  }
}

function needsSlot(d: NewDevice): boolean {
  return d.kind === 'nic' || isPciDisk(d.device)
}

function describe(config: VmConfig, d: NewDevice): string {
  return `${d.kind === 'disk' ? 'the disk' : 'the network card'} "${d.device.id}" on "${config.name}"`
}

/**
 * The config with the device added. `live`: the VM runs, so the device must go into a port that
 * already exists (a spare one), or it is refused in words.
 */
export function withDevice(config: VmConfig, add: NewDevice, opts: { live: boolean }): VmConfig {
  const ports = rootPortCount(config)
  const append = (c: VmConfig, d: NewDevice): VmConfig =>
    d.kind === 'disk' ? { ...c, disks: [...c.disks, d.device] } : { ...c, nics: [...c.nics, d.device] }
  if (!needsSlot(add)) {
    const { pci: _none, ...device } = add.device as Disk
    return append(config, { kind: 'disk', device })
  }
  const slot = nextFreeSlot(config)
  if (slot === null) {
    if (opts.live) {
      const where =
        config.machine.type === 'q35'
          ? `all ${ports} of its PCIe ports are in use`
          : 'every PCI slot of its bus is in use'
      throw new VireoError(
        'conflict',
        `there is no free slot for ${describe(config, add)}: ${where}; remove a disk or a network card first, or shut the VM down to add a port`,
      )
    }
    // Stopped and out of spares: one more port (assignPlacements takes the lowest free slot, or
    // says there is none left at all).
    return assignPlacements(append(config, add))
  }
  const placed: NewDevice =
    add.kind === 'disk'
      ? { kind: 'disk', device: { ...add.device, pci: { slot } } }
      : { kind: 'nic', device: { ...add.device, pci: { slot } } }
  return keepPorts(append(config, placed), ports)
}

/** The config without the disk or card `id`; its port goes back to the spares. */
export function withoutDevice(config: VmConfig, id: string): VmConfig {
  const ports = rootPortCount(config)
  const next = {
    ...config,
    disks: config.disks.filter((d) => d.id !== id),
    nics: config.nics.filter((n) => n.id !== id),
  }
  return keepPorts(next, ports)
}

/** Which of the VM's devices `id` is: a disk or a card, or a sentence naming what there is. */
export function findDevice(config: VmConfig, id: string): NewDevice {
  const disk = config.disks.find((d) => d.id === id)
  if (disk) return { kind: 'disk', device: disk }
  const nic = config.nics.find((n) => n.id === id)
  if (nic) return { kind: 'nic', device: nic }
  if (config.cdroms.some((c) => c.id === id)) {
    throw new VireoError(
      'invalid_request',
      `"${id}" is the CD drive of "${config.name}", which stays; eject its disc instead (vireo eject)`,
    )
  }
  const ids = [...config.disks, ...config.nics].map((d) => d.id).join(', ') || 'none'
  throw new VireoError(
    'not_found',
    `"${config.name}" has no disk or network card "${id}" (its disks and cards: ${ids})`,
  )
}
