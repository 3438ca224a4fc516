// The QMP sequences that plug a disk or a network card into a running QEMU and take it out again.
// They send the very objects the command line is built from (engine/qemu/argv: diskDevices,
// nicDevices), so a device plugged live is, to QEMU, the device a restart will create: the same
// ids, node names, slot and properties. One exception: the boot index (below).
import { VireoError } from '../api/errors.ts'
import type { DeviceJson, DiskDevices, NicDevices } from '../qemu/argv/index.ts'
import { QmpError, type QmpClient } from '../qmp/client.ts'

/**
 * A device as device_add gets it: the argv's JSON without `bootindex`. Indexes follow config order,
 * so the new order renumbers devices that the running QEMU already holds with their old indexes,
 * and QEMU refuses a second device with an index in use ("bootindex … has already been used").
 * The firmware reads the order at power-on: the next start has every index as vm.json says.
 */
export function liveDevice(d: DeviceJson): DeviceJson {
  const { bootindex: _fromConfigOrder, ...rest } = d
  return rest
}

/** What was added so far, undone in reverse if a later step fails. */
class Undo {
  private readonly steps: (() => Promise<unknown>)[] = []
  push(step: () => Promise<unknown>): void {
    this.steps.push(step)
  }
  async run(): Promise<void> {
    for (const step of this.steps.reverse()) await step().catch(() => undefined)
  }
}

/** I/O thread, file and format nodes, the SCSI controller, then the disk; all or nothing. */
export async function plugDisk(qmp: QmpClient, parts: DiskDevices, unplugTimeoutMs: number): Promise<void> {
  const undo = new Undo()
  try {
    if (parts.iothread) {
      const thread = parts.iothread
      await qmp.execute('object-add', thread)
      undo.push(() => qmp.execute('object-del', { id: thread.id }))
    }
    for (const node of parts.blockdevs) {
      await qmp.execute('blockdev-add', node)
      undo.push(() => qmp.execute('blockdev-del', { 'node-name': node['node-name'] }))
    }
    if (parts.controller) {
      const controller = parts.controller
      await qmp.execute('device_add', liveDevice(controller))
      // A PCI device the guest has seen goes only when the guest lets it go.
      undo.push(() => unplug(qmp, controller.id, unplugTimeoutMs))
    }
    await qmp.execute('device_add', liveDevice(parts.device))
  } catch (err) {
    await undo.run()
    throw err
  }
}

/** The backend (NAT or the internal network's socket), then the card; all or nothing. */
export async function plugNic(qmp: QmpClient, parts: NicDevices): Promise<void> {
  const netdev = parts.netdev
  if (netdev) await qmp.execute('netdev_add', netdev)
  try {
    await qmp.execute('device_add', liveDevice(parts.device))
  } catch (err) {
    if (netdev) await qmp.execute('netdev_del', { id: netdev.id }).catch(() => undefined)
    throw err
  }
}

export class UnplugTimeoutError extends VireoError {
  readonly device: string
  constructor(device: string, ms: number) {
    super(
      'timeout',
      `the guest did not release ${device} within ${ms / 1000} s (it may not support hot-unplug, or be busy); it stays attached: try again, or shut the VM down and detach it then`,
    )
    this.name = 'UnplugTimeoutError'
    this.device = device
  }
}

/**
 * Asks the guest to let a device go (device_del: the ACPI or PCIe eject button) and waits for
 * QEMU's DEVICE_DELETED. A device QEMU no longer has counts as gone (a guest that released it late,
 * after an earlier attempt timed out); a second request while one is pending just waits again.
 */
export async function unplug(qmp: QmpClient, deviceId: string, timeoutMs: number): Promise<void> {
  const deleted = qmp.waitForEvent('DEVICE_DELETED', (d) => d.device === deviceId, timeoutMs)
  // Handled below; a rejection must not surface as unhandled while device_del is answered.
  deleted.catch(() => undefined)
  try {
    await qmp.execute('device_del', { id: deviceId })
  } catch (err) {
    if (err instanceof QmpError && err.errorClass === 'DeviceNotFound') return
    if (!(err instanceof QmpError && /in the process of unplug|already in progress/i.test(err.message)))
      throw err
  }
  try {
    await deleted
  } catch (err) {
    if (qmp.isClosed) throw err
    throw new UnplugTimeoutError(deviceId, timeoutMs)
  }
}

/** After the guest released the disk: its SCSI controller, nodes and I/O thread go too. */
export async function unplugDisk(qmp: QmpClient, parts: DiskDevices, timeoutMs: number): Promise<void> {
  // A SCSI disk's controller is the PCI device; taking it takes the disk on it as well.
  await unplug(qmp, parts.controller ? parts.controller.id : parts.device.id, timeoutMs)
  const present = new Set(
    (await qmp.execute('query-named-block-nodes', { flat: true })).map((n) => n['node-name']),
  )
  // Format node first: it holds a reference to the file node beneath it.
  for (const node of [...parts.blockdevs].reverse()) {
    if (present.has(node['node-name'])) await qmp.execute('blockdev-del', { 'node-name': node['node-name'] })
  }
  if (parts.iothread) await qmp.execute('object-del', { id: parts.iothread.id }).catch(ignoreMissing)
}

/**
 * After the guest released the card: `released` runs (the switch lets go of an internal card), then
 * its backend goes too.
 */
export async function unplugNic(
  qmp: QmpClient,
  parts: NicDevices,
  timeoutMs: number,
  released: () => void = () => undefined,
): Promise<void> {
  await unplug(qmp, parts.device.id, timeoutMs)
  released()
  if (parts.netdev) await qmp.execute('netdev_del', { id: parts.netdev.id }).catch(ignoreMissing)
}

function ignoreMissing(err: unknown): void {
  if (err instanceof QmpError && /not found/i.test(err.message)) return
  throw err
}
