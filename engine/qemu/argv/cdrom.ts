// CD drives. The device keeps the config's id whether or not a disc is in it, so QMP
// blockdev-change-medium / blockdev-open-tray can find it by that id later; an empty drive has no
// drive property at all (QEMU then gives it an empty, removable backend).
import type { Cdrom, VmConfig } from '../../api/vm-config.ts'
import { ataPosition } from './ata-ports.ts'
import { bootProp } from './boot.ts'
import type { LaunchContext } from './context.ts'
import type { BlockdevJson, DeviceJson } from './json.ts'
import { vmFilePath } from './paths.ts'

export interface CdromDevices {
  /** Empty when the tray is empty. */
  blockdevs: BlockdevJson[]
  device: DeviceJson
}

export function cdromNodeNames(id: string): { file: string; format: string } {
  return { file: `${id}-file`, format: id }
}

/** A disc as a read-only raw node pair, for the command line and for inserting media later. */
export function cdromMediumBlockdevs(cdromId: string, path: string): BlockdevJson[] {
  const names = cdromNodeNames(cdromId)
  return [
    { driver: 'file', 'node-name': names.file, filename: path, 'read-only': true },
    { driver: 'raw', 'node-name': names.format, file: names.file, 'read-only': true },
  ]
}

export function cdromDevices(config: VmConfig, cd: Cdrom, ctx: LaunchContext): CdromDevices {
  const blockdevs = cd.path === null ? [] : cdromMediumBlockdevs(cd.id, vmFilePath(ctx, cd.path))
  return {
    blockdevs,
    device: {
      driver: 'ide-cd',
      id: cd.id,
      ...ataPosition(config, cd.id),
      ...(cd.path === null ? {} : { drive: cdromNodeNames(cd.id).format }),
      ...bootProp(config, cd.id),
    },
  }
}
