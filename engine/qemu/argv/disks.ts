// Hard disks: a file node and a format node per disk (`<id>-file`, `<id>`), and the device for the
// disk's bus. The same objects serve blockdev-add and device_add when a disk is hot-plugged.
import type { CacheMode, Disk, VmConfig } from '../../api/vm-config.ts'
import { ataPosition } from './ata-ports.ts'
import { bootProp } from './boot.ts'
import { ArgvError, type LaunchContext } from './context.ts'
import type { BlockCacheJson, BlockdevJson, DeviceJson } from './json.ts'
import { vmFilePath } from './paths.ts'
import { placedAddress } from './pcie.ts'

export interface DiskDevices {
  /** File node first, then the format node on top of it: add in this order, delete in reverse. */
  blockdevs: BlockdevJson[]
  /** virtio-scsi only: the disk's own controller, plugged before the disk. */
  controller: DeviceJson | null
  device: DeviceJson
}

/**
 * The classic -drive cache= modes, spelled out for -blockdev: `direct` bypasses the host page
 * cache (O_DIRECT), `no-flush` ignores the guest's flushes, and the device's write cache off makes
 * every write synchronous (writethrough).
 */
export const CACHE_MODES: Record<CacheMode, { cache: BlockCacheJson; writeCache: 'on' | 'off' }> = {
  writeback: { cache: { direct: false, 'no-flush': false }, writeCache: 'on' },
  none: { cache: { direct: true, 'no-flush': false }, writeCache: 'on' },
  writethrough: { cache: { direct: false, 'no-flush': false }, writeCache: 'off' },
  unsafe: { cache: { direct: false, 'no-flush': true }, writeCache: 'on' },
}

export function diskNodeNames(id: string): { file: string; format: string } {
  return { file: `${id}-file`, format: id }
}

export function scsiControllerId(diskId: string): string {
  return `${diskId}-scsi`
}

export function diskBlockdevs(disk: Disk, ctx: LaunchContext): BlockdevJson[] {
  const names = diskNodeNames(disk.id)
  // Cache and discard are set on both nodes: with -blockdev nothing is inherited down the chain.
  const common = {
    'read-only': disk.readOnly,
    cache: CACHE_MODES[disk.cache].cache,
    discard: disk.discard ? ('unmap' as const) : ('ignore' as const),
  }
  return [
    { driver: 'file', 'node-name': names.file, filename: vmFilePath(ctx, disk.path), ...common },
    { driver: disk.format, 'node-name': names.format, file: names.file, ...common },
  ]
}

export function diskDevices(config: VmConfig, disk: Disk, ctx: LaunchContext): DiskDevices {
  const owner = `the disk "${disk.id}"`
  const backend = {
    drive: diskNodeNames(disk.id).format,
    serial: disk.serial,
    'write-cache': CACHE_MODES[disk.cache].writeCache,
    ...bootProp(config, disk.id),
  }
  const blockdevs = diskBlockdevs(disk, ctx)
  switch (disk.bus) {
    case 'virtio-blk':
      return {
        blockdevs,
        controller: null,
        device: {
          driver: 'virtio-blk-pci',
          id: disk.id,
          ...placedAddress(config, owner, disk.pci),
          ...backend,
        },
      }
    case 'nvme':
      return {
        blockdevs,
        controller: null,
        device: { driver: 'nvme', id: disk.id, ...placedAddress(config, owner, disk.pci), ...backend },
      }
    case 'virtio-scsi': {
      const controller = scsiControllerId(disk.id)
      return {
        blockdevs,
        controller: { driver: 'virtio-scsi-pci', id: controller, ...placedAddress(config, owner, disk.pci) },
        device: {
          driver: 'scsi-hd',
          id: disk.id,
          bus: `${controller}.0`,
          channel: 0,
          'scsi-id': 0,
          lun: 0,
          ...backend,
        },
      }
    }
    case 'sata':
    case 'ide': {
      // QEMU's ide-hd refuses a read-only node outright ("Block node is read-only").
      if (disk.readOnly) {
        throw new ArgvError(
          `${owner} is read-only, which ${disk.bus === 'sata' ? 'SATA' : 'IDE'} disks cannot be; choose virtio-blk, virtio-scsi or NVMe`,
        )
      }
      return {
        blockdevs,
        controller: null,
        device: { driver: 'ide-hd', id: disk.id, ...ataPosition(config, disk.id), ...backend },
      }
    }
  }
}
