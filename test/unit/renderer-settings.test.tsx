// @vitest-environment jsdom
// The settings dialog's rules and the dialog that applies them: only changes are sent, hardware is
// locked while the VM runs, and the boot order is edited with the keyboard-reachable buttons.
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { VmInfo, VmState } from '../../engine/api/rpc.ts'
import type { VmConfigInput } from '../../engine/api/vm-config.ts'
import { ClientProvider } from '../../renderer/connection/ConnectionGate.tsx'
import { fakeClient, vmInfoOf } from '../support/renderer.ts'
import { SettingsDialog } from '../../renderer/vm/SettingsDialog.tsx'
import { formFromVm, moveBoot, validateSettings } from '../../renderer/vm/settings-form.ts'

afterEach(cleanup)

const ID = '88888888-8888-4888-8888-888888888888'

function vmInfo(state: VmState = 'stopped', over: Partial<VmConfigInput> = {}): VmInfo {
  return vmInfoOf(
    {
      schemaVersion: 1,
      id: ID,
      name: 'web',
      createdAt: '2025-01-01T00:00:00.000Z',
      machine: { type: 'q35', version: 'pc-q35-7.2' },
      firmware: 'bios',
      cpus: 2,
      memoryMiB: 1024,
      bootOrder: ['disk', 'cdrom'],
      ...over,
    },
    state,
  )
}

describe('validateSettings', () => {
  it('sends only what changed', () => {
    const vm = vmInfo()
    const form = formFromVm(vm)
    expect(validateSettings(form, vm).params).toEqual({ vm: ID })
    expect(validateSettings({ ...form, memoryMiB: '2048', name: ' web 2 ' }, vm).params).toEqual({
      vm: ID,
      memoryMiB: 2048,
      name: 'web 2',
    })
  })

  it('keeps the unchecked boot devices out of the order, and needs at least one', () => {
    const vm = vmInfo()
    const form = formFromVm(vm)
    expect(form.boot.map((b) => [b.device, b.enabled])).toEqual([
      ['disk', true],
      ['cdrom', true],
      ['network', false],
    ])
    const moved = { ...form, boot: moveBoot(form.boot, 1, -1) }
    expect(validateSettings(moved, vm).params).toEqual({ vm: ID, bootOrder: ['cdrom', 'disk'] })
    const none = { ...form, boot: form.boot.map((b) => ({ ...b, enabled: false })) }
    expect(validateSettings(none, vm).errors.boot).toMatch(/at least one device/)
    expect(validateSettings(none, vm).params).toBeNull()
  })

  it('checks CPUs and memory, and warns about UEFI below 512 MiB and about switching firmware', () => {
    const vm = vmInfo('stopped', {
      disks: [{ id: 'disk0', path: 'd.qcow2', format: 'qcow2', bus: 'virtio-blk', serial: 'S' }],
    })
    const form = formFromVm(vm)
    expect(validateSettings({ ...form, cpus: '0' }, vm).errors.cpus).toBeDefined()
    expect(validateSettings({ ...form, memoryMiB: '8' }, vm).errors.memoryMiB).toBeDefined()
    const uefi = validateSettings({ ...form, firmware: 'uefi', memoryMiB: '256' }, vm)
    expect(uefi.warnings.memoryMiB).toMatch(/at least 512 MiB/)
    expect(uefi.warnings.firmware).toMatch(/may not start/)
    expect(uefi.params).toMatchObject({ firmware: 'uefi', memoryMiB: 256 })
  })

  it('locks the hardware of a VM that runs', () => {
    expect(validateSettings(formFromVm(vmInfo('running')), vmInfo('running')).hardwareLocked).toBe(true)
    expect(validateSettings(formFromVm(vmInfo()), vmInfo()).hardwareLocked).toBe(false)
  })
})

function renderDialog(vm: VmInfo, update: (p: unknown) => unknown = () => vm) {
  const call = vi.fn(async (method: string, params: unknown) => {
    if (method === 'vm.info') return vm
    if (method === 'vm.update') return update(params)
    throw new Error(`unexpected ${method}`)
  })
  const client = fakeClient(call)
  const onClose = vi.fn()
  const onSaved = vi.fn()
  render(
    <ClientProvider client={client}>
      <SettingsDialog vmId={vm.id} onClose={onClose} onSaved={onSaved} />
    </ClientProvider>,
  )
  return { call, onClose, onSaved }
}

describe('SettingsDialog', () => {
  it('loads the VM, saves the changes it was given, and closes', async () => {
    const { call, onClose, onSaved } = renderDialog(vmInfo())
    const memory = await screen.findByLabelText('Memory')
    const save = screen.getByRole('button', { name: 'Save' })
    expect(save).toHaveProperty('disabled', true)
    fireEvent.change(memory, { target: { value: '2048' } })
    fireEvent.click(screen.getByRole('button', { name: 'Boot from CD/DVD earlier' }))
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Save' }))
    })
    expect(call).toHaveBeenCalledWith('vm.update', { vm: ID, memoryMiB: 2048, bootOrder: ['cdrom', 'disk'] })
    expect(onSaved).toHaveBeenCalled()
    expect(onClose).toHaveBeenCalled()
  })

  it('lets a running VM be renamed but not resized, and says why', async () => {
    const { call } = renderDialog(vmInfo('running'))
    const memory = await screen.findByLabelText('Memory')
    expect(memory).toHaveProperty('disabled', true)
    expect(screen.getByLabelText('CPUs')).toHaveProperty('disabled', true)
    expect(screen.getByText(/hardware can change only while it is shut down/)).toBeTruthy()
    fireEvent.change(screen.getByLabelText(/Name/), { target: { value: 'renamed' } })
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Save' }))
    })
    expect(call).toHaveBeenCalledWith('vm.update', { vm: ID, name: 'renamed' })
  })

  it('shows the engine refusing in plain words and stays open', async () => {
    const { onClose } = renderDialog(vmInfo(), () => {
      throw new Error('a VM named "db" already exists')
    })
    fireEvent.change(await screen.findByLabelText(/Name/), { target: { value: 'db' } })
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Save' }))
    })
    expect(
      await screen.findByText(/Could not save the settings: a VM named "db" already exists/),
    ).toBeTruthy()
    expect(onClose).not.toHaveBeenCalled()
  })
})
