// Attaching and detaching on the config alone: a new device takes a spare port and the q35 port
// count never changes, ids are new, a device that needs no slot gets none, a live attach with no
// spare port is refused in words, and detaching the boot disk leaves a boot order that renders.
import { describe, expect, it } from 'vitest'
import { VmConfig, type Disk, type Nic, type VmConfigInput } from '../../engine/api/vm-config.ts'
import { findDevice, nextDeviceId, withDevice, withoutDevice } from '../../engine/devices/hotplug-slots.ts'
import { assignPlacements, rootPortCount } from '../../engine/qemu/argv/placement.ts'
import { bootIndexes, buildQemuArgv, type LaunchContext } from '../../engine/qemu/argv/index.ts'

const ctx: LaunchContext = {
  qemuBinary: 'qemu-system-x86_64',
  vmDir: '/vms/a',
  runtimeDir: '/run/vireo/a',
  accelerator: 'tcg',
  sandbox: false,
}

function config(over: Partial<VmConfigInput> = {}): VmConfig {
  return assignPlacements(
    VmConfig.parse({
      schemaVersion: 1,
      id: '77777777-7777-4777-8777-777777777777',
      name: 'box',
      createdAt: '2025-01-01T00:00:00.000Z',
      machine: { type: 'q35', version: 'pc-q35-7.2' },
      firmware: 'bios',
      cpus: 1,
      memoryMiB: 256,
      disks: [{ id: 'disk0', path: 'disks/disk0.qcow2', format: 'qcow2', bus: 'virtio-blk', serial: 'S0' }],
      cdroms: [{ id: 'cd0', path: null, bus: 'sata' }],
      nics: [{ id: 'net0', model: 'virtio-net', mac: '52:54:00:00:00:01', network: { mode: 'nat' } }],
      ...over,
    }),
  )
}

const disk = (id: string, bus: Disk['bus'] = 'virtio-blk'): Disk => ({
  id,
  path: `disks/${id}.qcow2`,
  format: 'qcow2',
  bus,
  cache: 'writeback',
  discard: true,
  detectZeroes: 'off',
  readOnly: false,
  iothread: false,
  serial: 'S1',
})
const nic = (id: string): Nic => ({
  id,
  model: 'virtio-net',
  mac: '52:54:00:00:00:02',
  network: { mode: 'nat', portForwards: [] },
  linkUp: true,
})

describe('hot-plug slots', () => {
  it('gives a new device a spare port, taken from hotplugSlots, and back on detach', () => {
    const c = config()
    const ports = rootPortCount(c)
    expect(c.hotplugSlots).toBe(4)
    let next = withDevice(c, { kind: 'disk', device: disk('disk1') }, { live: true })
    expect(next.disks[1]?.pci).toEqual({ slot: 2 })
    expect(next.hotplugSlots).toBe(3)
    expect(rootPortCount(next)).toBe(ports)
    next = withDevice(next, { kind: 'nic', device: nic('net1') }, { live: true })
    expect(next.nics[1]?.pci).toEqual({ slot: 3 })
    expect(rootPortCount(next)).toBe(ports)
    // Out of order: the disk in the middle leaves, its port is a spare again, the next one takes it.
    next = withoutDevice(next, 'disk1')
    expect(next.hotplugSlots).toBe(3)
    expect(rootPortCount(next)).toBe(ports)
    next = withDevice(next, { kind: 'disk', device: disk('disk2', 'nvme') }, { live: true })
    expect(next.disks[1]).toMatchObject({ id: 'disk2', pci: { slot: 2 } })
    next = withoutDevice(withoutDevice(next, 'net1'), 'disk2')
    expect(next).toEqual(c)
  })

  it('holds the port count when the highest port leaves first', () => {
    let c = config()
    const ports = rootPortCount(c)
    for (const id of ['disk1', 'disk2', 'disk3', 'disk4'])
      c = withDevice(c, { kind: 'disk', device: disk(id) }, { live: true })
    expect(c.hotplugSlots).toBe(0)
    expect(rootPortCount(c)).toBe(ports)
    c = withoutDevice(c, 'disk4')
    expect(rootPortCount(c)).toBe(ports)
    c = withoutDevice(c, 'disk0')
    expect(rootPortCount(c)).toBe(ports)
    expect(
      buildQemuArgv(c, ctx)
        .join(' ')
        .match(/pcie-root-port/g),
    ).toHaveLength(ports)
  })

  it('refuses a live device when every port is taken, and adds a port to a stopped VM', () => {
    let c = config({ hotplugSlots: 0 })
    const ports = rootPortCount(c)
    expect(() => withDevice(c, { kind: 'disk', device: disk('disk1') }, { live: true })).toThrow(
      /no free slot for the disk "disk1" on "box": all 2 of its PCIe ports are in use/,
    )
    c = withDevice(c, { kind: 'disk', device: disk('disk1') }, { live: false })
    expect(c.disks[1]?.pci).toEqual({ slot: 2 })
    expect(rootPortCount(c)).toBe(ports + 1)
  })

  it('gives a SATA disk no slot and leaves the ports alone', () => {
    const c = config()
    const next = withDevice(
      c,
      { kind: 'disk', device: { ...disk('disk1', 'sata'), pci: { slot: 9 } } },
      { live: false },
    )
    expect(next.disks[1]?.pci).toBeUndefined()
    expect(next.hotplugSlots).toBe(c.hotplugSlots)
    expect(rootPortCount(withoutDevice(next, 'disk1'))).toBe(rootPortCount(c))
    expect(buildQemuArgv(next, ctx).join(' ')).toContain('"driver":"ide-hd","id":"disk1"')
  })

  it('picks new ids, skipping those taken, and names what there is when an id is wrong', () => {
    const c = config()
    expect(nextDeviceId(c, 'disk')).toBe('disk1')
    expect(nextDeviceId(c, 'disk', (id) => id === 'disk1')).toBe('disk2')
    expect(nextDeviceId(c, 'net')).toBe('net1')
    expect(findDevice(c, 'net0').kind).toBe('nic')
    expect(() => findDevice(c, 'cd0')).toThrow(/CD drive of "box", which stays/)
    expect(() => findDevice(c, 'x')).toThrow(/its disks and cards: disk0, net0/)
  })

  it('keeps a boot order that renders after the boot disk leaves', () => {
    const c = withoutDevice(config(), 'disk0')
    expect(c.bootOrder).toEqual(['disk', 'cdrom'])
    expect(bootIndexes(c)).toEqual(new Map([['cd0', 1]]))
    expect(() => buildQemuArgv(c, ctx)).not.toThrow()
  })

  it('leaves the pc machine without root ports to count', () => {
    const c = config({ machine: { type: 'pc', version: 'pc-i440fx-7.2' }, cdroms: [] })
    const next = withDevice(c, { kind: 'nic', device: nic('net1') }, { live: true })
    expect(next.hotplugSlots).toBe(c.hotplugSlots)
    expect(next.nics[1]?.pci?.slot).toBeGreaterThan(c.nics[0]!.pci!.slot)
    expect(withoutDevice(next, 'net1')).toEqual(c)
  })
})
