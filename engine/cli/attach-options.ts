// `vireo attach NAME disk|nic …`: the options made into device.attach params, and what is said
// after an attach and a detach. The short bus names are the ones users type (virtio, scsi); the engine's are kept
// too.
import { VireoError } from '../api/errors.ts'
import type { AttachedDevice, AttachParams, DeviceKind, VmInfo } from '../api/rpc.ts'
import type { DiskBus, NicModel } from '../api/vm-config.ts'
import type { NetworkChoice } from './network-option.ts'
import { safe } from './plain-text.ts'

export const ATTACH_BUSES = ['virtio', 'scsi', 'nvme', 'sata', 'ide', 'virtio-blk', 'virtio-scsi'] as const

const BUS: Record<(typeof ATTACH_BUSES)[number], DiskBus> = {
  virtio: 'virtio-blk',
  'virtio-blk': 'virtio-blk',
  scsi: 'virtio-scsi',
  'virtio-scsi': 'virtio-scsi',
  nvme: 'nvme',
  sata: 'sata',
  ide: 'ide',
}

export interface AttachOptions {
  iso?: string
  size?: string
  image?: string
  allowBacking?: string[]
  bus?: (typeof ATTACH_BUSES)[number]
  model?: NicModel
  network?: NetworkChoice
  /** A subnet the internal network's DHCP leases from (parsed by parseDhcpOption). */
  dhcp?: string
}

/** The options that belong to each kind; any other given is refused rather than ignored. */
const OWN: Record<DeviceKind, (keyof AttachOptions)[]> = {
  disk: ['size', 'image', 'allowBacking', 'bus'],
  nic: ['model', 'network', 'dhcp'],
}

const FLAG: Record<keyof AttachOptions, string> = {
  iso: '--iso',
  size: '--size',
  image: '--image',
  allowBacking: '--allow-backing',
  bus: '--bus',
  model: '--model',
  network: '--network',
  dhcp: '--dhcp',
}

export function attachParams(vm: string, kind: DeviceKind, o: AttachOptions): AttachParams {
  const stray = (Object.keys(FLAG) as (keyof AttachOptions)[]).find(
    (k) => o[k] !== undefined && !OWN[kind].includes(k),
  )
  if (stray)
    throw new VireoError(
      'invalid_request',
      `${FLAG[stray]} does not go with attaching a ${kind === 'disk' ? 'disk' : 'network card'}`,
    )
  if (kind === 'disk') {
    if (o.size === undefined && o.image === undefined)
      throw new VireoError('invalid_request', 'attach disk needs --size SIZE (a new disk) or --image PATH')
    return {
      vm,
      kind: 'disk',
      ...(o.size !== undefined ? { size: o.size } : {}),
      ...(o.image !== undefined ? { image: o.image } : {}),
      ...(o.allowBacking !== undefined ? { allowBacking: o.allowBacking } : {}),
      ...(o.bus !== undefined ? { bus: BUS[o.bus] } : {}),
    }
  }
  const network = o.network
  if (o.dhcp !== undefined && network?.mode !== 'internal') {
    throw new VireoError(
      'invalid_request',
      'DHCP is served on internal networks: give --network internal:NAME with --dhcp',
    )
  }
  return {
    vm,
    kind: 'nic',
    ...(o.model !== undefined ? { model: o.model } : {}),
    ...(network?.mode === 'nat' ? { network: { mode: 'nat', portForwards: [] } } : {}),
    ...(network?.mode === 'none' ? { network } : {}),
    ...(network?.mode === 'internal'
      ? { network: { ...network, ...(o.dhcp !== undefined ? { dhcp: { subnet: o.dhcp } } : {}) } }
      : {}),
  }
}

/** The device an attach added, in words: its id, and its bus and image or its model and MAC. */
export function attachedDevice(d: AttachedDevice): string {
  return d.kind === 'disk'
    ? `the disk ${safe(d.id)} (${d.bus}, ${safe(d.path)})`
    : `the network card ${safe(d.id)} (${d.model}, ${safe(d.mac)})`
}

/** What a detach leaves behind, in a sentence. */
export function detachedMessage(before: VmInfo, id: string): string {
  const disk = before.config.disks.find((d) => d.id === id)
  const path = disk ? (disk.path.startsWith('/') ? disk.path : `${before.dir}/${disk.path}`) : null
  return `Detached ${safe(id)} from "${safe(before.name)}".${path ? ` Its image stays at ${safe(path)}.` : ''}`
}
