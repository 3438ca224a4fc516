// Every id QEMU will see, checked for clashes before QEMU does, so the message names the parts of
// the VM rather than QEMU's "Duplicate ID". Device ids and block node names are separate
// namespaces in QEMU (a disk's device and its format node share the disk's id on purpose).
import type { VmConfig } from '../../api/vm-config.ts'
import { rootPortCount } from './placement.ts'
import { PC_AHCI_ID, pcAhciController } from './ata-ports.ts'
import { cdromNodeNames } from './cdrom.ts'
import { ArgvError } from './context.ts'
import { diskNodeNames, scsiControllerId } from './disks.ts'
import { DISPLAY_DEVICE_ID } from './display.ts'
import { FIRMWARE_NODES } from './firmware.ts'
import { TABLET_ID, XHCI_ID } from './input.ts'
import { rootPortId } from './pcie.ts'
import { RNG_DEVICE_ID } from './rng.ts'

type Namespace = 'device id' | 'block node name'

export function checkIds(config: VmConfig): void {
  const owners = new Map<string, string>()
  const claim = (ns: Namespace, id: string, owner: string) => {
    const key = `${ns}\0${id}`
    const other = owners.get(key)
    if (other !== undefined) {
      throw new ArgvError(
        `${other} and ${owner} would have the same ${ns} "${id}"; give one of them another id`,
      )
    }
    owners.set(key, owner)
  }

  for (const d of config.disks) {
    const owner = `the disk "${d.id}"`
    claim('device id', d.id, owner)
    if (d.bus === 'virtio-scsi') claim('device id', scsiControllerId(d.id), `the SCSI controller of ${owner}`)
    const nodes = diskNodeNames(d.id)
    claim('block node name', nodes.file, owner)
    claim('block node name', nodes.format, owner)
  }
  for (const c of config.cdroms) {
    const owner = `the CD drive "${c.id}"`
    claim('device id', c.id, owner)
    if (c.path !== null) {
      const nodes = cdromNodeNames(c.id)
      claim('block node name', nodes.file, owner)
      claim('block node name', nodes.format, owner)
    }
  }
  for (const n of config.nics) claim('device id', n.id, `the network card "${n.id}"`)

  if (config.machine.type === 'q35') {
    for (let i = 0; i < rootPortCount(config); i++) claim('device id', rootPortId(i), `PCIe root port ${i}`)
  }
  if (config.display.adapter !== 'none') {
    claim('device id', DISPLAY_DEVICE_ID, 'the graphics card')
    claim('device id', XHCI_ID, 'the USB controller')
    claim('device id', TABLET_ID, 'the USB tablet')
  }
  if (config.rng) claim('device id', RNG_DEVICE_ID, 'the random number generator')
  if (pcAhciController(config)) claim('device id', PC_AHCI_ID, 'the SATA controller')
  if (config.firmware === 'uefi') {
    for (const node of Object.values(FIRMWARE_NODES)) claim('block node name', node, 'the UEFI firmware')
  }
}
