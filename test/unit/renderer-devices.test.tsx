// @vitest-environment jsdom
// The devices dialog's rules and the dialog: disk and card changes hold only what changed, what
// QEMU would refuse is said before asking, and the disc is inserted and ejected while the VM runs.
import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { VireoError } from '../../engine/api/errors.ts'
import { AttachResult, type VmInfo, type VmState } from '../../engine/api/rpc.ts'
import { ClientProvider } from '../../renderer/connection/ConnectionGate.tsx'
import { fakeClient, vmInfoOf } from '../support/renderer.ts'
import { DevicesDialog } from '../../renderer/vm/DevicesDialog.tsx'
import { diskChanges, diskForm, diskProblem, nicChanges, nicForm } from '../../renderer/vm/device-forms.ts'
import { ADD_DISK_FORM, ADD_NIC_FORM, addDiskParams, addNicParams } from '../../renderer/vm/attach-forms.ts'

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
    if (method === 'device.attach') {
      // The engine's answer, held to the contract: the new device and the VM holding it.
      if (params.kind === 'disk') {
        if (params.image === '/srv/busy.qcow2')
          throw new VireoError('conflict', 'the disk /srv/busy.qcow2 already belongs to the VM "db"')
        const disk = { ...current.config.disks[0]!, id: 'disk1', path: 'disks/disk1.qcow2', pci: { slot: 5 } }
        current = { ...current, config: { ...current.config, disks: [...current.config.disks, disk] } }
        return AttachResult.parse({ device: { kind: 'disk', ...disk }, vm: current })
      }
      const nic = { ...current.config.nics[0]!, id: 'net1', mac: '52:54:00:aa:bb:cd', pci: { slot: 6 } }
      current = { ...current, config: { ...current.config, nics: [...current.config.nics, nic] } }
      return AttachResult.parse({ device: { kind: 'nic', ...nic }, vm: current })
    }
    if (method === 'device.detach') {
      const id = params.device as string
      current = {
        ...current,
        config: {
          ...current.config,
          disks: current.config.disks.filter((d) => d.id !== id),
          nics: current.config.nics.filter((n) => n.id !== id),
        },
      }
      return current
    }
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
    expect(screen.getByText(/disks and cards can\s+be added and removed now/)).toBeTruthy()
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

describe('attach forms', () => {
  it('makes device.attach params for a new disk, an existing image and a card', () => {
    expect(addDiskParams(ID, ADD_DISK_FORM, true).params).toEqual({
      vm: ID,
      kind: 'disk',
      size: '8G',
      bus: 'virtio-blk',
    })
    const existing = {
      ...ADD_DISK_FORM,
      source: 'existing' as const,
      image: ' /srv/d.qcow2 ',
      bus: 'nvme' as const,
    }
    expect(addDiskParams(ID, existing, false).params).toEqual({
      vm: ID,
      kind: 'disk',
      image: '/srv/d.qcow2',
      bus: 'nvme',
    })
    expect(addDiskParams(ID, { ...existing, image: 'd.qcow2' }, false).error).toMatch(/full path/)
    expect(addDiskParams(ID, { ...ADD_DISK_FORM, size: 'lots' }, false).error).toMatch(/size is a number/i)
    expect(addNicParams(ID, ADD_NIC_FORM).params).toEqual({
      vm: ID,
      kind: 'nic',
      model: 'virtio-net',
      network: { mode: 'nat', portForwards: [] },
    })
    expect(
      addNicParams(ID, { ...ADD_NIC_FORM, mode: 'internal', internal: 'lab', dhcp: '10.9.0.0/24' }).params,
    ).toMatchObject({ network: { mode: 'internal', name: 'lab', dhcp: { subnet: '10.9.0.0/24' } } })
    expect(addNicParams(ID, { ...ADD_NIC_FORM, mode: 'internal', internal: 'a b' }).error).toMatch(
      /internal network name/,
    )
  })

  it('says SATA cannot be hot-plugged before asking, and only while the VM runs', () => {
    const sata = { ...ADD_DISK_FORM, bus: 'sata' as const }
    expect(addDiskParams(ID, sata, true).error).toBe(
      'SATA cannot be hot-plugged; shut the VM down or choose virtio.',
    )
    expect(addDiskParams(ID, sata, false).params).toMatchObject({ bus: 'sata' })
  })
})

