// @vitest-environment jsdom
// The devices dialog's rules and the dialog: disk and card changes hold only what changed, what
// QEMU would refuse is said before asking, and the disc is inserted and ejected while the VM runs.
import { act, cleanup, fireEvent, render, screen, within } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { VmInfo, VmState } from '../../engine/api/rpc.ts'
import { ClientProvider } from '../../renderer/connection/ConnectionGate.tsx'
import { fakeClient, vmInfoOf } from '../support/renderer.ts'
import { DevicesDialog } from '../../renderer/vm/DevicesDialog.tsx'
import { diskChanges, diskForm, diskProblem, nicChanges, nicForm } from '../../renderer/vm/device-forms.ts'

afterEach(cleanup)

const ID = '66666666-6666-4666-8666-666666666666'

function vmInfo(state: VmState = 'stopped'): VmInfo {
  return vmInfoOf(
    {
      schemaVersion: 1,
      id: ID,
      name: 'web',
      createdAt: '2025-01-01T00:00:00.000Z',
      machine: { type: 'q35', version: 'pc-q35-7.2' },
      firmware: 'bios',
      cpus: 1,
      memoryMiB: 256,
      disks: [{ id: 'disk0', path: 'disks/disk0.qcow2', format: 'qcow2', bus: 'virtio-blk', serial: 'S' }],
      cdroms: [{ id: 'cd0', path: '/srv/a.iso', bus: 'sata' }],
      nics: [
        {
          id: 'net0',
          model: 'virtio-net',
          mac: '52:54:00:aa:bb:cc',
          network: { mode: 'nat', portForwards: [{ hostPort: 2222, guestPort: 22 }] },
        },
      ],
    },
    state,
  )
}

describe('device forms', () => {
  const vm = vmInfo()
  const disk = vm.config.disks[0]!
  const nic = vm.config.nics[0]!

  it('sends a disk change holding only what changed', () => {
    expect(diskChanges(ID, disk, diskForm(disk))).toBeNull()
    expect(diskChanges(ID, disk, { ...diskForm(disk), cache: 'none', bus: 'sata' })).toEqual({
      vm: ID,
      disk: 'disk0',
      cache: 'none',
      bus: 'sata',
    })
  })

  it('says what QEMU would refuse', () => {
    const f = diskForm(disk)
    expect(diskProblem({ ...f, bus: 'sata', iothread: true })).toMatch(/Only virtio-blk and virtio-scsi/)
    expect(diskProblem({ ...f, discard: false, detectZeroes: 'unmap' })).toMatch(/needs discard on/)
    expect(diskProblem({ ...f, bus: 'ide', readOnly: true })).toMatch(/cannot be read-only/)
    expect(diskProblem(f)).toBeNull()
  })

  it('moves a card to an internal network, checks its name and the MAC', () => {
    const f = nicForm(nic)
    expect(nicChanges(ID, nic, { ...f, mode: 'internal', internal: 'lab' }).params).toEqual({
      vm: ID,
      nic: 'net0',
      network: { mode: 'internal', name: 'lab' },
    })
    expect(nicChanges(ID, nic, { ...f, mode: 'internal', internal: 'a b' }).error).toMatch(
      /internal network name/,
    )
    expect(
      nicChanges(ID, nic, { ...f, mode: 'internal', internal: 'lab', dhcp: '10.9.0.0/24' }).params,
    ).toEqual({
      vm: ID,
      nic: 'net0',
      network: { mode: 'internal', name: 'lab', dhcp: { subnet: '10.9.0.0/24' } },
    })
    const hostBits = nicChanges(ID, nic, { ...f, mode: 'internal', internal: 'lab', dhcp: '10.9.0.1/24' })
    expect(hostBits.error).toMatch(/network address/)
    expect(nicChanges(ID, nic, { ...f, mac: '01:00:00:00:00:01' }).error).toMatch(/unicast/)
    expect(nicChanges(ID, nic, { ...f, mac: '52:54:00:AA:BB:CD' }).params).toEqual({
      vm: ID,
      nic: 'net0',
      mac: '52:54:00:aa:bb:cd',
    })
    // Back to NAT keeps nothing to send; NAT from none starts without forwards.
    expect(nicChanges(ID, nic, f).params).toBeNull()
  })
})

function renderDialog(state: VmState) {
  let current = vmInfo(state)
  const call = vi.fn(async (method: string, params: Record<string, unknown>) => {
    if (method === 'vm.info') return current
    if (method === 'cdrom.change') {
      current = {
        ...current,
        config: {
          ...current.config,
          cdroms: [{ ...current.config.cdroms[0]!, path: params.path as string | null }],
        },
      }
      return current
    }
    if (method === 'disk.update' || method === 'nic.update') return current
    throw new Error(`unexpected ${method}`)
  })
  const client = fakeClient(call)
  render(
    <ClientProvider client={client}>
      <DevicesDialog vmId={ID} onClose={vi.fn()} />
    </ClientProvider>,
  )
  return { call }
}

describe('Devices dialog', () => {
  it('changes the disc of a running VM and locks the disks and cards', async () => {
    const { call } = renderDialog('running')
    await screen.findByText('Drive cd0: /srv/a.iso')
    expect(screen.getByText(/disks and cards change while it is shut down/)).toBeTruthy()
    const disk = within(screen.getByRole('group', { name: 'Disk disk0' }))
    expect(disk.getByRole('button', { name: 'Save disk disk0' }).hasAttribute('disabled')).toBe(true)
    fireEvent.change(screen.getByRole('textbox', { name: /Disc image for cd0/ }), {
      target: { value: '/srv/b.iso' },
    })
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Insert' }))
    })
    expect(call).toHaveBeenCalledWith('cdrom.change', { vm: ID, cdrom: 'cd0', path: '/srv/b.iso' })
    expect(screen.getByText('Drive cd0: /srv/b.iso')).toBeTruthy()
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Eject' }))
    })
    expect(call).toHaveBeenCalledWith('cdrom.change', { vm: ID, cdrom: 'cd0', path: null })
    expect(screen.getByText('Drive cd0: empty')).toBeTruthy()
  })

  it('saves a stopped disk, and says the cache mode in a line', async () => {
    const { call } = renderDialog('stopped')
    const group = within(await screen.findByRole('group', { name: 'Disk disk0' }))
    expect(group.getByText(/data is safe once the guest flushes/)).toBeTruthy()
    fireEvent.click(group.getByRole('checkbox', { name: 'Read-only' }))
    await act(async () => {
      fireEvent.click(group.getByRole('button', { name: 'Save disk disk0' }))
    })
    expect(call).toHaveBeenCalledWith('disk.update', { vm: ID, disk: 'disk0', readOnly: true })
  })
})
