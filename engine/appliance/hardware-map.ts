// From the devices an appliance describes to the ones Vireo emulates. The rule is "what the guest
// already has a driver for boots": a guest installed on an emulated controller or card is given the
// closest emulated one, and paravirtual devices only where the appliance itself had them.
import type { DiskBus, NicModel } from '../api/vm-config.ts'

/** OVF subtypes vary in case and may be lists (`buslogic,lsilogic`): lower-cased words. */
export function subtypes(value: string | undefined): string[] {
  return (value ?? '')
    .split(/[\s,;]+/)
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean)
}

/**
 * A disk controller's bus in Vireo. SCSI HBAs other than virtio-scsi (LSI Logic, BusLogic, LSI SAS,
 * VMware's PVSCSI) become SATA: Vireo emulates none of them, and a guest installed on one has no
 * virtio-scsi driver in its boot image as a rule, while AHCI drivers are built into every current
 * Linux initramfs and Windows since Vista. Unknown controllers get SATA for the same reason.
 */
export function busForController(resourceType: number, subtype: string | undefined): DiskBus {
  const subs = subtypes(subtype)
  if (resourceType === 5) return 'ide'
  if (subs.some((s) => s === 'virtio-scsi' || s === 'virtioscsi' || s === 'virtio_scsi')) return 'virtio-scsi'
  if (subs.some((s) => s === 'piix3' || s === 'piix4' || s === 'ich6' || s === 'ide')) return 'ide'
  if (subs.some((s) => s.includes('nvme'))) return 'nvme'
  return 'sata'
}

/** oVirt states a disk's interface on the Disk itself (`ovf:disk-interface`). */
export function busForOvirtInterface(value: string | undefined): DiskBus | null {
  switch ((value ?? '').toLowerCase()) {
    case 'virtio':
      // oVirt runs on KVM: a guest it exports has its virtio drivers.
      return 'virtio-blk'
    case 'virtio_scsi':
      return 'virtio-scsi'
    case 'ide':
      return 'ide'
    case 'sata':
      return 'sata'
    default:
      return null
  }
}

// oVirt numbers its card types (VmInterfaceType): 0 rtl8139_pv, 1 rtl8139, 2 e1000, 3 pv (virtio).
const OVIRT_NIC: Record<string, NicModel> = {
  '0': 'rtl8139',
  '1': 'rtl8139',
  '2': 'e1000',
  '3': 'virtio-net',
}

// VirtualBox's adapter types, as its vbox:Machine section names the real chip.
const VBOX_NIC: Record<string, NicModel> = {
  '82540em': 'e1000',
  '82543gc': 'e1000',
  '82545em': 'e1000',
  virtio: 'virtio-net',
  // PCnet: no emulation here; every guest that drove a PCnet card has an e1000 driver too.
  am79c970a: 'e1000',
  am79c973: 'e1000',
  am79c960: 'e1000',
}

/** A network card's model from its OVF subtype (VMware, VirtualBox, OVF 2.0 or oVirt spelling). */
export function nicModel(subtype: string | undefined): NicModel {
  for (const s of subtypes(subtype)) {
    if (OVIRT_NIC[s]) return OVIRT_NIC[s]
    if (s === 'e1000e') return 'e1000e'
    if (s === 'e1000') return 'e1000'
    if (s === 'vmxnet3') return 'vmxnet3'
    if (s.startsWith('virtio') || s === 'pv') return 'virtio-net'
    if (s === 'rtl8139') return 'rtl8139'
    if (VBOX_NIC[s]) return VBOX_NIC[s]
  }
  // PCNet32, VmxNet, VmxNet2, Flexible and anything unknown: the e1000 is the card every OS drives.
  return 'e1000'
}

export function vboxNicModel(type: string | undefined): NicModel | null {
  return VBOX_NIC[(type ?? '').toLowerCase()] ?? null
}

/**
 * A MAC address in Vireo's spelling (six lower-case pairs with colons), from `00:50:56:AA:BB:CC`,
 * `00-50-56-aa-bb-cc` or VirtualBox's `080027AABBCC`; null when it is not a unicast address.
 */
export function normalizeMac(value: string | undefined): string | null {
  const hex = (value ?? '').replace(/[:\-.\s]/g, '').toLowerCase()
  if (!/^[0-9a-f]{12}$/.test(hex)) return null
  if (parseInt(hex.slice(0, 2), 16) & 1) return null
  if (hex === '000000000000') return null
  return hex.match(/../g)!.join(':')
}
