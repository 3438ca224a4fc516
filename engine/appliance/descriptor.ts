// An OVF descriptor read into the hardware Vireo can give a VM. Producers write the same facts in
// different places: OVF 1.x and 2.0 items, oVirt's xsi:typed sections, and vendor sections
// (VMware's vmw:Config, VirtualBox's vbox:Machine, Vireo's own) that alone carry firmware, the
// real NIC chip or MACs. Elements are matched by local name; see DESIGN.md "OVF and OVA in the wild".
import { VireoError } from '../api/errors.ts'
import { BootDevice, DiskBus, NicModel } from '../api/vm-config.ts'
import {
  busForController,
  busForOvirtInterface,
  nicModel,
  normalizeMac,
  subtypes,
  vboxNicModel,
} from './hardware-map.ts'
import { bytesPerUnit, parseCount, toBytes } from './units.ts'
import { attr, child, children, childText, descendants, parseXml, text, type XmlNode } from './xml-tree.ts'

export interface ApplianceFile {
  id: string
  /** As written in References, relative to the descriptor. */
  href: string
  size: number | null
  compression: 'gzip' | null
  /** Split into `href.000000000`, `href.000000001`, … of this many bytes each. */
  chunkSize: number | null
}

export interface ApplianceDisk {
  diskId: string
  /** null: a new, empty disk of `capacityBytes` (OVF allows a Disk without a file). */
  file: ApplianceFile | null
  capacityBytes: number
  bus: DiskBus
}

export interface ApplianceNic {
  model: NicModel
  /** As the appliance gave it, normalised; null when it gave none or an invalid one. */
  mac: string | null
}

export interface Appliance {
  name: string
  os?: string
  cpus: number
  memoryMiB: number
  firmware: 'bios' | 'uefi'
  disks: ApplianceDisk[]
  nics: ApplianceNic[]
  /** Every file the descriptor references, by id (disks and others, e.g. ISO images). */
  files: ApplianceFile[]
  /** The boot order a vendor section states; null when none does. */
  bootOrder: BootDevice[] | null
}

const BOOT_WORDS: Record<string, BootDevice> = {
  // VirtualBox's Boot/Order devices
  harddisk: 'disk',
  dvd: 'cdrom',
  network: 'network',
  // VMware's bios.bootOrder
  hdd: 'disk',
  cdrom: 'cdrom',
  ethernet: 'network',
}

function bootDevices(words: (string | undefined)[]): BootDevice[] | null {
  const order = [...new Set(words.flatMap((w) => (w && BOOT_WORDS[w.toLowerCase()]) || []))]
  return order.length > 0 ? order : null
}

const ENVELOPE_NS = /^https?:\/\/schemas\.dmtf\.org\/ovf\/envelope\/[12]\/?$/

/** Sections by name, also in oVirt's spelling `<Section xsi:type="ovf:NameSection_Type">`. */
function sections(node: XmlNode | undefined, name: string): XmlNode[] {
  return [
    ...children(node, name),
    ...children(node, 'Section').filter((s) => localType(s) === `${name}_Type`),
  ]
}

function localType(node: XmlNode): string | undefined {
  return attr(node, 'type')?.replace(/^.*:/, '')
}

/** A RASD field by name, whatever its case (oVirt writes InstanceId where OVF says InstanceID). */
function field(item: XmlNode, name: string): string | undefined {
  if (typeof item === 'string') return undefined
  const wanted = name.toLowerCase()
  for (const key of Object.keys(item)) {
    if (key.toLowerCase() === wanted) return childText(item, key)
  }
  return undefined
}

function envelopeNamespaces(xml: string): string[] {
  const open = /<(?:[\w.-]+:)?Envelope\b([^>]*)>/.exec(xml)
  if (!open) return []
  return [...open[1]!.matchAll(/xmlns(?::[\w.-]+)?\s*=\s*["']([^"']*)["']/g)].map((m) => m[1]!)
}

function pickVirtualSystem(env: XmlNode): XmlNode {
  const direct = [
    ...children(env, 'VirtualSystem'),
    ...children(env, 'Content').filter((c) => localType(c) === 'VirtualSystem_Type'),
  ]
  const nested = children(env, 'VirtualSystemCollection').flatMap((c) => descendants(c, 'VirtualSystem'))
  const all = [...direct, ...nested]
  if (all.length === 0)
    throw new VireoError('invalid_request', 'the OVF descriptor describes no virtual system')
  if (all.length > 1) {
    throw new VireoError(
      'invalid_request',
      `the OVF descriptor describes ${all.length} virtual systems; Vireo imports appliances of one VM only`,
    )
  }
  return all[0]!
}

function defaultConfiguration(env: XmlNode): string | null {
  const configs = sections(env, 'DeploymentOptionSection').flatMap((s) => children(s, 'Configuration'))
  const chosen = configs.find((c) => attr(c, 'default') === 'true') ?? configs[0]
  return chosen ? (attr(chosen, 'id') ?? null) : null
}

