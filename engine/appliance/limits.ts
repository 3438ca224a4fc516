// What an appliance may ask for. A descriptor is data from anywhere: a typo or a hostile file can
// ask for a petabyte disk, ten thousand CPUs or 1.5 of them, and that is refused in words before a
// byte is written and before `inspect` builds a result from it.
import { VireoError } from '../api/errors.ts'
import { MAX_DISK_BYTES } from '../api/disk-size.ts'
import { CpuCount, MemoryMiB } from '../api/vm-config.ts'
import { quoted } from '../api/visible-text.ts'
import type { Appliance } from './descriptor.ts'

export { MAX_DISK_BYTES }
/** Disks and cards need PCI slots or ATA ports; more than this is no appliance anyone ships. */
export const MAX_DISKS = 16
export const MAX_NICS = 8
/** A descriptor is a few KiB; a manifest less. Anything far larger is not one. */
export const MAX_DESCRIPTOR_BYTES = 8 * 2 ** 20

const TIB = 2 ** 40

function tib(bytes: number): string {
  return `${(bytes / TIB).toFixed(1)} TiB`
}

export function checkLimits(a: Appliance): void {
  const cpuMax = CpuCount.maxValue ?? 64
  if (!Number.isInteger(a.cpus)) {
    throw new VireoError(
      'invalid_request',
      `the appliance asks for ${a.cpus} CPUs, which is not a whole number; correct the CPU item of its descriptor`,
    )
  }
  if (a.cpus < 1 || a.cpus > cpuMax) {
    throw new VireoError(
      'invalid_request',
      `the appliance asks for ${a.cpus} CPUs; Vireo gives a VM 1 to ${cpuMax}, so lower the CPU count in its descriptor`,
    )
  }
  const memMax = MemoryMiB.maxValue ?? 1024 * 1024
  const memMin = MemoryMiB.minValue ?? 16
  if (!Number.isInteger(a.memoryMiB) || a.memoryMiB < memMin || a.memoryMiB > memMax) {
    throw new VireoError(
      'invalid_request',
      `the appliance asks for ${a.memoryMiB} MiB of memory; Vireo gives a VM ${memMin} MiB to ${memMax / 1024} GiB, so change the memory item of its descriptor`,
    )
  }
  if (a.disks.length > MAX_DISKS) {
    throw new VireoError(
      'invalid_request',
      `the appliance has ${a.disks.length} disks; Vireo imports at most ${MAX_DISKS}`,
    )
  }
  if (a.nics.length > MAX_NICS) {
    throw new VireoError(
      'invalid_request',
      `the appliance has ${a.nics.length} network cards; Vireo imports at most ${MAX_NICS}`,
    )
  }
  for (const d of a.disks) {
    if (!Number.isSafeInteger(d.capacityBytes) || d.capacityBytes > MAX_DISK_BYTES) {
      throw new VireoError(
        'invalid_request',
        `the disk ${quoted(d.diskId)} claims ${tib(d.capacityBytes)}; Vireo refuses disks over ${tib(MAX_DISK_BYTES)}`,
      )
    }
    if (d.capacityBytes <= 0 && !d.file) {
      throw new VireoError('invalid_request', `the disk ${quoted(d.diskId)} has no file and no capacity`)
    }
  }
}