describe('Devices dialog: adding and removing', () => {
  it('hot-plugs a disk and a card into a running VM and removes them, a disk only after asking', async () => {
    const { call } = renderDialog('running')
    const add = within(await screen.findByRole('group', { name: 'Add disk' }))
    fireEvent.change(add.getByRole('textbox', { name: 'Size of the new disk' }), { target: { value: '32M' } })
    await act(async () => {
      fireEvent.click(add.getByRole('button', { name: 'Add disk' }))
    })
    expect(call).toHaveBeenCalledWith('device.attach', {
      vm: ID,
      kind: 'disk',
      size: '32M',
      bus: 'virtio-blk',
    })
    expect(screen.getByRole('group', { name: 'Disk disk1' })).toBeTruthy()
    expect(screen.getByText('Added a disk.')).toBeTruthy()

    await act(async () => {
      fireEvent.click(
        within(screen.getByRole('group', { name: 'Add network card' })).getByRole('button', {
          name: 'Add network card',
        }),
      )
    })
    expect(call).toHaveBeenCalledWith('device.attach', {
      vm: ID,
      kind: 'nic',
      model: 'virtio-net',
      network: { mode: 'nat', portForwards: [] },
    })
    expect(screen.getByRole('group', { name: 'Network card net1' })).toBeTruthy()
    expect(screen.getByText('Added a network card.')).toBeTruthy()

    fireEvent.click(screen.getByRole('button', { name: 'Remove disk disk1' }))
    const confirm = within(await screen.findByRole('dialog', { name: 'Remove the disk disk1?' }))
    expect(confirm.getByText(/The guest loses the disk disk1 at once/)).toBeTruthy()
    expect(confirm.getByText(/stays on the host, at disks\/disk1\.qcow2/)).toBeTruthy()
    expect(call).not.toHaveBeenCalledWith('device.detach', expect.anything())
    await act(async () => {
      fireEvent.click(confirm.getByRole('button', { name: 'Remove' }))
    })
    expect(call).toHaveBeenCalledWith('device.detach', { vm: ID, device: 'disk1' })
    expect(screen.queryByRole('group', { name: 'Disk disk1' })).toBeNull()

    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Remove card net1' }))
    })
    expect(call).toHaveBeenCalledWith('device.detach', { vm: ID, device: 'net1' })
    expect(screen.queryByRole('group', { name: 'Network card net1' })).toBeNull()
  })

  it("keeps the disk when the removal is not confirmed, and shows the engine's refusal", async () => {
    const { call } = renderDialog('stopped')
    fireEvent.click(await screen.findByRole('button', { name: 'Remove disk disk0' }))
    const confirm = within(await screen.findByRole('dialog', { name: 'Remove the disk disk0?' }))
    expect(confirm.getByText(/will not have the disk disk0 when it starts/)).toBeTruthy()
    fireEvent.click(confirm.getByRole('button', { name: 'Keep it' }))
    await waitFor(() => expect(screen.queryByRole('dialog', { name: 'Remove the disk disk0?' })).toBeNull())
    expect(call).not.toHaveBeenCalledWith('device.detach', expect.anything())

    const add = within(screen.getByRole('group', { name: 'Add disk' }))
    fireEvent.mouseDown(add.getByRole('combobox', { name: 'New disk from' }))
    fireEvent.click(await screen.findByRole('option', { name: 'An existing image' }))
    fireEvent.change(add.getByRole('textbox', { name: 'Disk image (path on the host)' }), {
      target: { value: '/srv/busy.qcow2' },
    })
    await act(async () => {
      fireEvent.click(add.getByRole('button', { name: 'Add disk' }))
    })
    expect(await screen.findByText(/already belongs to the VM "db"/)).toBeTruthy()
  })
})
