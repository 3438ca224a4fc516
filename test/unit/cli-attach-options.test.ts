// What `vireo attach NAME disk|nic` makes of its options: the users' short bus names mapped to the
// engine's, options of the other kind refused rather than ignored, and DHCP only with an internal
// network; the sentence after an attach names the new device, and the one after a detach says
// where a disk's image stays.
import { describe, expect, it } from 'vitest'
import type { AttachedDevice, VmInfo } from '../../engine/api/rpc.ts'
import { attachedDevice, attachParams, detachedMessage } from '../../engine/cli/attach-options.ts'

describe('vireo attach options', () => {
  it('maps virtio and scsi to the engine bus names', () => {
    expect(attachParams('box', 'disk', { size: '8G' })).toEqual({ vm: 'box', kind: 'disk', size: '8G' })
    expect(attachParams('box', 'disk', { size: '8G', bus: 'virtio' })).toMatchObject({ bus: 'virtio-blk' })
    expect(attachParams('box', 'disk', { image: '/d.raw', bus: 'scsi' })).toEqual({
      vm: 'box',
      kind: 'disk',
      image: '/d.raw',
      bus: 'virtio-scsi',
    })
    expect(attachParams('box', 'disk', { size: '1G', bus: 'nvme' })).toMatchObject({ bus: 'nvme' })
  })

  it('refuses options of the other kind and a disk with neither size nor image', () => {
    expect(() => attachParams('box', 'nic', { size: '8G' })).toThrow(
      '--size does not go with attaching a network card',
    )
    expect(() => attachParams('box', 'disk', { size: '8G', model: 'e1000' })).toThrow(
      '--model does not go with attaching a disk',
    )
    expect(() => attachParams('box', 'disk', {})).toThrow(/--size SIZE \(a new disk\) or --image PATH/)
  })

  it('makes a card on NAT, none, or an internal network with DHCP', () => {
    expect(attachParams('box', 'nic', {})).toEqual({ vm: 'box', kind: 'nic' })
    expect(attachParams('box', 'nic', { network: { mode: 'nat' }, model: 'e1000' })).toEqual({
      vm: 'box',
      kind: 'nic',
      model: 'e1000',
      network: { mode: 'nat', portForwards: [] },
    })
    expect(
      attachParams('box', 'nic', { network: { mode: 'internal', name: 'lab' }, dhcp: '10.9.0.0/24' }),
    ).toEqual({
      vm: 'box',
      kind: 'nic',
      network: { mode: 'internal', name: 'lab', dhcp: { subnet: '10.9.0.0/24' } },
    })
    expect(() => attachParams('box', 'nic', { dhcp: '10.9.0.0/24' })).toThrow(/internal networks/)
  })

  it('names the device an attach added, from the answer alone', () => {
    const disk = { kind: 'disk', id: 'disk1', bus: 'nvme', path: '/srv/\u001b[2Jd.qcow2' } as AttachedDevice
    expect(attachedDevice(disk)).toBe('the disk disk1 (nvme, /srv/\\x1b[2Jd.qcow2)')
    const nic = { kind: 'nic', id: 'net1', model: 'e1000', mac: '52:54:00:aa:bb:cc' } as AttachedDevice
    expect(attachedDevice(nic)).toBe('the network card net1 (e1000, 52:54:00:aa:bb:cc)')
  })

  it('says where a detached disk image stays', () => {
    const vm = {
      name: 'box',
      dir: '/vms/x',
      config: {
        disks: [
          { id: 'disk1', path: 'disks/disk1.qcow2' },
          { id: 'disk2', path: '/srv/d.qcow2' },
        ],
        nics: [{ id: 'net1' }],
      },
    } as unknown as VmInfo
    expect(detachedMessage(vm, 'disk1')).toBe(
      'Detached disk1 from "box". Its image stays at /vms/x/disks/disk1.qcow2.',
    )
    expect(detachedMessage(vm, 'disk2')).toBe('Detached disk2 from "box". Its image stays at /srv/d.qcow2.')
    expect(detachedMessage(vm, 'net1')).toBe('Detached net1 from "box".')
  })
})
