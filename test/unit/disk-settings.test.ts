// Disk settings on a stopped VM: only what changed is reported, a disk moved onto a PCI bus gets a
// slot and one moved off gives it back, and other disks keep theirs.
import { describe, expect, it } from 'vitest'
import { VmConfig } from '../../engine/api/vm-config.ts'
import { applyDiskSettings, changedDiskSettings } from '../../engine/devices/disk-settings.ts'

const config = VmConfig.parse({
  schemaVersion: 1,
  id: '77777777-7777-4777-8777-777777777777',
  name: 'disks',
  createdAt: '2025-01-01T00:00:00.000Z',
  machine: { type: 'q35', version: 'pc-q35-7.2' },
  firmware: 'bios',
  cpus: 1,
  memoryMiB: 256,
  disks: [
    { id: 'disk0', path: 'a.qcow2', format: 'qcow2', bus: 'virtio-blk', serial: 'A', pci: { slot: 0 } },
    { id: 'disk1', path: 'b.qcow2', format: 'qcow2', bus: 'sata', serial: 'B' },
  ],
})

describe('disk settings', () => {
  it('reports only the settings that differ', () => {
    const d = config.disks[0]!
    expect(changedDiskSettings(d, { vm: 'x', disk: 'disk0', bus: 'virtio-blk', cache: 'none' })).toEqual({
      cache: 'none',
    })
    expect(changedDiskSettings(d, { vm: 'x', disk: 'disk0', discard: true })).toEqual({})
  })

  it('gives a disk moved onto virtio a free slot and takes it from one moved to SATA', () => {
    const toVirtio = applyDiskSettings(config, { vm: 'x', disk: 'disk1', bus: 'virtio-scsi' })
    expect(toVirtio.disks.map((d) => d.pci?.slot)).toEqual([0, 1])
    const toSata = applyDiskSettings(toVirtio, { vm: 'x', disk: 'disk0', bus: 'sata' })
    expect(toSata.disks[0]!.pci).toBeUndefined()
    expect(toSata.disks[1]!.pci).toEqual({ slot: 1 })
  })

  it('names the disks there are when asked for one that is not', () => {
    expect(() => applyDiskSettings(config, { vm: 'x', disk: 'disk9', cache: 'none' })).toThrow(
      /"disks" has no disk "disk9" \(its disks: disk0, disk1\)/,
    )
  })
})
