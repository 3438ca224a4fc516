// Hard disks: a file node and a format node per disk (`<id>-file`, `<id>`), and the device for the
// disk's bus. The same objects serve blockdev-add and device_add when a disk is hot-plugged.
import type { CacheMode, Disk, VmConfig } from '../../api/vm-config.ts'
import { ataPosition } from './ata-ports.ts'
import { bootProp } from './boot.ts'
import { ArgvError, type ChainLink, type LaunchContext } from './context.ts'
import type {
  BlockCacheJson,
  BlockdevJson,
  DeviceJson,
  FormatBlockdevJson,
  InlineImageJson,
  ObjectJson,
} from './json.ts'
import { vmFilePath } from './paths.ts'
import { placedAddress } from './pcie.ts'

export interface DiskDevices {
  /** The disk's I/O thread, created before the device that names it; null on the main loop. */
  iothread: ObjectJson | null
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

export function iothreadId(diskId: string): string {
  return `${diskId}-io`
}

/** Buses whose device can run on an I/O thread in QEMU 7.2 (nvme and the ATA ones cannot). */
const IOTHREAD_BUSES = new Set(['virtio-blk', 'virtio-scsi'])

function checkDiskOptions(disk: Disk, owner: string): void {
  if (disk.iothread && !IOTHREAD_BUSES.has(disk.bus)) {
    throw new ArgvError(
      `${owner} is on ${disk.bus}, which cannot use an I/O thread; choose virtio-blk or virtio-scsi`,
    )
  }
  // QEMU refuses detect-zeroes=unmap on a node that ignores discards.
  if (disk.detectZeroes === 'unmap' && !disk.discard) {
    throw new ArgvError(
      `${owner} turns zeroes into discards (detect-zeroes unmap) but has discard off; turn discard on or choose detect-zeroes on`,
    )
  }
}

export function diskBlockdevs(disk: Disk, ctx: LaunchContext): BlockdevJson[] {
  // Cache and discard are set on every node: with -blockdev nothing is inherited down the chain.
  const common = {
    cache: CACHE_MODES[disk.cache].cache,
    discard: disk.discard ? ('unmap' as const) : ('ignore' as const),
  }
  // Zero detection belongs on the format node, where the guest's writes arrive.
  const zeroes = disk.detectZeroes === 'off' ? {} : { 'detect-zeroes': disk.detectZeroes }
  const chain = ctx.chains?.[disk.id]
  if (!chain) {
    const names = diskNodeNames(disk.id)
    const rw = { 'read-only': disk.readOnly, ...common }
    return [
      { driver: 'file', 'node-name': names.file, filename: vmFilePath(ctx, disk.path), ...rw },
      { driver: disk.format, 'node-name': names.format, file: names.file, ...rw, ...zeroes },
    ]
  }
  return chainBlockdevs(disk.id, chain, { readOnly: disk.readOnly, common, top: zeroes })
}

type NodeOptions = Pick<FormatBlockdevJson, 'cache' | 'discard' | 'detect-zeroes'>

/**
 * An image chain as explicit nodes: the top keeps the names `<id>-file` and `<id>`, the images
 * below it are defined inside it (`<id>-b1`, `<id>-b2`, …) down to a `backing: null`, so QEMU
 * opens exactly these files and follows no name it finds in one of them.
 */
export function chainBlockdevs(
  id: string,
  chain: readonly ChainLink[],
  o: { readOnly: boolean; common?: NodeOptions; top?: NodeOptions },
): BlockdevJson[] {
  const top = chain[0]!
  const rw = { 'read-only': o.readOnly, ...o.common }
  return [
    { driver: 'file', 'node-name': `${id}-file`, filename: top.path, ...rw },
    {
      driver: top.format,
      'node-name': id,
      file: `${id}-file`,
      ...rw,
      ...below(id, chain, 0),
      ...o.top,
    },
  ]
}

/** The `backing` and `data-file` options of the chain's image `i`. */
function below(
  id: string,
  chain: readonly ChainLink[],
  i: number,
): Pick<InlineImageJson, 'backing' | 'data-file'> {
  const link = chain[i]!
  const name = i === 0 ? id : `${id}-b${i}`
  const next = chain[i + 1]
  const backing: InlineImageJson | null = next
    ? {
        driver: next.format,
        'node-name': `${id}-b${i + 1}`,
        file: { driver: 'file', 'node-name': `${id}-b${i + 1}-file`, filename: next.path },
        ...below(id, chain, i + 1),
      }
    : null
  return {
    ...(link.format === 'qcow2' || link.format === 'vmdk' ? { backing } : {}),
    ...(link.dataFile
      ? { 'data-file': { driver: 'file' as const, 'node-name': `${name}-data`, filename: link.dataFile } }
      : {}),
  }
}

export function diskDevices(config: VmConfig, disk: Disk, ctx: LaunchContext): DiskDevices {
  const owner = `the disk "${disk.id}"`
  checkDiskOptions(disk, owner)
  const iothread: ObjectJson | null = disk.iothread
    ? { 'qom-type': 'iothread', id: iothreadId(disk.id) }
    : null
  const onThread = iothread ? { iothread: iothread.id } : {}
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
        iothread,
        blockdevs,
        controller: null,
        device: {
          driver: 'virtio-blk-pci',
          id: disk.id,
          ...placedAddress(config, owner, disk.pci),
          ...onThread,
          ...backend,
        },
      }
    case 'nvme':
      return {
        iothread,
        blockdevs,
        controller: null,
        device: { driver: 'nvme', id: disk.id, ...placedAddress(config, owner, disk.pci), ...backend },
      }
    case 'virtio-scsi': {
      const controller = scsiControllerId(disk.id)
      return {
        iothread,
        blockdevs,
        controller: {
          driver: 'virtio-scsi-pci',
          id: controller,
          ...placedAddress(config, owner, disk.pci),
          ...onThread,
        },
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
        iothread,
        blockdevs,
        controller: null,
        device: { driver: 'ide-hd', id: disk.id, ...ataPosition(config, disk.id), ...backend },
      }
    }
  }
}
