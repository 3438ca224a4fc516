// @vitest-environment jsdom
// The New VM form's rules and the dialog that applies them.
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ClientProvider } from '../../renderer/connection/ConnectionGate.tsx'
import type { VireoClient } from '../../renderer/connection/types.ts'
import { NewVmDialog } from '../../renderer/library/NewVmDialog.tsx'
import { DEFAULT_FORM, validateNewVm, type NewVmForm } from '../../renderer/library/new-vm-form.ts'

afterEach(cleanup)

const form = (over: Partial<NewVmForm>): NewVmForm => ({ ...DEFAULT_FORM, name: 'web', ...over })

describe('validateNewVm', () => {
  it('requires a name', () => {
    expect(validateNewVm(form({ name: '' })).errors.name).toBe('Give the VM a name.')
    expect(validateNewVm(form({ name: '   ' })).errors.name).toBe('Give the VM a name.')
    expect(validateNewVm(form({ name: 'a\u0007b' })).errors.name).toMatch(/control characters/)
    expect(validateNewVm(form({ name: 'x'.repeat(129) })).errors.name).toMatch(/at most 128/)
  })

  it('keeps memory within 16 MiB and 1 TiB, in whole MiB', () => {
    expect(validateNewVm(form({ memoryMiB: '15' })).errors.memoryMiB).toMatch(/from 16 to 1048576/)
    expect(validateNewVm(form({ memoryMiB: '1048577' })).errors.memoryMiB).toBeDefined()
    expect(validateNewVm(form({ memoryMiB: '1.5' })).errors.memoryMiB).toBeDefined()
    expect(validateNewVm(form({ memoryMiB: 'lots' })).errors.memoryMiB).toBeDefined()
    expect(validateNewVm(form({ memoryMiB: '16' })).errors.memoryMiB).toBeUndefined()
    expect(validateNewVm(form({ memoryMiB: '1048576' })).errors.memoryMiB).toBeUndefined()
  })

  it('warns, without blocking, that UEFI wants 512 MiB', () => {
    const v = validateNewVm(form({ firmware: 'uefi', memoryMiB: '256' }))
    expect(v.errors).toEqual({})
    expect(v.warnings.memoryMiB).toMatch(/at least 512 MiB/)
    expect(v.params).not.toBeNull()
  })

  it('checks CPUs, disk size and the ISO path', () => {
    expect(validateNewVm(form({ cpus: '0' })).errors.cpus).toBeDefined()
    expect(validateNewVm(form({ cpus: '65' })).errors.cpus).toBeDefined()
    expect(validateNewVm(form({ diskGiB: '-1' })).errors.diskGiB).toBeDefined()
    expect(validateNewVm(form({ iso: 'debian.iso' })).errors.iso).toMatch(/full path/)
    expect(validateNewVm(form({ iso: 'C:\\iso\\win.iso' })).errors.iso).toBeUndefined()
  })

  it('makes vm.create params', () => {
    expect(
      validateNewVm(form({ name: ' web ', iso: '/srv/d.iso', diskGiB: '8', firmware: 'uefi' })).params,
    ).toEqual({
      name: 'web',
      iso: '/srv/d.iso',
      memoryMiB: 2048,
      cpus: 1,
      diskSize: '8G',
      firmware: 'uefi',
    })
    expect(validateNewVm(form({ diskGiB: '' })).params).not.toHaveProperty('diskSize')
  })
})

function renderDialog(create: (params: unknown) => unknown = () => ({ id: 'x' })) {
  const call = vi.fn(async (method: string, params: unknown) => {
    if (method === 'vm.create') return create(params)
    throw new Error(`unexpected ${method}`)
  })
  const client = {
    call,
    on: vi.fn(),
    onClose: vi.fn(),
    openStream: vi.fn(),
    close: vi.fn(),
  } as unknown as VireoClient
  const onClose = vi.fn()
  const onCreated = vi.fn()
  render(
    <ClientProvider client={client}>
      <NewVmDialog open onClose={onClose} onCreated={onCreated} />
    </ClientProvider>,
  )
  return { call, onClose, onCreated }
}

const input = (label: RegExp) => screen.getByRole('textbox', { name: label })

describe('New VM dialog', () => {
  it('does not create a VM without a name, and says why', async () => {
    const { call } = renderDialog()
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Create' }))
    })
    expect(screen.getByText('Give the VM a name.')).toBeTruthy()
    expect(input(/^Name/).getAttribute('aria-invalid')).toBe('true')
    expect(call).not.toHaveBeenCalled()
  })

  it('refuses memory out of bounds', async () => {
    const { call } = renderDialog()
    fireEvent.change(input(/^Name/), { target: { value: 'web' } })
    fireEvent.change(input(/^Memory/), { target: { value: '8' } })
    fireEvent.blur(input(/^Memory/))
    expect(screen.getByText(/Memory is a whole number of MiB from 16/)).toBeTruthy()
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Create' }))
    })
    expect(call).not.toHaveBeenCalled()
  })

  it('creates the VM with what was typed and closes', async () => {
    const { call, onClose, onCreated } = renderDialog()
    fireEvent.change(input(/^Name/), { target: { value: 'web' } })
    fireEvent.change(input(/^Install ISO/), { target: { value: '/srv/iso/debian.iso' } })
    fireEvent.change(input(/^Memory/), { target: { value: '1024' } })
    fireEvent.click(screen.getByRole('radio', { name: /UEFI/ }))
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Create' }))
    })
    expect(call).toHaveBeenCalledWith('vm.create', {
      name: 'web',
      iso: '/srv/iso/debian.iso',
      memoryMiB: 1024,
      cpus: 1,
      diskSize: '16G',
      firmware: 'uefi',
    })
    expect(onCreated).toHaveBeenCalledWith({ id: 'x' })
    expect(onClose).toHaveBeenCalled()
  })

  it('shows the engine’s refusal in the dialog and stays open', async () => {
    const { onClose } = renderDialog(() => {
      throw new Error('a VM named "web" already exists')
    })
    fireEvent.change(input(/^Name/), { target: { value: 'web' } })
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Create' }))
    })
    expect(screen.getByText('Could not create the VM: a VM named "web" already exists')).toBeTruthy()
    expect(onClose).not.toHaveBeenCalled()
  })
})
