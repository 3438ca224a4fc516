// PCI placement: every PCI device gets the lowest free slot once and keeps it for life, and the
// q35 root-port count stays fixed across a hot-plug, as migration and snapshot-load require.
import { describe, expect, it } from 'vitest'
import { VmConfig, type VmConfigInput } from '../../engine/api/vm-config.ts'
import {
  assignPlacements,
  nextFreeSlot,
  PC_FIRST_FREE_SLOT,
  rootPortCount,
} from '../../engine/qemu/argv/placement.ts'
import { buildQemuArgv, rootPortDevices } from '../../engine/qemu/argv/index.ts'

type DiskInput = NonNullable<VmConfigInput['disks']>[number]
type NicInput = NonNullable<VmConfigInput['nics']>[number]

const disk = (id: string, bus: DiskInput['bus'], slot?: number): DiskInput => ({
  id,
  path: `${id}.qcow2`,
  format: 'qcow2',
  bus,
  serial: 'S1',
  ...(slot === undefined ? {} : { pci: { slot } }),
})
const nic = (id: string, slot?: number): NicInput => ({
  id,
  model: 'virtio-net',
  mac: '52:54:00:00:00:01',
  network: { mode: 'none' },
  ...(slot === undefined ? {} : { pci: { slot } }),
})

function config(over: Partial<VmConfigInput>): VmConfig {
  return VmConfig.parse({
    schemaVersion: 1,
    id: '88888888-8888-4888-8888-888888888888',
    name: 'placement',
    createdAt: '2025-01-01T00:00:00.000Z',
    machine: { type: 'q35', version: 'pc-q35-7.2' },
    firmware: 'bios',
    cpus: 1,
    memoryMiB: 256,
    ...over,
  })
}

const slots = (c: VmConfig) => [...c.disks, ...c.nics].map((d) => [d.id, d.pci?.slot ?? null])

describe('assignPlacements', () => {
  it('fills the lowest free slots in config order and never moves a placed device', () => {
    const c = config({
      disks: [disk('a', 'virtio-blk'), disk('b', 'nvme', 1), disk('c', 'virtio-scsi')],
      nics: [nic('n0'), nic('n1', 3)],
    })
    const placed = assignPlacements(c)
    expect(slots(placed)).toEqual([
      ['a', 0],
      ['b', 1],
      ['c', 2],
      ['n0', 4],
      ['n1', 3],
    ])
    expect(assignPlacements(placed)).toEqual(placed)
    expect(c.disks[0]?.pci).toBeUndefined() // the input is left as it was
  })

  it('gives SATA and IDE devices no slot, and drops one left from an earlier bus', () => {
    const c = assignPlacements(config({ disks: [disk('s', 'sata', 0), disk('v', 'virtio-blk')] }))
    expect(slots(c)).toEqual([
      ['s', null],
      ['v', 0],
    ])
  })

  it('starts after the fixed devices on pc', () => {
    const c = assignPlacements(
      config({ machine: { type: 'pc', version: 'pc-i440fx-7.2' }, nics: [nic('n0')] }),
    )
    expect(c.nics[0]?.pci?.slot).toBe(PC_FIRST_FREE_SLOT)
  })

  it('says so when no slot is left', () => {
    const many = Array.from({ length: 33 }, (_, i) => nic(`n${i}`))
    expect(() => assignPlacements(config({ nics: many }))).toThrow(
      /no free PCI slot left for the network card "n32"/,
    )
  })
})

describe('root ports and hot-plug slots', () => {
  it('creates one port per placed device plus the spares, and enough for the highest slot', () => {
    const c = assignPlacements(config({ nics: [nic('n0'), nic('n1')], hotplugSlots: 3 }))
    expect(rootPortCount(c)).toBe(5)
    expect(rootPortDevices(c).map((d) => [d.id, d.addr])).toEqual([
      ['rp0', '0x2'],
      ['rp1', '0x2.1'],
      ['rp2', '0x2.2'],
      ['rp3', '0x2.3'],
      ['rp4', '0x2.4'],
    ])
    expect(rootPortCount(config({ nics: [nic('n0', 9)], hotplugSlots: 0 }))).toBe(10)
    const ports = rootPortDevices(assignPlacements(config({ nics: [nic('n0', 8)], hotplugSlots: 0 })))
    expect(ports[8]).toMatchObject({ id: 'rp8', addr: '0x3', chassis: 9, port: 0x18, multifunction: true })
  })

  it('offers a spare port for hot-plug, and the port count survives the plug', () => {
    const before = assignPlacements(
      config({ disks: [disk('d0', 'virtio-blk')], nics: [nic('n0')], hotplugSlots: 2 }),
    )
    const slot = nextFreeSlot(before)
    expect(slot).toBe(2)
    // What the hot-plug code records: the device in its port, one spare fewer.
    const after: VmConfig = {
      ...before,
      nics: [...before.nics, { ...before.nics[0]!, id: 'n1', pci: { slot: slot! } }],
      hotplugSlots: before.hotplugSlots - 1,
    }
    expect(rootPortCount(after)).toBe(rootPortCount(before))
    expect(buildQemuArgv(after, ctxFor()).filter((a) => a.includes('pcie-root-port'))).toHaveLength(4)
    expect(
      nextFreeSlot({
        ...after,
        nics: [...after.nics, { ...after.nics[0]!, id: 'n2', pci: { slot: 3 } }],
        hotplugSlots: 0,
      }),
    ).toBeNull()
  })

  it('reuses a gap left by an unplugged device first', () => {
    const c = config({ disks: [disk('d0', 'virtio-blk', 0), disk('d2', 'virtio-blk', 2)], hotplugSlots: 1 })
    expect(nextFreeSlot(c)).toBe(1)
  })

  it('hot-plugs on pci.0 itself on pc', () => {
    const c = assignPlacements(
      config({ machine: { type: 'pc', version: 'pc-i440fx-7.2' }, nics: [nic('n0')] }),
    )
    expect(nextFreeSlot(c)).toBe(PC_FIRST_FREE_SLOT + 1)
    expect(rootPortDevices(c)).toEqual([])
  })
})

function ctxFor() {
  return {
    qemuBinary: 'qemu-system-x86_64',
    vmDir: '/var/vireo/vms/x',
    runtimeDir: '/run/vireo/abc',
    accelerator: 'tcg' as const,
    sandbox: false,
  }
}
