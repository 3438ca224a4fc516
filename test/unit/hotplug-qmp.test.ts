// The hot-plug QMP sequences against a scripted QMP server: what is sent and in which order (the
// argv's own JSON, without boot indexes), everything undone when QEMU refuses a step, and a guest
// that never releases a device reported in words with the device still in the config.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { VmConfig } from '../../engine/api/vm-config.ts'
import { attachDevice, type DeviceChangeContext } from '../../engine/devices/attach.ts'
import { detachDevice } from '../../engine/devices/detach.ts'
import { plugDisk, unplug, UnplugTimeoutError } from '../../engine/devices/hotplug-qmp.ts'
import { assignPlacements, rootPortCount } from '../../engine/qemu/argv/placement.ts'
import { diskDevices, type LaunchContext } from '../../engine/qemu/argv/index.ts'
import { QmpClient } from '../../engine/qmp/client.ts'

interface Msg {
  execute: string
  id?: unknown
  arguments?: Record<string, unknown>
}
/** Answers a command: a return value, an error {class, desc}, or nothing (the script sends later). */
type Script = (m: Msg, sock: Socket) => { return?: unknown; error?: { class: string; desc: string } } | null

let dir: string
let server: Server | undefined
let client: QmpClient | undefined
let sent: Msg[] = []

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vireo-hotplug-'))
  sent = []
})
afterEach(async () => {
  client?.dispose()
  client = undefined
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()))
  server = undefined
  rmSync(dir, { recursive: true, force: true })
})

const write = (sock: Socket, msg: unknown) => sock.write(JSON.stringify(msg) + '\r\n')

async function scriptedQemu(script: Script): Promise<QmpClient> {
  const path = join(dir, 'qmp.sock')
  server = createServer((sock) => {
    write(sock, { QMP: { version: { qemu: { major: 7, minor: 2, micro: 0 } }, capabilities: [] } })
    let buf = ''
    sock.setEncoding('utf8')
    sock.on('data', (chunk: string) => {
      buf += chunk
      let nl: number
      while ((nl = buf.indexOf('\n')) >= 0) {
        const m = JSON.parse(buf.slice(0, nl)) as Msg
        buf = buf.slice(nl + 1)
        if (m.execute === 'qmp_capabilities') {
          write(sock, { return: {}, id: m.id })
          continue
        }
        sent.push(m)
        const r = script(m, sock)
        if (r) write(sock, { ...r, id: m.id })
      }
    })
    sock.on('error', () => undefined)
  })
  await new Promise<void>((r) => server!.listen(path, () => r()))
  client = await QmpClient.connect(path, { timeoutMs: 2_000 })
  return client
}

/** QEMU as a cooperative guest makes it: device_del answered, then DEVICE_DELETED. */
const cooperative: Script = (m, sock) => {
  if (m.execute === 'device_del') {
    setTimeout(
      () => write(sock, { event: 'DEVICE_DELETED', data: { device: m.arguments?.id, path: 'x' } }),
      20,
    )
  }
  if (m.execute === 'query-named-block-nodes')
    return { return: [{ 'node-name': 'disk1' }, { 'node-name': 'disk1-file' }] }
  return { return: {} }
}

const commands = () =>
  sent.map((m) => `${m.execute} ${String(m.arguments?.id ?? m.arguments?.['node-name'] ?? '')}`.trim())

function ctxFor(vmDir: string): LaunchContext {
  return {
    qemuBinary: 'qemu-system-x86_64',
    vmDir,
    runtimeDir: join(dir, 'run'),
    accelerator: 'tcg',
    sandbox: false,
  }
}

function baseConfig(): VmConfig {
  return assignPlacements(
    VmConfig.parse({
      schemaVersion: 1,
      id: '55555555-5555-4555-8555-555555555555',
      name: 'box',
      createdAt: '2025-01-01T00:00:00.000Z',
      machine: { type: 'q35', version: 'pc-q35-7.2' },
      firmware: 'bios',
      cpus: 1,
      memoryMiB: 256,
      disks: [{ id: 'disk0', path: 'disks/disk0.qcow2', format: 'qcow2', bus: 'virtio-blk', serial: 'S0' }],
      cdroms: [{ id: 'cd0', path: null, bus: 'sata' }],
      nics: [{ id: 'net0', model: 'virtio-net', mac: '52:54:00:00:00:01', network: { mode: 'nat' } }],
    }),
  )
}

function context(qmp: QmpClient | null, config = baseConfig()): DeviceChangeContext {
  const vmDir = join(dir, 'vm')
  mkdirSync(join(vmDir, 'disks'), { recursive: true })
  return {
    config,
    vmDir,
    state: qmp ? 'running' : 'stopped',
    qmp,
    ctx: ctxFor(vmDir),
    qemuImg: 'qemu-img',
    newMac: () => '52:54:00:00:00:99',
    assertDiskFree: () => undefined,
    networks: { assertCompatible: () => undefined, plug: () => undefined, unplug: () => undefined },
    unplugTimeoutMs: 300,
  }
}

