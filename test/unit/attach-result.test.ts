// device.attach answers the disk or card it added, as the VM's config now holds it, beside the VM:
// a caller (the CLI, the Devices dialog, a script) never has to diff configs to find its id.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AttachResult } from '../../engine/api/rpc.ts'
import { startEngine, type HostileEngine } from './hostile/harness.ts'

let t: HostileEngine
let vm: string
beforeAll(async () => {
  t = await startEngine()
  vm = (await t.makeVm('attach-result')).id
})
afterAll(() => t.close())

async function attach(params: Record<string, unknown>): Promise<AttachResult> {
  const r = await t.call('device.attach', { vm, ...params })
  expect(r.error).toBeUndefined()
  return AttachResult.parse(r.result)
}

describe('device.attach result', () => {
  it('names the new disk and gives the VM that holds it', async () => {
    const { device, vm: info } = await attach({ kind: 'disk', size: '8M', bus: 'virtio-scsi' })
    expect(device).toMatchObject({ kind: 'disk', id: 'disk0', bus: 'virtio-scsi', path: 'disks/disk0.qcow2' })
    const { kind: _kind, ...disk } = device
    expect(info.config.disks).toContainEqual(disk)
    expect(info.id).toBe(vm)
  })

  it('names the new card with the MAC and slot it was given', async () => {
    const { device, vm: info } = await attach({ kind: 'nic', model: 'e1000' })
    expect(device).toMatchObject({ kind: 'nic', id: 'net1', model: 'e1000', network: { mode: 'nat' } })
    const { kind: _kind, ...nic } = device
    expect(info.config.nics.at(-1)).toEqual(nic)
    expect(nic.pci).toBeDefined()
  })
})
