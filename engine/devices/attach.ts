// Adding a disk or a network card to a VM, running (hot-plug over QMP) or stopped (the config
// alone). The new config is checked by rendering its command line before anything is created, so
// what QEMU would refuse is said in words first; on a running VM the device goes in over QMP and
// only then is vm.json written, so the file never names a device the VM does not have.
import { randomBytes } from 'node:crypto'
import { existsSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { VireoError } from '../api/errors.ts'
import type { AttachedDevice, AttachParams, VmState } from '../api/rpc.ts'
import { Disk, Nic, VmConfig, type DiskBus } from '../api/vm-config.ts'
import type { PortSpec } from '../net/internal-networks.ts'
import { internalPorts } from '../net/internal-networks.ts'
import {
  buildQemuArgv,
  diskDevices,
  nicDevices,
  type ChainLink,
  type LaunchContext,
} from '../qemu/argv/index.ts'
import { QmpError, type QmpClient } from '../qmp/client.ts'
import { checkedUserChain, inspectImage } from '../storage/existing-disk.ts'
import { chainFiles } from '../storage/image-chain.ts'
import { checkUserFile } from '../storage/user-file.ts'
import { createImage } from '../storage/qemu-img.ts'
import { parseSize } from '../storage/size.ts'
import { plugDisk, plugNic } from './hotplug-qmp.ts'
import { nextDeviceId, withDevice, type NewDevice } from './hotplug-slots.ts'

/** How long a guest gets to release a device (PCIe's eject button waits 5 s; TCG is slow). */
export const UNPLUG_TIMEOUT_MS = 30_000

/** What attaching and detaching need from the engine, for one VM. */
export interface DeviceChangeContext {
  config: VmConfig
  vmDir: string
  state: VmState
  /** The running QEMU's control connection; null while the VM is stopped. */
  qmp: QmpClient | null
  ctx: LaunchContext
  qemuImg: string
  newMac(): string
  /** Throws when another VM already has this disk image. */
  assertDiskFree(path: string): void
  /** The engine's internal-network switches. */
  networks: {
    assertCompatible(vmId: string, specs: PortSpec[]): void
    plug(vmId: string, spec: PortSpec): void
    unplug(vmId: string, nicId: string): void
  }
  unplugTimeoutMs?: number
}

const NOT_HOTPLUGGABLE: Partial<Record<DiskBus, string>> = { sata: 'SATA', ide: 'IDE' }

/** The running QEMU, when the VM is in a state where devices can change live. */
export function liveQmp(c: DeviceChangeContext, what: string): QmpClient | null {
  if (c.state === 'stopped') return null
  if ((c.state === 'running' || c.state === 'paused') && c.qmp) return c.qmp
  throw new VireoError(
    'invalid_state',
    `"${c.config.name}" is ${c.state}: wait until it runs or has stopped to ${what}`,
  )
}

/** QEMU's refusal, in a sentence that says what was being done. */
export function qemuRefused(what: string, err: unknown): Error {
  if (err instanceof QmpError) return new VireoError('qemu_failed', `QEMU could not ${what}: ${err.message}`)
  return err as Error
}

function diskSerial(): string {
  return `VIREO-${randomBytes(5).toString('hex').toUpperCase()}`
}

type DiskAttach = Extract<AttachParams, { kind: 'disk' }>
type NicAttach = Extract<AttachParams, { kind: 'nic' }>

/** The new disk, and the image to create for it (null: an existing image used in place). */
async function newDisk(
  c: DeviceChangeContext,
  p: DiskAttach,
  live: boolean,
): Promise<{ disk: Disk; create: { file: string; bytes: number } | null; chain: ChainLink[] | null }> {
  const bus = p.bus ?? 'virtio-blk'
  const ata = NOT_HOTPLUGGABLE[bus]
  if (live && ata) {
    throw new VireoError(
      'invalid_state',
      `${ata} cannot be hot-plugged; shut the VM down or choose virtio (virtio-blk, virtio-scsi or NVMe)`,
    )
  }
  if (p.size !== undefined && p.image !== undefined)
    throw new VireoError(
      'invalid_request',
      'give either a size for a new disk or an existing image, not both',
    )
  if (p.size === undefined && p.image === undefined)
    throw new VireoError('invalid_request', 'give a size for a new disk (e.g. 8G) or an existing image')
  // A file left in disks/ by an earlier detach keeps its name: the new disk takes another.
  const id = nextDeviceId(c.config, 'disk', (x) => existsSync(join(c.vmDir, 'disks', `${x}.qcow2`)))
  const base = { id, bus, serial: diskSerial() }
  if (p.size !== undefined) {
    const bytes = parseSize(p.size)
    const rel = join('disks', `${id}.qcow2`)
    return {
      disk: Disk.parse({ ...base, path: rel, format: 'qcow2', trusted: [] }),
      create: { file: join(c.vmDir, rel), bytes },
      chain: null,
    }
  }
  const image = checkUserFile(p.image!, 'disk image')
  c.assertDiskFree(image)
  // Every file the image would make QEMU open is one the user named, before qemu-img reads it.
  const nodes = checkedUserChain(image, p.allowBacking)
  const info = await inspectImage(c.qemuImg, image, nodes[0]!.format)
  if (info.format !== 'qcow2' && info.format !== 'raw') {
    throw new VireoError(
      'invalid_request',
      `${image} is a ${info.format} image; a disk is attached in place as qcow2 or raw: convert it first (qemu-img convert -O qcow2 ${image} NEW.qcow2)`,
    )
  }
  return {
    disk: Disk.parse({ ...base, path: image, format: info.format, trusted: chainFiles(nodes) }),
    create: null,
    chain: nodes.map(({ path, format, dataFile }) => ({ path, format, dataFile })),
  }
}

function newNic(c: DeviceChangeContext, p: NicAttach): Nic {
  return Nic.parse({
    id: nextDeviceId(c.config, 'net'),
    model: p.model ?? 'virtio-net',
    mac: c.newMac(),
    network: p.network ?? { mode: 'nat', portForwards: [] },
  })
}

export interface Attached {
  config: VmConfig
  /** The new device as `config` holds it: its id, and the PCI slot it was given. */
  device: AttachedDevice
}

/** The VM's config with the device added and the device itself; running, it is plugged in. Not yet saved. */
export async function attachDevice(c: DeviceChangeContext, p: AttachParams): Promise<Attached> {
  const what = p.kind === 'disk' ? 'attach a disk' : 'attach a network card'
  const qmp = liveQmp(c, what)
  const live = qmp !== null
  const made = p.kind === 'disk' ? await newDisk(c, p, live) : null
  const add: NewDevice = made
    ? { kind: 'disk', device: made.disk }
    : { kind: 'nic', device: newNic(c, p as NicAttach) }
  const next = VmConfig.parse(withDevice(c.config, add, { live }))
  const device: AttachedDevice =
    add.kind === 'disk'
      ? { kind: 'disk', ...next.disks.find((d) => d.id === add.device.id)! }
      : { kind: 'nic', ...next.nics.find((n) => n.id === add.device.id)! }
  // The new disk opens exactly the chain just checked, on the command line and over QMP alike.
  const ctx: LaunchContext = made?.chain
    ? { ...c.ctx, chains: { ...c.ctx.chains, [made.disk.id]: made.chain } }
    : c.ctx
  // Everything QEMU would refuse about the whole machine (ports, ids, forwards), now.
  buildQemuArgv(next, ctx)
  const spec =
    add.kind === 'nic'
      ? internalPorts(next, c.ctx.runtimeDir).find((s) => s.nicId === add.device.id)
      : undefined
  if (spec) c.networks.assertCompatible(next.id, [spec])
  if (made?.create) await createImage(c.qemuImg, made.create.file, 'qcow2', made.create.bytes)
  if (!qmp) return { config: next, device }
  const timeout = c.unplugTimeoutMs ?? UNPLUG_TIMEOUT_MS
  try {
    if (add.kind === 'disk') {
      const disk = next.disks.find((d) => d.id === add.device.id)!
      await plugDisk(qmp, diskDevices(next, disk, ctx), timeout)
    } else {
      const nic = next.nics.find((n) => n.id === add.device.id)!
      await plugNic(qmp, nicDevices(next, nic, c.ctx))
      if (spec) c.networks.plug(next.id, spec)
    }
  } catch (err) {
    if (made?.create) rmSync(made.create.file, { force: true })
    throw qemuRefused(`add ${add.kind === 'disk' ? 'the disk' : 'the network card'} "${add.device.id}"`, err)
  }
  return { config: next, device }
}