/** The items of the default deployment configuration: those without one, or naming it. */
function hardwareItems(hw: XmlNode, configuration: string | null): XmlNode[] {
  const all = [...children(hw, 'Item'), ...children(hw, 'StorageItem'), ...children(hw, 'EthernetPortItem')]
  return all.filter((item) => {
    const only = attr(item, 'configuration')
    return !only || (configuration !== null && only.split(/\s+/).includes(configuration))
  })
}

function readFiles(env: XmlNode): Map<string, ApplianceFile> {
  const files = new Map<string, ApplianceFile>()
  for (const f of sections(env, 'References').flatMap((r) => children(r, 'File'))) {
    const id = attr(f, 'id')
    const href = attr(f, 'href')
    if (!id || !href)
      throw new VireoError('invalid_request', 'the OVF descriptor has a File without id or href')
    const compression = attr(f, 'compression')
    if (compression && compression !== 'gzip' && compression !== 'identity') {
      throw new VireoError(
        'invalid_request',
        `the file ${href} is compressed with "${compression}", which Vireo cannot read`,
      )
    }
    const chunk = attr(f, 'chunkSize')
    const size = attr(f, 'size')
    files.set(id, {
      id,
      href,
      size: size !== undefined ? parseCount(size, `the size of ${href}`) : null,
      compression: compression === 'gzip' ? 'gzip' : null,
      chunkSize: chunk !== undefined ? parseCount(chunk, `the chunk size of ${href}`) : null,
    })
  }
  return files
}

