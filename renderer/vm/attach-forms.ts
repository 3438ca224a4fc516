// The Add disk and Add network card forms' rules, apart from the dialog: the device.attach params
// they make, or the sentence that says why not before the engine is asked (it checks again).
import type { AttachParams } from '../../engine/api/rpc.ts'
import { SizeString } from '../../engine/api/rpc.ts'
import {
  InternalDhcp,
  InternalNetworkName,
  type DiskBus,
  type Network,
  type NicModel,
} from '../../engine/api/vm-config.ts'
import { sentence } from '../library/new-vm-form.ts'

export interface AddDiskForm {
  source: 'new' | 'existing'
  /** The new disk's size, e.g. 8G. */
  size: string
  /** An existing image's absolute path on the host. */
  image: string
  bus: DiskBus
}

export const ADD_DISK_FORM: AddDiskForm = { source: 'new', size: '8G', image: '', bus: 'virtio-blk' }

export interface AddNicForm {
  model: NicModel
  mode: Network['mode']
  internal: string
  dhcp: string
}

export const ADD_NIC_FORM: AddNicForm = { model: 'virtio-net', mode: 'nat', internal: '', dhcp: '' }

type Made = { params: AttachParams; error: null } | { params: null; error: string }

const refuse = (error: string): Made => ({ params: null, error })

export function addDiskParams(vm: string, f: AddDiskForm, running: boolean): Made {
  if (running && (f.bus === 'sata' || f.bus === 'ide')) {
    return refuse(
      `${f.bus === 'sata' ? 'SATA' : 'IDE'} cannot be hot-plugged; shut the VM down or choose virtio.`,
    )
  }
  if (f.source === 'new') {
    const size = SizeString.safeParse(f.size.trim())
    if (!size.success) return refuse(sentence(size.error.issues[0]?.message ?? 'invalid size'))
    return { params: { vm, kind: 'disk', size: size.data, bus: f.bus }, error: null }
  }
  const image = f.image.trim()
  if (!image.startsWith('/')) return refuse('Give the full path of the image on the host, starting with /.')
  return { params: { vm, kind: 'disk', image, bus: f.bus }, error: null }
}

export function addNicParams(vm: string, f: AddNicForm): Made {
  if (f.mode !== 'internal') {
    const network: Network = f.mode === 'nat' ? { mode: 'nat', portForwards: [] } : { mode: 'none' }
    return { params: { vm, kind: 'nic', model: f.model, network }, error: null }
  }
  const name = InternalNetworkName.safeParse(f.internal.trim())
  if (!name.success) return refuse(sentence(name.error.issues[0]?.message ?? 'invalid network name'))
  const subnet = f.dhcp.trim()
  const dhcp = subnet ? InternalDhcp.safeParse({ subnet }) : null
  if (dhcp && !dhcp.success) return refuse(sentence(dhcp.error.issues[0]?.message ?? 'invalid subnet'))
  return {
    params: {
      vm,
      kind: 'nic',
      model: f.model,
      network: { mode: 'internal', name: name.data, ...(dhcp?.success ? { dhcp: dhcp.data } : {}) },
    },
    error: null,
  }
}