describe('hot-plug over QMP', () => {
  it('plugs a virtio-scsi disk with its I/O thread in order, on the JSON of the command line', async () => {
    const qmp = await scriptedQemu(cooperative)
    const config = baseConfig()
    const disk = {
      ...config.disks[0]!,
      id: 'disk1',
      bus: 'virtio-scsi' as const,
      iothread: true,
      pci: { slot: 5 },
    }
    const parts = diskDevices({ ...config, disks: [...config.disks, disk] }, disk, ctxFor(dir))
    expect(parts.device.bootindex).toBe(2)
    await plugDisk(qmp, parts, 300)
    expect(commands()).toEqual([
      'object-add disk1-io',
      'blockdev-add disk1-file',
      'blockdev-add disk1',
      'device_add disk1-scsi',
      'device_add disk1',
    ])
    const { bootindex: _b, ...device } = parts.device
    expect(sent[4]?.arguments).toEqual(device)
    expect(sent[3]?.arguments).toMatchObject({ driver: 'virtio-scsi-pci', bus: 'rp5', iothread: 'disk1-io' })
  })

  it('undoes every step when QEMU refuses the device', async () => {
    const qmp = await scriptedQemu((m, sock) =>
      m.execute === 'device_add' && m.arguments?.id === 'disk1'
        ? { error: { class: 'GenericError', desc: 'Bus rp5 does not support hotplugging' } }
        : cooperative(m, sock),
    )
    const config = baseConfig()
    const disk = {
      ...config.disks[0]!,
      id: 'disk1',
      bus: 'virtio-scsi' as const,
      iothread: true,
      pci: { slot: 5 },
    }
    const parts = diskDevices({ ...config, disks: [...config.disks, disk] }, disk, ctxFor(dir))
    await expect(plugDisk(qmp, parts, 300)).rejects.toThrow(/does not support hotplugging/)
    expect(commands().slice(5)).toEqual([
      'device_del disk1-scsi',
      'blockdev-del disk1',
      'blockdev-del disk1-file',
      'object-del disk1-io',
    ])
  })

  it('counts a device QEMU no longer has as gone, and reports one the guest keeps', async () => {
    const qmp = await scriptedQemu((m) =>
      m.execute === 'device_del' && m.arguments?.id === 'gone'
        ? { error: { class: 'DeviceNotFound', desc: "Device 'gone' not found" } }
        : { return: {} },
    )
    await expect(unplug(qmp, 'gone', 300)).resolves.toBeUndefined()
    const kept = unplug(qmp, 'disk1', 300)
    await expect(kept).rejects.toBeInstanceOf(UnplugTimeoutError)
    await expect(kept).rejects.toThrow(/the guest did not release disk1 within 0.3 s .*it stays attached/)
  })
})

describe('attach and detach on a running VM', () => {
  it('hot-plugs a new disk, keeps the port count, then detaches it and frees its nodes', async () => {
    const qmp = await scriptedQemu(cooperative)
    const c = context(qmp)
    const { config: next, device } = await attachDevice(c, { vm: 'box', kind: 'disk', size: '16M' })
    const disk = next.disks.find((d) => d.id === 'disk1')!
    expect(disk).toMatchObject({ bus: 'virtio-blk', path: 'disks/disk1.qcow2', pci: { slot: 2 } })
    // The device returned is the one the config holds, placed: no caller needs to diff configs.
    expect(device).toEqual({ kind: 'disk', ...disk })
    expect(existsSync(join(c.vmDir, 'disks', 'disk1.qcow2'))).toBe(true)
    expect(rootPortCount(next)).toBe(rootPortCount(c.config))
    expect(commands()).toEqual(['blockdev-add disk1-file', 'blockdev-add disk1', 'device_add disk1'])
    sent = []
    const detached = await detachDevice({ ...c, config: next }, 'disk1')
    expect(commands()).toEqual([
      'device_del disk1',
      'query-named-block-nodes',
      'blockdev-del disk1',
      'blockdev-del disk1-file',
    ])
    expect(detached.config).toEqual(c.config)
    expect(detached.keptImage).toBe(join(c.vmDir, 'disks', 'disk1.qcow2'))
  })

  it('removes the new image when QEMU refuses the disk, and says so', async () => {
    const qmp = await scriptedQemu((m, sock) =>
      m.execute === 'device_add'
        ? { error: { class: 'GenericError', desc: 'no hotplug here' } }
        : cooperative(m, sock),
    )
    const c = context(qmp)
    await expect(attachDevice(c, { vm: 'box', kind: 'disk', size: '16M' })).rejects.toThrow(
      /QEMU could not add the disk "disk1": device_add: no hotplug here/,
    )
    expect(existsSync(join(c.vmDir, 'disks', 'disk1.qcow2'))).toBe(false)
  })

  it('fails a detach the guest does not answer, before anything leaves the config', async () => {
    const qmp = await scriptedQemu(() => ({ return: {} }))
    const c = context(qmp)
    await expect(detachDevice(c, 'net0')).rejects.toThrow(/did not release net0.*stays attached/)
    expect(commands()).toEqual(['device_del net0'])
  })

  it('refuses SATA live and a detach while paused, in words', async () => {
    const qmp = await scriptedQemu(cooperative)
    const c = context(qmp)
    await expect(attachDevice(c, { vm: 'box', kind: 'disk', size: '8M', bus: 'sata' })).rejects.toThrow(
      'SATA cannot be hot-plugged; shut the VM down or choose virtio',
    )
    await expect(detachDevice({ ...c, state: 'paused' }, 'disk0')).rejects.toThrow(
      /is paused.*resume it first/,
    )
    expect(sent).toEqual([])
  })

  it('adds a NIC with a new MAC over netdev_add and device_add', async () => {
    const qmp = await scriptedQemu(cooperative)
    const { config: next, device } = await attachDevice(context(qmp), { vm: 'box', kind: 'nic' })
    expect(next.nics[1]).toMatchObject({ id: 'net1', mac: '52:54:00:00:00:99', model: 'virtio-net' })
    expect(device).toEqual({ kind: 'nic', ...next.nics[1] })
    expect(commands()).toEqual(['netdev_add net1-net', 'device_add net1'])
    expect(sent[1]?.arguments).toMatchObject({ driver: 'virtio-net-pci', bus: 'rp2', netdev: 'net1-net' })
  })
})