export function parseDescriptor(xml: string, what = 'the OVF descriptor'): Appliance {
  const namespaces = envelopeNamespaces(xml)
  if (!namespaces.some((ns) => ENVELOPE_NS.test(ns))) {
    throw new VireoError('invalid_request', `${what} is not an OVF envelope (no OVF 1.x or 2.0 namespace)`)
  }
  const env = child(parseXml(xml, what), 'Envelope')
  if (!env) throw new VireoError('invalid_request', `${what} has no Envelope element`)
  const vs = pickVirtualSystem(env)
  const hw = sections(vs, 'VirtualHardwareSection')[0]
  if (!hw) throw new VireoError('invalid_request', `${what} has no VirtualHardwareSection`)
  const systemType = descendants(hw, 'VirtualSystemType').map(text).join(' ')
  // oVirt gives ResourceType 20 to the video card, VMware and VirtualBox to the SATA controller.
  const ovirt =
    namespaces.some((ns) => /envelope\/1\/$/.test(ns) || /ovirt/i.test(ns)) ||
    /ENGINE|ovirt|rhev/i.test(systemType)

  const files = readFiles(env)
  const diskElems = sections(env, 'DiskSection').flatMap((s) => children(s, 'Disk'))
  const items = hardwareItems(hw, defaultConfiguration(env))
  const rt = (item: XmlNode) => Number(field(item, 'ResourceType') ?? NaN)

  const cpuItem = items.find((i) => rt(i) === 3)
  let cpus = 1
  if (cpuItem) {
    const q = field(cpuItem, 'VirtualQuantity')
    // The unit may say `hertz * 10^6`; VirtualQuantity is the vCPU count regardless.
    if (q !== undefined) cpus = parseCount(q, 'the CPU count')
    else {
      // oVirt's topology; each part is a count like any other, never read leniently (1.5 sockets).
      const n = (k: string) => {
        const v = field(cpuItem, k)
        return v === undefined ? 1 : parseCount(v, `the CPU item's ${k}`)
      }
      cpus = n('num_of_sockets') * n('cpu_per_socket') * n('threads_per_cpu')
    }
  }

  const memItem = items.find((i) => rt(i) === 4)
  if (!memItem) throw new VireoError('invalid_request', `${what} gives the VM no memory item`)
  const memUnit = field(memItem, 'AllocationUnits') ?? field(memItem, 'VirtualQuantityUnits') ?? 'byte * 2^20'
  const memBytes =
    parseCount(field(memItem, 'VirtualQuantity'), 'the memory size') *
    bytesPerUnit(memUnit, 'the memory size')
  const memoryMiB = Math.ceil(memBytes / 2 ** 20)

  const controllers = new Map<string, DiskBus>()
  for (const item of items) {
    const type = rt(item)
    const id = field(item, 'InstanceID')
    if (!id) continue
    const sub = field(item, 'ResourceSubType')
    if (type === 5 || type === 6) controllers.set(id, busForController(type, sub))
    else if (type === 20) {
      const subs = subtypes(sub)
      const storage = subs.some((s) => /ahci|sata|nvme/.test(s)) || (!ovirt && subs.length === 0)
      if (storage) controllers.set(id, busForController(20, sub))
    }
  }

  const disks: ApplianceDisk[] = []
  for (const item of items.filter((i) => rt(i) === 17)) {
    const host = field(item, 'HostResource')
    if (!host) continue
    const ref = host.replace(/^ovf:/, '')
    const byId = /^\/disk\/(.+)$/.exec(ref)?.[1]
    const elem = byId
      ? diskElems.find((d) => attr(d, 'diskId') === byId)
      : // oVirt names the image (`group/image`) instead of `ovf:/disk/ID`.
        diskElems.find(
          (d) =>
            attr(d, 'diskId') === ref || attr(d, 'fileRef') === ref || ref.endsWith(`/${attr(d, 'diskId')}`),
        )
    if (!elem)
      throw new VireoError('invalid_request', `the disk item "${host}" names no Disk in the DiskSection`)
    const diskId = attr(elem, 'diskId')!
    const fileRef = attr(elem, 'fileRef')
    const file = fileRef ? (files.get(fileRef) ?? [...files.values()].find((f) => f.href === fileRef)) : null
    if (fileRef && !file)
      throw new VireoError(
        'invalid_request',
        `the disk "${diskId}" refers to a file "${fileRef}" that References does not list`,
      )
    const capacity = attr(elem, 'capacity')
    const capacityBytes =
      capacity !== undefined
        ? toBytes(capacity, attr(elem, 'capacityAllocationUnits'), `the capacity of disk "${diskId}"`)
        : toBytes(attr(elem, 'size'), 'byte * 2^30', `the size of disk "${diskId}"`)
    const parent = field(item, 'Parent')
    const bus =
      (parent !== undefined ? controllers.get(parent) : undefined) ??
      busForOvirtInterface(attr(elem, 'disk-interface')) ??
      'sata'
    disks.push({ diskId, file: file ?? null, capacityBytes, bus })
  }

  const nics: ApplianceNic[] = items
    .filter((i) => rt(i) === 10)
    .map((i) => ({
      model: nicModel(field(i, 'ResourceSubType')),
      mac: normalizeMac(field(i, 'Address') ?? field(i, 'MACAddress')),
    }))

  let firmware: 'bios' | 'uefi' = 'bios'
  const vmwConfig = [...descendants(vs, 'Config'), ...descendants(vs, 'ExtraConfig')]
  if (vmwConfig.some((c) => attr(c, 'key') === 'firmware' && attr(c, 'value')?.toLowerCase() === 'efi'))
    firmware = 'uefi'
  const vmwBoot = vmwConfig.find((c) => attr(c, 'key') === 'bios.bootOrder')
  let bootOrder = bootDevices((attr(vmwBoot, 'value') ?? '').split(','))
  // oVirt's BiosType: 3 q35 with OVMF, 4 the same with secure boot.
  if (descendants(vs, 'BiosType').some((b) => ['3', '4'].includes(text(b) ?? ''))) firmware = 'uefi'

  // VirtualBox's own machine description: firmware, and the real chip and MAC of each card, by slot
  // (it writes its network items in slot order, the only link between the two lists).
  const vbox = descendants(vs, 'Machine')[0]
  if (vbox) {
    const fw = attr(descendants(vbox, 'Firmware')[0], 'type')
    if (fw && /^efi/i.test(fw)) firmware = 'uefi'
    const positions = descendants(descendants(vbox, 'Boot')[0], 'Order').sort(
      (a, b) => Number(attr(a, 'position') ?? 0) - Number(attr(b, 'position') ?? 0),
    )
    bootOrder = bootDevices(positions.map((o) => attr(o, 'device'))) ?? bootOrder
    const adapters = descendants(vbox, 'Adapter')
      .filter((a) => attr(a, 'enabled') === 'true')
      .sort((a, b) => Number(attr(a, 'slot') ?? 0) - Number(attr(b, 'slot') ?? 0))
    adapters.forEach((a, i) => {
      const nic = nics[i]
      if (!nic) return
      nic.model = vboxNicModel(attr(a, 'type')) ?? nic.model
      nic.mac = normalizeMac(attr(a, 'MACAddress')) ?? nic.mac
    })
  }

  // What a Vireo export adds so that its own import restores buses and cards the OVF cannot name.
  const vireo = descendants(vs, 'VireoHardware')[0]
  if (vireo) {
    for (const d of children(vireo, 'Disk')) {
      const bus = DiskBus.safeParse(attr(d, 'bus'))
      const disk = disks.find((x) => x.diskId === attr(d, 'id'))
      if (disk && bus.success) disk.bus = bus.data
    }
    children(vireo, 'Nic').forEach((n, i) => {
      const model = NicModel.safeParse(attr(n, 'model'))
      if (nics[i] && model.success) nics[i].model = model.data
    })
    const order = (attr(vireo, 'bootOrder') ?? '').split(',').flatMap((w) => {
      const d = BootDevice.safeParse(w)
      return d.success ? [d.data] : []
    })
    if (order.length > 0) bootOrder = [...new Set(order)]
  }

  const os = sections(vs, 'OperatingSystemSection')[0]
  const osName = attr(os, 'osType') ?? childText(os, 'OSType') ?? childText(os, 'Description')
  const name = childText(vs, 'Name') ?? attr(vs, 'id') ?? 'Imported appliance'
  return {
    name: name.trim() || 'Imported appliance',
    ...(osName ? { os: osName } : {}),
    cpus,
    memoryMiB,
    firmware,
    disks,
    nics,
    files: [...files.values()],
    bootOrder,
  }
}
