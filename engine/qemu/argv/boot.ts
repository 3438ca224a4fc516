// Boot order as bootindex properties: the firmware (SeaBIOS and OVMF alike) tries devices by
// ascending index. Kinds follow config.bootOrder; within a kind, config order. Devices of kinds not
// listed get no index, and the firmware tries them last.
import type { BootDevice, VmConfig } from '../../api/vm-config.ts'

export function bootIndexes(config: VmConfig): Map<string, number> {
  const ids: Record<BootDevice, string[]> = {
    disk: config.disks.map((d) => d.id),
    cdrom: config.cdroms.map((c) => c.id),
    network: config.nics.map((n) => n.id),
  }
  const out = new Map<string, number>()
  for (const kind of new Set(config.bootOrder)) {
    for (const id of ids[kind]) out.set(id, out.size + 1)
  }
  return out
}

/** `{ bootindex }` to spread into a device, or nothing. */
export function bootProp(config: VmConfig, id: string): { bootindex?: number } {
  const index = bootIndexes(config).get(id)
  return index === undefined ? {} : { bootindex: index }
}
