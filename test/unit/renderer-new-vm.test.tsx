// @vitest-environment jsdom
// The New VM wizard's rules and the dialog that applies them: source, inspection, recommended
// hardware with its reasons, and creation or import.
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { ImageInspection } from '../../engine/api/rpc.ts'
import { ClientProvider } from '../../renderer/connection/ConnectionGate.tsx'
import { fakeClient } from '../support/renderer.ts'
import { NewVmDialog } from '../../renderer/library/NewVmDialog.tsx'
import {
  applyInspection,
  DEFAULT_FORM,
  sourceMismatch,
  validateNewVm,
  type NewVmForm,
} from '../../renderer/library/new-vm-form.ts'
import { parseSizeGiB } from '../../renderer/library/sizes.ts'

afterEach(cleanup)

const form = (over: Partial<NewVmForm>): NewVmForm => ({
  ...DEFAULT_FORM,
  name: 'web',
  path: '/srv/d.iso',
  ...over,
})

const debian: ImageInspection = {
  path: '/srv/iso/debian-12.5.0-amd64-netinst.iso',
  kind: 'iso',
  sizeBytes: 600 * 1024 * 1024,
  iso: { volumeId: 'Debian 12.5.0 amd64 n', bootable: { bios: true, uefi: true }, hybrid: true },
  disk: null,
  appliance: null,
  os: {
    id: 'debian12',
    name: 'Debian 12',
    source: 'osinfo-db',
    evidence: 'volume id "Debian 12.5.0 amd64 n"',
  },
  recommended: {
    memoryMiB: { value: 2048, reason: 'Debian 12 recommends 2 GiB' },
    diskSize: { value: '20G', reason: 'Debian 12 recommends 20 GiB' },
    firmware: { value: 'bios', reason: 'the CD boots with BIOS and UEFI; BIOS is simpler' },
    nic: { value: 'virtio-net', reason: 'Debian 12 has virtio drivers' },
    diskBus: { value: 'virtio-blk', reason: 'Debian 12 has virtio drivers' },
    cpus: { value: 2, reason: 'Debian 12 recommends 2 CPUs' },
  },
  warnings: [],
}

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

  it('checks CPUs, disk size and the path', () => {
    expect(validateNewVm(form({ cpus: '0' })).errors.cpus).toBeDefined()
    expect(validateNewVm(form({ cpus: '65' })).errors.cpus).toBeDefined()
    expect(validateNewVm(form({ diskGiB: '-1' })).errors.diskGiB).toBeDefined()
    expect(validateNewVm(form({ path: 'debian.iso' })).errors.path).toMatch(/full path/)
    expect(validateNewVm(form({ path: '' })).errors.path).toMatch(/Give the path/)
    expect(validateNewVm(form({ path: 'C:\\iso\\win.iso' })).errors.path).toBeUndefined()
    expect(validateNewVm(form({ source: 'empty', path: '' })).errors).toEqual({})
  })

  it('makes vm.create params for each source', () => {
    expect(
      validateNewVm(form({ name: ' web ', path: '/srv/d.iso', diskGiB: '8', firmware: 'uefi', nic: 'e1000' }))
        .params,
    ).toEqual({
      name: 'web',
      iso: '/srv/d.iso',
      memoryMiB: 2048,
      cpus: 1,
      diskSize: '8G',
      firmware: 'uefi',
      nic: 'e1000',
      diskBus: 'virtio-blk',
    })
    const disk = validateNewVm(
      form({ source: 'disk', path: '/srv/old.vmdk', diskMode: 'overlay', diskBus: 'sata' }),
    )
    expect(disk.params).toMatchObject({ disk: '/srv/old.vmdk', diskMode: 'overlay', diskBus: 'sata' })
    expect(disk.params).not.toHaveProperty('diskSize')
    expect(disk.params).not.toHaveProperty('iso')
    expect(validateNewVm(form({ source: 'empty', path: '/x', diskGiB: '' })).params).not.toHaveProperty('iso')
  })
})

describe('recommendations', () => {
  it('fills in what the detected OS wants and keeps each reason', () => {
    const { form: f, reasons } = applyInspection({ ...DEFAULT_FORM, path: debian.path }, debian)
    expect(f).toMatchObject({
      name: 'Debian 12',
      memoryMiB: '2048',
      cpus: '2',
      diskGiB: '20',
      nic: 'virtio-net',
    })
    expect(reasons.nic).toBe('Debian 12 has virtio drivers')
    // A name the user typed stays.
    expect(applyInspection({ ...DEFAULT_FORM, name: 'mine' }, debian).form.name).toBe('mine')
  })

  it('says when a file is not what the chosen source expects', () => {
    const disk: ImageInspection = { ...debian, kind: 'disk', iso: null }
    expect(sourceMismatch('iso', disk)).toMatch(/a disk image, not an ISO image.*Use an existing disk image/)
    expect(sourceMismatch('disk', debian)).toBeNull()
    expect(sourceMismatch('appliance', debian)).toMatch(/an ISO image, not an appliance/)
  })

  it('reads sizes the engine writes', () => {
    expect(parseSizeGiB('20G')).toBe(20)
    expect(parseSizeGiB('512M')).toBe(0.5)
    expect(parseSizeGiB('1T')).toBe(1024)
    expect(parseSizeGiB('big')).toBeNull()
  })
})

