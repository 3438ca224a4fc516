// @vitest-environment jsdom
// The VM library against a fake engine client: lists VMs, follows state events, filters, empty state,
// and runs actions through the RPC client.
import { act, cleanup, fireEvent, render, screen, within } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { EventName, VmSummary } from '../../engine/api/rpc.ts'
import { ClientProvider } from '../../renderer/connection/ConnectionGate.tsx'
import type { VireoClient } from '../../renderer/connection/types.ts'
import { LibraryView } from '../../renderer/library/LibraryView.tsx'
import { applyVmEvent, VmsProvider } from '../../renderer/library/vms.tsx'
import { NotifyProvider } from '../../renderer/ui/notify.tsx'

afterEach(cleanup)

const web: VmSummary = {
  id: '11111111-1111-4111-8111-111111111111',
  kind: 'vm',
  name: 'web',
  state: 'stopped',
  os: 'debian12',
  cpus: 2,
  memoryMiB: 2048,
  firmware: 'bios',
}
const db: VmSummary = {
  id: '22222222-2222-4222-8222-222222222222',
  kind: 'vm',
  name: 'db',
  state: 'running',
  cpus: 4,
  memoryMiB: 512,
  firmware: 'uefi',
}

/** An RpcClient-like object: vm.list answers `vms`, other calls are recorded; events are emitted by hand. */
function fakeClient(vms: VmSummary[], answers: Record<string, (params: unknown) => unknown> = {}) {
  const listeners = new Map<string, Set<(d: unknown) => void>>()
  const calls: Array<{ method: string; params: unknown }> = []
  const client = {
    call: vi.fn(async (method: string, params: unknown) => {
      calls.push({ method, params })
      if (method === 'vm.list') return vms
      const answer = answers[method]
      if (answer) return answer(params)
      throw new Error(`unexpected call ${method}`)
    }),
    on: (event: string, handler: (d: unknown) => void) => {
      let set = listeners.get(event)
      if (!set) listeners.set(event, (set = new Set()))
      set.add(handler)
      return { dispose: () => set.delete(handler) }
    },
    onClose: () => ({ dispose: () => undefined }),
    openStream: async () => {
      throw new Error('no streams here')
    },
    close: () => undefined,
  }
  return {
    client: client as unknown as VireoClient,
    calls,
    emit(event: EventName, data: unknown) {
      act(() => {
        for (const h of listeners.get(event) ?? []) h(data)
      })
    },
  }
}

function renderLibrary(client: VireoClient, onOpen = vi.fn(), onNew = vi.fn()) {
  render(
    <ClientProvider client={client}>
      <NotifyProvider>
        <VmsProvider>
          <LibraryView onOpen={onOpen} onNew={onNew} />
        </VmsProvider>
      </NotifyProvider>
    </ClientProvider>,
  )
  return { onOpen, onNew }
}

function row(name: string): HTMLElement {
  return screen.getByRole('row', { name })
}

