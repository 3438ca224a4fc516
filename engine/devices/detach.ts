// Removing a disk or a network card, running (the guest must release it: DEVICE_DELETED) or
// stopped. A device the guest keeps stays in vm.json, so the config never forgets a device QEMU
// still has. A disk's image file always stays where it is (the caller says where): a detached disk
// is unplugged, not erased, as with a real one.
import { VireoError } from '../api/errors.ts'
import { resolveVmPath } from '../vm/library.ts'
import type { VmConfig } from '../api/vm-config.ts'
import { diskDevices, nicDevices } from '../qemu/argv/index.ts'
import { unplugDisk, unplugNic } from './hotplug-qmp.ts'
import { findDevice, withoutDevice } from './hotplug-slots.ts'
import { liveQmp, qemuRefused, UNPLUG_TIMEOUT_MS, type DeviceChangeContext } from './attach.ts'

export interface Detached {
  config: VmConfig
  /** The detached disk's image, kept on the host (absolute); null for a network card. */
  keptImage: string | null
}

export async function detachDevice(c: DeviceChangeContext, id: string): Promise<Detached> {
  const found = findDevice(c.config, id)
  const what = `detach "${id}"`
  const qmp = liveQmp(c, what)
  if (qmp && c.state === 'paused') {
    throw new VireoError(
      'invalid_state',
      `"${c.config.name}" is paused, and only a running guest can release "${id}"; resume it first`,
    )
  }
  const timeout = c.unplugTimeoutMs ?? UNPLUG_TIMEOUT_MS
  if (qmp && found.kind === 'disk') {
    const bus = found.device.bus
    if (bus === 'sata' || bus === 'ide') {
      throw new VireoError(
        'invalid_state',
        `"${id}" is on ${bus === 'sata' ? 'SATA' : 'IDE'}, which cannot be hot-unplugged; shut the VM down to detach it`,
      )
    }
    try {
      await unplugDisk(qmp, diskDevices(c.config, found.device, c.ctx), timeout)
    } catch (err) {
      throw qemuRefused(`remove the disk "${id}"`, err)
    }
  } else if (qmp && found.kind === 'nic') {
    try {
      // Off the switch before its socket goes, so the switch does not dial a card that left.
      await unplugNic(qmp, nicDevices(c.config, found.device, c.ctx), timeout, () =>
        c.networks.unplug(c.config.id, id),
      )
    } catch (err) {
      throw qemuRefused(`remove the network card "${id}"`, err)
    }
  }
  return {
    config: withoutDevice(c.config, id),
    keptImage: found.kind === 'disk' ? resolveVmPath(c.vmDir, found.device.path) : null,
  }
}