function renderDialog(handlers: Record<string, (params: unknown) => unknown> = {}) {
  const call = vi.fn(async (method: string, params: unknown) => {
    const h = handlers[method]
    if (h) return h(params)
    if (method === 'image.inspect') return debian
    if (method === 'vm.create' || method === 'vm.import') return { id: 'x' }
    throw new Error(`unexpected ${method}`)
  })
  const client = fakeClient(call)
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
const click = async (name: string) => {
  await act(async () => {
    fireEvent.click(screen.getByRole('button', { name }))
  })
}

describe('New VM wizard', () => {
  it('does not go on without a path, and says why', async () => {
    const { call } = renderDialog()
    await click('Next')
    expect(screen.getByText('Give the path of the file on the host.')).toBeTruthy()
    expect(call).not.toHaveBeenCalled()
  })

  it('inspects the ISO, shows what it found and why each default, and creates the VM', async () => {
    const { call, onClose, onCreated } = renderDialog()
    fireEvent.change(input(/^Path on the host/), { target: { value: debian.path } })
    await click('Next')
    expect(call).toHaveBeenCalledWith('image.inspect', { path: debian.path })
    expect(screen.getByText('Detected Debian 12')).toBeTruthy()
    expect(screen.getByText(/volume id "Debian 12.5.0 amd64 n"/)).toBeTruthy()
    expect(screen.getByText('Debian 12 recommends 2 GiB.')).toBeTruthy()
    // The card and the disk bus each say what virtio is and why it was chosen.
    expect(screen.getAllByText(/Fastest; needs virtio drivers.*Debian 12 has virtio drivers/)).toHaveLength(2)
    // Changing a recommended value drops its reason.
    fireEvent.change(input(/^Memory/), { target: { value: '1024' } })
    expect(screen.queryByText('Debian 12 recommends 2 GiB.')).toBeNull()
    await click('Create')
    expect(call).toHaveBeenCalledWith(
      'vm.create',
      expect.objectContaining({
        name: 'Debian 12',
        iso: debian.path,
        memoryMiB: 1024,
        cpus: 2,
        diskSize: '20G',
        nic: 'virtio-net',
        diskBus: 'virtio-blk',
        os: 'debian12',
        job: expect.stringMatching(/^new-vm-/),
      }),
    )
    expect(onCreated).toHaveBeenCalledWith({ id: 'x' })
    expect(onClose).toHaveBeenCalled()
  })

  it('refuses a file that is not what the source says, in the dialog', async () => {
    const { call } = renderDialog({ 'image.inspect': () => ({ ...debian, kind: 'disk', iso: null }) })
    fireEvent.change(input(/^Path on the host/), { target: { value: '/srv/disk.qcow2' } })
    await click('Next')
    expect(screen.getByText(/This file is a disk image, not an ISO image/)).toBeTruthy()
    expect(call).toHaveBeenCalledTimes(1)
  })

  it('imports an appliance with the name given', async () => {
    const ova: ImageInspection = {
      ...debian,
      kind: 'appliance',
      iso: null,
      os: null,
      appliance: { name: 'web-appliance', cpus: 2, memoryMiB: 1024, firmware: 'bios', disks: [], nics: [] },
    }
    const { call } = renderDialog({ 'image.inspect': () => ova })
    fireEvent.click(screen.getByRole('radio', { name: /Import an appliance/ }))
    fireEvent.change(input(/^Path on the host/), { target: { value: '/srv/web.ova' } })
    await click('Next')
    expect(screen.getByText(/Appliance “web-appliance”: 2 CPU, 1024 MiB/)).toBeTruthy()
    expect((input(/^Name/) as HTMLInputElement).value).toBe('web-appliance')
    await click('Import')
    expect(call).toHaveBeenCalledWith(
      'vm.import',
      expect.objectContaining({ path: '/srv/web.ova', name: 'web-appliance' }),
    )
  })

  it('shows the files a disk image reads and passes them as allowBacking only once allowed', async () => {
    const overlay: ImageInspection = {
      ...debian,
      path: '/srv/overlay.qcow2',
      kind: 'disk',
      iso: null,
      os: null,
      disk: {
        format: 'qcow2',
        virtualSize: 2 ** 30,
        backingFile: '/srv/base.qcow2',
        chain: [
          { path: '/srv/overlay.qcow2', role: 'image', format: 'qcow2' },
          { path: '/srv/base.qcow2', role: 'backing file', format: 'qcow2' },
        ],
      },
    }
    const { call } = renderDialog({ 'image.inspect': () => overlay })
    fireEvent.click(screen.getByRole('radio', { name: /disk image/i }))
    fireEvent.change(input(/^Path on the host/), { target: { value: overlay.path } })
    await click('Next')
    expect(screen.getByText('/srv/base.qcow2')).toBeTruthy()
    fireEvent.change(input(/^Name/), { target: { value: 'chained' } })
    await click('Create')
    expect(screen.getByText(/This image reads other files: tick/)).toBeTruthy()
    expect(call).not.toHaveBeenCalledWith('vm.create', expect.anything())
    fireEvent.click(screen.getByRole('checkbox', { name: 'Let the VM read this file' }))
    await click('Create')
    expect(call).toHaveBeenCalledWith(
      'vm.create',
      expect.objectContaining({ name: 'chained', disk: overlay.path, allowBacking: ['/srv/base.qcow2'] }),
    )
  })

  it('shows the engine’s refusal in the dialog and stays open', async () => {
    const { onClose } = renderDialog({
      'vm.create': () => {
        throw new Error('a VM named "web" already exists')
      },
    })
    fireEvent.click(screen.getByRole('radio', { name: /Empty VM/ }))
    await click('Next')
    fireEvent.change(input(/^Name/), { target: { value: 'web' } })
    await click('Create')
    expect(screen.getByText('Could not create the VM: a VM named "web" already exists')).toBeTruthy()
    expect(onClose).not.toHaveBeenCalled()
  })
})