describe('VM library', () => {
  it("shows a running VM's screen as a thumbnail, and the icon again once it stops", async () => {
    const png = 'iVBORw0KGgo='
    const fake = fakeClient([web, db], { 'vm.screenshot': () => ({ png, width: 720, height: 400 }) })
    renderLibrary(fake.client)
    const img = await screen.findByRole('img', { name: 'Screen of db' })
    expect(img.getAttribute('src')).toBe(`data:image/png;base64,${png}`)
    expect(screen.queryByRole('img', { name: 'Screen of web' })).toBeNull()
    expect(fake.calls.filter((c) => c.method === 'vm.screenshot')).toEqual([
      { method: 'vm.screenshot', params: { vm: db.id } },
    ])
    fake.emit('vm.state', { id: db.id, name: 'db', state: 'stopped' })
    expect(screen.queryByRole('img', { name: 'Screen of db' })).toBeNull()
  })

  it('lists the VMs with state, OS, CPUs and memory, sorted by name', async () => {
    const { client } = fakeClient([web, db])
    renderLibrary(client)
    expect(await screen.findByRole('button', { name: 'web' })).toBeTruthy()
    const rows = screen.getAllByRole('row').slice(1)
    expect(rows.map((r) => r.getAttribute('aria-label'))).toEqual(['db', 'web'])
    const w = within(row('web'))
    expect(w.getByText('Stopped')).toBeTruthy()
    expect(w.getByText('debian12')).toBeTruthy()
    expect(w.getByText('2 GiB')).toBeTruthy()
    expect(within(row('db')).getByText('Running')).toBeTruthy()
    expect(within(row('db')).getByText('512 MiB')).toBeTruthy()
  })

  it('follows vm.state, vm.added and vm.removed events', async () => {
    const fake = fakeClient([web])
    renderLibrary(fake.client)
    await screen.findByRole('button', { name: 'web' })
    fake.emit('vm.state', { id: web.id, name: 'web', state: 'running' })
    expect(within(row('web')).getByText('Running')).toBeTruthy()
    expect(within(row('web')).getByRole('button', { name: 'Pause web' })).toBeTruthy()
    fake.emit('vm.added', db)
    expect(row('db')).toBeTruthy()
    fake.emit('vm.removed', { id: web.id })
    expect(screen.queryByRole('row', { name: 'web' })).toBeNull()
  })

  it('does not lose an event that arrives before the list', async () => {
    let answer: (v: VmSummary[]) => void = () => undefined
    const fake = fakeClient([])
    // Only the first vm.list is held back: other calls (the other hosts) may come before it.
    const call = fake.client.call as ReturnType<typeof vi.fn>
    const answerNow = call.getMockImplementation() as (method: string, params: unknown) => Promise<unknown>
    let held = false
    call.mockImplementation((method: string, params: unknown) => {
      if (method !== 'vm.list' || held) return answerNow(method, params)
      held = true
      return new Promise<VmSummary[]>((r) => (answer = r))
    })
    renderLibrary(fake.client)
    fake.emit('vm.state', { id: web.id, name: 'web', state: 'paused' })
    await act(async () => answer([web]))
    expect(within(row('web')).getByText('Paused')).toBeTruthy()
  })

  it('filters on search by name, OS or state', async () => {
    const { client } = fakeClient([web, db])
    renderLibrary(client)
    await screen.findByRole('button', { name: 'web' })
    const search = screen.getByRole('searchbox', { name: 'Search' })
    fireEvent.change(search, { target: { value: 'DEB' } })
    expect(screen.queryByRole('row', { name: 'db' })).toBeNull()
    expect(row('web')).toBeTruthy()
    fireEvent.change(search, { target: { value: 'running' } })
    expect(row('db')).toBeTruthy()
    expect(screen.queryByRole('row', { name: 'web' })).toBeNull()
    fireEvent.change(search, { target: { value: 'nothing like it' } })
    expect(screen.getByText(/No VM matches “nothing like it”/)).toBeTruthy()
  })

  it('offers a first VM when the library is empty', async () => {
    const { client } = fakeClient([])
    const { onNew } = renderLibrary(client)
    expect(await screen.findByText('No virtual machines yet')).toBeTruthy()
    const buttons = screen.getAllByRole('button', { name: 'New VM' })
    fireEvent.click(buttons[buttons.length - 1] as HTMLElement)
    expect(onNew).toHaveBeenCalled()
    // This host has no demo guest: no offer of one.
    expect(screen.queryByRole('button', { name: 'Try the demo VM' })).toBeNull()
  })

  it("offers the host's demo guest, and creates, starts and opens it in one click", async () => {
    const demoVm = { ...web, id: '33333333-3333-4333-8333-333333333333', name: 'Vireo demo' }
    const fake = fakeClient([], {
      'host.info': () => ({ demo: { name: 'Vireo demo', iso: '/opt/vireo/test-guest.iso' } }),
      'vm.create': () => demoVm,
      'vm.start': () => demoVm,
    })
    const { onOpen } = renderLibrary(fake.client)
    const tryIt = await screen.findByRole('button', { name: 'Try the demo VM' })
    await act(async () => {
      fireEvent.click(tryIt)
    })
    expect(
      fake.calls.filter(
        (c) => c.method !== 'vm.list' && c.method !== 'host.info' && !c.method.startsWith('remote.'),
      ),
    ).toEqual([
      {
        method: 'vm.create',
        params: { name: 'Vireo demo', iso: '/opt/vireo/test-guest.iso', memoryMiB: 256, cpus: 1 },
      },
      { method: 'vm.start', params: { vm: demoVm.id } },
    ])
    expect(onOpen).toHaveBeenCalledWith(demoVm.id)
  })

  it('opens a VM from its name and starts one with its button', async () => {
    const fake = fakeClient([web], { 'vm.start': () => ({}) })
    const { onOpen } = renderLibrary(fake.client)
    fireEvent.click(await screen.findByRole('button', { name: 'web' }))
    expect(onOpen).toHaveBeenCalledWith(web.id)
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Start web' }))
    })
    expect(fake.calls).toContainEqual({ method: 'vm.start', params: { vm: web.id } })
  })

  it('shows a failed action in plain words', async () => {
    const fake = fakeClient([web], {
      'vm.start': () => {
        throw new Error('QEMU could not open the disk image')
      },
    })
    renderLibrary(fake.client)
    const start = await screen.findByRole('button', { name: 'Start web' })
    await act(async () => {
      fireEvent.click(start)
    })
    expect(await screen.findByText('Could not start “web”: QEMU could not open the disk image')).toBeTruthy()
  })

  it('has a context menu with the actions the state allows', async () => {
    const { client } = fakeClient([db])
    renderLibrary(client)
    await screen.findByRole('button', { name: 'db' })
    fireEvent.contextMenu(row('db'), { clientX: 40, clientY: 40 })
    const menu = await screen.findByRole('menu')
    const item = (name: string) => within(menu).getByRole('menuitem', { name })
    expect(item('Pause').getAttribute('aria-disabled')).toBeNull()
    expect(item('Start').getAttribute('aria-disabled')).toBe('true')
    expect(item('Delete…').getAttribute('aria-disabled')).toBe('true')
  })

  it('asks before deleting and then calls vm.delete', async () => {
    const fake = fakeClient([web], { 'vm.delete': () => ({}) })
    renderLibrary(fake.client)
    fireEvent.click(await screen.findByRole('button', { name: 'More actions for web' }))
    fireEvent.click(within(await screen.findByRole('menu')).getByRole('menuitem', { name: 'Delete…' }))
    const dialog = await screen.findByRole('dialog', { name: 'Delete “web”?' })
    await act(async () => {
      fireEvent.click(within(dialog).getByRole('button', { name: 'Delete' }))
    })
    expect(fake.calls).toContainEqual({ method: 'vm.delete', params: { vm: web.id, keepDisks: false } })
  })
})

describe('applyVmEvent', () => {
  it('adds, updates, changes state and removes', () => {
    let list = applyVmEvent([], { kind: 'added', data: web })
    list = applyVmEvent(list, { kind: 'updated', data: { ...web, cpus: 8 } })
    expect(list).toEqual([{ ...web, cpus: 8 }])
    list = applyVmEvent(list, { kind: 'state', data: { id: web.id, name: 'web', state: 'starting' } })
    expect(list[0]?.state).toBe('starting')
    expect(applyVmEvent(list, { kind: 'removed', data: { id: web.id } })).toEqual([])
  })
})
