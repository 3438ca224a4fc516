// The device dialog's rules, apart from the dialog so they can be tested alone: a form per disk and
// per network card made from the VM, and the disk.update / nic.update params holding only what
// changed, or the sentence that says why the change cannot be made.
import type { UpdateDiskParams, UpdateNicParams } from '../../engine/api/rpc.ts'
import {
  InternalDhcp,
  InternalNetworkName,
  MacAddress,
  type Disk,
  type Network,
  type Nic,
} from '../../engine/api/vm-config.ts'
import type { Choice } from '../devices/choices.ts'
import { sentence } from '../library/new-vm-form.ts'

export type DiskForm = Pick<Disk, 'bus' | 'cache' | 'discard' | 'detectZeroes' | 'readOnly' | 'iothread'>

export function diskForm(d: Disk): DiskForm {
  return {
    bus: d.bus,
    cache: d.cache,
    discard: d.discard,
    detectZeroes: d.detectZeroes,
    readOnly: d.readOnly,
    iothread: d.iothread,
  }
}

export function diskChanges(vm: string, d: Disk, f: DiskForm): UpdateDiskParams | null {
  const params: UpdateDiskParams = { vm, disk: d.id }
  for (const k of Object.keys(f) as (keyof DiskForm)[]) {
    if (f[k] !== d[k]) Object.assign(params, { [k]: f[k] })
  }
  return Object.keys(params).length > 2 ? params : null
}

/** What the form can tell before the engine does (the engine checks everything again). */
export function diskProblem(f: DiskForm): string | null {
  if (f.iothread && f.bus !== 'virtio-blk' && f.bus !== 'virtio-scsi')
    return 'Only virtio-blk and virtio-scsi disks can run on an I/O thread.'
  if (f.detectZeroes === 'unmap' && !f.discard)
    return 'Turning zeroes into holes needs discard on; turn discard on or store zeroes as zero clusters.'
  if (f.readOnly && (f.bus === 'sata' || f.bus === 'ide'))
    return 'SATA and IDE disks cannot be read-only; choose virtio-blk, virtio-scsi or NVMe.'
  return null
}

export interface NicForm {
  model: Nic['model']
  mac: string
  mode: Network['mode']
  /** The internal network's name (internal mode only). */
  internal: string
  /** The subnet the engine leases addresses from on that network; '' for no DHCP. */
  dhcp: string
}

export function nicForm(n: Nic): NicForm {
  return {
    model: n.model,
    mac: n.mac,
    mode: n.network.mode,
    internal: n.network.mode === 'internal' ? n.network.name : '',
    dhcp: n.network.mode === 'internal' ? (n.network.dhcp?.subnet ?? '') : '',
  }
}

export function nicChanges(
  vm: string,
  n: Nic,
  f: NicForm,
): { params: UpdateNicParams | null; error: string | null } {
  const params: UpdateNicParams = { vm, nic: n.id }
  if (f.model !== n.model) params.model = f.model
  const mac = f.mac.trim().toLowerCase()
  if (mac !== n.mac) {
    const ok = MacAddress.safeParse(mac)
    if (!ok.success) return { params: null, error: sentence(ok.error.issues[0]?.message ?? 'invalid MAC') }
    params.mac = mac
  }
  const current = nicForm(n)
  const internalChanged =
    f.mode === 'internal' && (f.internal.trim() !== current.internal || f.dhcp.trim() !== current.dhcp)
  if (f.mode !== current.mode || internalChanged) {
    if (f.mode === 'internal') {
      const name = InternalNetworkName.safeParse(f.internal.trim())
      if (!name.success)
        return { params: null, error: sentence(name.error.issues[0]?.message ?? 'invalid network name') }
      const subnet = f.dhcp.trim()
      const dhcp = subnet ? InternalDhcp.safeParse({ subnet }) : null
      if (dhcp && !dhcp.success)
        return { params: null, error: sentence(dhcp.error.issues[0]?.message ?? 'invalid subnet') }
      params.network = { mode: 'internal', name: name.data, ...(dhcp?.success ? { dhcp: dhcp.data } : {}) }
    } else if (f.mode === 'nat') {
      // Forwards stay as they were when the card was on NAT already.
      params.network = { mode: 'nat', portForwards: n.network.mode === 'nat' ? n.network.portForwards : [] }
    } else params.network = { mode: 'none' }
  }
  return { params: Object.keys(params).length > 2 ? params : null, error: null }
}

export const NETWORK_CHOICES: Choice<Network['mode']>[] = [
  {
    value: 'nat',
    label: 'NAT',
    explain: 'Reaches out through the host, like a home router; port forwards let the host in.',
  },
  {
    value: 'internal',
    label: 'Internal network',
    explain: 'Only VMs on this host that name the same network see each other; nothing leaves the host.',
  },
  { value: 'none', label: 'Not connected', explain: 'The card is there but has no network.' },
]
