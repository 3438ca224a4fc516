// A disk's settings changed on a stopped VM. Pure: the new config, or a sentence saying why not.
// QEMU's own refusals (an I/O thread on SATA, read-only ATA disks, detect-zeroes=unmap without
// discard) are checked where the argv is built, so the caller renders the argv to find them.
import { VireoError } from '../api/errors.ts'
import type { UpdateDiskParams } from '../api/rpc.ts'
import type { Disk, VmConfig } from '../api/vm-config.ts'
import { assignPlacements } from '../qemu/argv/placement.ts'

const SETTINGS = ['bus', 'cache', 'discard', 'detectZeroes', 'readOnly', 'iothread'] as const

export function changedDiskSettings(disk: Disk, p: UpdateDiskParams): Partial<Disk> {
  const out: Partial<Record<(typeof SETTINGS)[number], unknown>> = {}
  for (const k of SETTINGS) if (p[k] !== undefined && p[k] !== disk[k]) out[k] = p[k]
  return out as Partial<Disk>
}

export function applyDiskSettings(config: VmConfig, p: UpdateDiskParams): VmConfig {
  const disk = config.disks.find((d) => d.id === p.disk)
  if (!disk) {
    const ids = config.disks.map((d) => d.id).join(', ') || 'none'
    throw new VireoError('not_found', `"${config.name}" has no disk "${p.disk}" (its disks: ${ids})`)
  }
  const changes = changedDiskSettings(disk, p)
  const next = { ...config, disks: config.disks.map((d) => (d.id === disk.id ? { ...d, ...changes } : d)) }
  // A disk moved onto a PCI bus takes a slot; one moved off it gives its slot back.
  return assignPlacements(next)
}
