// @vitest-environment jsdom
// The migration wizard against a fake engine client, from a VM's menu in the library and from its
// view: the VM preselected, the destination picked or paired, migration.check asked with the options
// and its report shown, vm.migrate sent with a job id whose progress events are shown (and no other
// job's), a cancel that calls migration.cancel, and the result or the failure in words.
import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { VireoError } from '../../engine/api/errors.ts'
import type {
  CompatibilityReport,
  MigrationProgress,
  MigrationResult,
  RemoteInfo,
} from '../../engine/api/migration.ts'
import { JobId, type EventName, type VmSummary } from '../../engine/api/rpc.ts'
import { ClientProvider } from '../../renderer/connection/ConnectionGate.tsx'
import type { VireoClient } from '../../renderer/connection/types.ts'
import { LibraryView } from '../../renderer/library/LibraryView.tsx'
import { VmsProvider } from '../../renderer/library/vms.tsx'
import { MigrationProvider } from '../../renderer/migration/MigrationProvider.tsx'
import { NotifyProvider } from '../../renderer/ui/notify.tsx'
import { VmView } from '../../renderer/vm/VmView.tsx'

afterEach(cleanup)

const web: VmSummary = {
  id: '11111111-1111-4111-8111-111111111111',
  kind: 'vm',
  name: 'web',
  state: 'running',
  os: 'debian12',
  cpus: 1,
  memoryMiB: 512,
  firmware: 'bios',
}
const db: VmSummary = { ...web, id: '22222222-2222-4222-8222-222222222222', name: 'db', state: 'stopped' }

const remote = (name: string, n: number): RemoteInfo => ({
  name,
  address: `192.0.2.${n}`,
  port: 7300,
  hostId: `${n}${n}${n}${n}${n}${n}${n}${n}-0000-4000-8000-000000000000`,
  hostName: `${name}.example`,
  pairedAt: '2026-01-01T00:00:00.000Z',
})
const lab2 = remote('lab2', 2)

const goodReport = (mode: 'live' | 'offline' = 'live'): CompatibilityReport => ({
  ok: true,
  mode,
  checks: [
    { what: 'QEMU version', ok: true, detail: 'lab2 runs QEMU 7.2.0 as this host does' },
    { what: 'Free disk space', ok: true, detail: '80 GiB free on lab2, 2 GiB needed' },
  ],
  snapshots: {
    travel: ['before upgrade', 'clean install'],
    cannotTravel: [{ name: 'old raw', reason: 'it is an internal snapshot of a raw disk' }],
  },
  transferBytes: 1.5 * 1024 ** 3,
})
const badReport: CompatibilityReport = {
  ...goodReport(),
  ok: false,
  checks: [
    goodReport().checks[0]!,
    { what: 'Free memory', ok: false, detail: 'lab2 has 256 MiB free; the VM needs 512 MiB' },
  ],
}

const result: MigrationResult = {
  vm: web.id,
  name: 'web',
  to: 'lab2',
  mode: 'live',
  copy: false,
  postcopy: false,
  downtimeMs: 27,
  totalMs: 1800,
  bytes: 600 * 1024 ** 2,
}

type Answer = (params: Record<string, unknown>) => unknown

/** A client that answers by method and lets the test emit engine events. */
function fakeEngine(vms: VmSummary[], answers: Record<string, Answer>) {
  const listeners = new Map<string, Set<(d: unknown) => void>>()
  const call = vi.fn(async (method: string, params: Record<string, unknown>) => {
    if (method === 'vm.list') return vms
    if (method === 'host.info') return { demo: null }
    if (method === 'remote.vms') return { remote: params.remote, reachable: true, error: null, vms: [] }
    if (method === 'vm.screenshot') throw new Error('no screen here')
    const answer = answers[method]
    if (!answer) throw new Error(`unexpected call ${method}`)
    return answer(params)
  })
  const client = {
    call,
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
  } as unknown as VireoClient
  return {
    client,
    calls: (method: string) => call.mock.calls.filter((c) => c[0] === method).map((c) => c[1]),
    emit(event: EventName, data: unknown) {
      act(() => {
        for (const h of listeners.get(event) ?? []) h(data)
      })
    },
  }
}

function renderLibrary(client: VireoClient) {
  render(
    <ClientProvider client={client}>
      <NotifyProvider>
        <VmsProvider>
          <MigrationProvider>
            <LibraryView onOpen={vi.fn()} onNew={vi.fn()} remotePollMs={60_000} />
          </MigrationProvider>
        </VmsProvider>
      </NotifyProvider>
    </ClientProvider>,
  )
}

const click = async (el: HTMLElement) => {
  await act(async () => {
    fireEvent.click(el)
  })
}
const wizard = () => screen.getByRole('dialog', { name: 'Move a VM to another host' })
const button = (name: string) => within(wizard()).getByRole('button', { name })
const isDisabled = (el: HTMLElement) => el.hasAttribute('disabled')

async function openFromMenu(vm: string) {
  await click(await screen.findByRole('button', { name: `More actions for ${vm}` }))
  await click(
    within(await screen.findByRole('menu')).getByRole('menuitem', { name: 'Move to another host…' }),
  )
  return wizard()
}

/** Opens the wizard on `vm`, picks lab2 and goes on to the report. */
async function upToReport(vm: string) {
  const dialog = await openFromMenu(vm)
  await click(button('Next'))
  await click(await within(dialog).findByRole('radio', { name: /^lab2 / }))
  await click(button('Next'))
  return dialog
}

const LIVE_DEFAULTS = {
  vm: web.id,
  to: 'lab2',
  offline: false,
  copy: false,
  maxDowntimeMs: 300,
  autoConverge: true,
  postcopy: false,
}

describe('Migration wizard', () => {
  it('moves a running VM live: check with the options, vm.migrate with a job, its progress, the result', async () => {
    let finish: (r: MigrationResult) => void = () => undefined
    const fake = fakeEngine([web, db], {
      'remote.list': () => [lab2],
      'migration.check': () => goodReport(),
      'vm.migrate': () => new Promise<MigrationResult>((resolve) => (finish = resolve)),
    })
    renderLibrary(fake.client)
    const dialog = await openFromMenu('web')

    // Step 1: the VM it was opened from is chosen.
    const radio = within(dialog).getByRole('radio', { name: 'web — Running' }) as HTMLInputElement
    expect(radio.checked).toBe(true)
    expect((within(dialog).getByRole('radio', { name: 'db — Stopped' }) as HTMLInputElement).checked).toBe(
      false,
    )
    await click(button('Next'))

    // Step 2: no destination, no next.
    expect(isDisabled(button('Next'))).toBe(true)
    await click(await within(dialog).findByRole('radio', { name: 'lab2 (lab2.example, 192.0.2.2:7300)' }))
    await click(button('Next'))

    // Step 3: the report for the default options.
    expect(fake.calls('migration.check')).toEqual([LIVE_DEFAULTS])
    const report = await within(dialog).findByRole('region', { name: 'Compatibility report' })
    expect(within(report).getByText('“web” can move live to lab2.')).toBeTruthy()
    const checks = within(report).getByRole('list', { name: 'Checks' })
    expect(within(checks).getByRole('listitem', { name: 'QEMU version: ok' })).toBeTruthy()
    expect(within(checks).getByText('80 GiB free on lab2, 2 GiB needed')).toBeTruthy()
    expect(within(report).getByText('Travel with the VM: before upgrade, clean install.')).toBeTruthy()
    expect(within(report).getByText('“old raw” cannot travel')).toBeTruthy()
    expect(within(report).getByText('it is an internal snapshot of a raw disk')).toBeTruthy()
    expect(
      within(report).getByText(/About 1\.5 GiB will cross the link, plus the guest’s memory/),
    ).toBeTruthy()
    await click(button('Next'))

    // Step 4: options; post-copy says what it risks as soon as it is on.
    expect(screen.queryByText('After the switch-over a broken link loses the running guest.')).toBeNull()
    expect((within(dialog).getByLabelText(/^Auto-converge/) as HTMLInputElement).checked).toBe(true)
    expect(within(dialog).getByRole('textbox', { name: 'Maximum downtime' })).toHaveProperty('value', '300')
    fireEvent.change(within(dialog).getByRole('textbox', { name: 'Bandwidth limit' }), {
      target: { value: '100' },
    })
    fireEvent.change(within(dialog).getByRole('textbox', { name: 'Maximum downtime' }), {
      target: { value: '500' },
    })
    await click(within(dialog).getByLabelText(/^Post-copy/))
    expect(within(dialog).getByRole('alert').textContent).toBe(
      'After the switch-over a broken link loses the running guest.',
    )
    await click(button('Start migration'))

    // The report was for other options: asked again with these, then the move starts.
    const chosen = { ...LIVE_DEFAULTS, bandwidthMbps: 100, maxDowntimeMs: 500, postcopy: true }
    expect(fake.calls('migration.check')[1]).toEqual(chosen)
    const [sent] = fake.calls('vm.migrate')
    expect(sent).toEqual({ ...chosen, job: expect.stringMatching(/^migrate-[0-9a-f]{16}$/) })
    const job = String(sent!.job)
    expect(JobId.safeParse(job).success).toBe(true)

    // Progress of this job is shown; another job's is not.
    const progress = within(dialog).getByRole('region', { name: 'Migration progress' })
    const event = (over: Partial<MigrationProgress>): MigrationProgress => ({
      job,
      vm: web.id,
      phase: 'copying-disks',
      bytesDone: 512 * 1024 ** 2,
      bytesLeft: 512 * 1024 ** 2,
      dirtyPagesPerSecond: null,
      expectedDowntimeMs: null,
      etaMs: 4000,
      bytesPerSecond: 12.5 * 1024 ** 2,
      ...over,
    })
    fake.emit('migration.progress', event({}))
    expect(within(progress).getByText('Copying disks…')).toBeTruthy()
    expect(within(progress).getByLabelText('Done').textContent).toBe('512 MiB')
    expect(within(progress).getByLabelText('Left').textContent).toBe('512 MiB')
    expect(within(progress).getByLabelText('Throughput').textContent).toBe('12.5 MiB/s (105 Mbit/s)')
    expect(within(progress).getByLabelText('Time left').textContent).toBe('4.0 s')
    expect(
      within(progress).getByRole('progressbar', { name: 'Copying disks' }).getAttribute('aria-valuenow'),
    ).toBe('50')
    fake.emit(
      'migration.progress',
      event({ phase: 'copying-memory', dirtyPagesPerSecond: 2500, expectedDowntimeMs: 40, bytesLeft: 0 }),
    )
    expect(within(progress).getByText('Copying memory…')).toBeTruthy()
    expect(within(progress).getByLabelText('Dirty pages').textContent).toBe('2,500/s')
    expect(within(progress).getByLabelText('Expected downtime').textContent).toBe('40 ms')
    fake.emit('migration.progress', event({ job: 'someone-else', phase: 'cleaning-up' }))
    expect(within(progress).queryByText('Cleaning up…')).toBeNull()
    // While it moves, the wizard cannot be closed by accident: only cancelled.
    expect(within(dialog).queryByRole('button', { name: 'Close' })).toBeNull()

    await act(async () => finish(result))
    const done = within(dialog).getByRole('region', { name: 'Migration result' })
    expect(within(done).getByText('Moved “web” to lab2 (live).')).toBeTruthy()
    expect(within(done).getByLabelText('Downtime').textContent).toBe('27 ms')
    expect(within(done).getByLabelText('Total time').textContent).toBe('1.8 s')
    await click(button('Close'))
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull())
  })

  it('does not go on when the report is not ok, and says what failed', async () => {
    const fake = fakeEngine([web], { 'remote.list': () => [lab2], 'migration.check': () => badReport })
    renderLibrary(fake.client)
    const dialog = await upToReport('web')
    const report = await within(dialog).findByRole('region', { name: 'Compatibility report' })
    expect(
      within(report).getByText('“web” cannot move to lab2 now. What failed says what to do.'),
    ).toBeTruthy()
    expect(within(report).getByRole('listitem', { name: 'Free memory: not ok' })).toBeTruthy()
    expect(within(report).getByText('lab2 has 256 MiB free; the VM needs 512 MiB')).toBeTruthy()
    expect(isDisabled(button('Next'))).toBe(true)
  })

  it('cancels with migration.cancel, and says the VM keeps running here', async () => {
    let fail: (e: Error) => void = () => undefined
    const fake = fakeEngine([web], {
      'remote.list': () => [lab2],
      'migration.check': () => goodReport(),
      'vm.migrate': () => new Promise((_resolve, reject) => (fail = reject)),
      'migration.cancel': () => {
        fail(new VireoError('conflict', 'the migration of web was cancelled'))
        return {}
      },
    })
    renderLibrary(fake.client)
    const dialog = await upToReport('web')
    await click(await within(dialog).findByRole('button', { name: 'Next' }))
    await click(button('Start migration'))
    // The report was for these very options: not asked again.
    expect(fake.calls('migration.check')).toHaveLength(1)
    await click(button('Cancel migration'))
    expect(fake.calls('migration.cancel')).toEqual([{ vm: web.id }])
    expect(await within(dialog).findByText('Cancelled; the VM keeps running here.')).toBeTruthy()
  })

  it('shows a failed migration in the engine’s words, and can go back to the options', async () => {
    const fake = fakeEngine([web], {
      'remote.list': () => [lab2],
      'migration.check': () => goodReport(),
      'vm.migrate': () => {
        throw new VireoError('timeout', 'lab2 stopped answering while memory was copied; the VM runs here')
      },
    })
    renderLibrary(fake.client)
    const dialog = await upToReport('web')
    await click(await within(dialog).findByRole('button', { name: 'Next' }))
    await click(button('Start migration'))
    expect(
      await within(dialog).findByText(
        'The migration failed: lab2 stopped answering while memory was copied; the VM runs here',
      ),
    ).toBeTruthy()
    await click(button('Back to the options'))
    expect(within(dialog).getByRole('button', { name: 'Start migration' })).toBeTruthy()
  })

  it('moves a stopped VM offline only, and sends offline with copy to the check', async () => {
    const fake = fakeEngine([db], {
      'remote.list': () => [lab2],
      'migration.check': () => goodReport('offline'),
      'vm.migrate': () => ({
        ...result,
        vm: db.id,
        name: 'db',
        mode: 'offline',
        copy: true,
        downtimeMs: null,
      }),
    })
    renderLibrary(fake.client)
    const dialog = await upToReport('db')
    expect(fake.calls('migration.check')).toEqual([{ ...LIVE_DEFAULTS, vm: db.id, offline: true }])
    expect(await within(dialog).findByText('“db” can move offline to lab2.')).toBeTruthy()
    await click(button('Next'))
    const live = within(dialog).getByRole('radio', { name: /^Live/ }) as HTMLInputElement
    expect(live.disabled).toBe(true)
    expect((within(dialog).getByRole('radio', { name: /^Offline/ }) as HTMLInputElement).checked).toBe(true)
    expect(within(dialog).queryByRole('textbox', { name: 'Maximum downtime' })).toBeNull()
    expect(within(dialog).queryByLabelText(/^Post-copy/)).toBeNull()
    await click(within(dialog).getByRole('radio', { name: /^Copy/ }))
    await click(button('Start migration'))
    const copy = { ...LIVE_DEFAULTS, vm: db.id, offline: true, copy: true }
    expect(fake.calls('migration.check')[1]).toEqual(copy)
    expect(fake.calls('vm.migrate')[0]).toEqual({ ...copy, job: expect.stringMatching(/^migrate-/) })
    expect(await within(dialog).findByText('Copied “db” to lab2 (offline).')).toBeTruthy()
    expect(within(dialog).getByLabelText('Downtime').textContent).toBe('none: the VM was stopped')
  })

  it('pairs a new host from the destination step and picks it', async () => {
    let list: RemoteInfo[] = []
    const fake = fakeEngine([web], {
      'remote.list': () => list,
      'remote.add': () => {
        list = [lab2]
        return lab2
      },
    })
    renderLibrary(fake.client)
    const dialog = await openFromMenu('web')
    await click(button('Next'))
    expect(await within(dialog).findByText(/No other host is paired yet/)).toBeTruthy()
    await click(button('Pair a new host…'))
    const add = screen.getByRole('dialog', { name: 'Add host' })
    fireEvent.change(within(add).getByRole('textbox', { name: 'Name' }), { target: { value: 'lab2' } })
    fireEvent.change(within(add).getByRole('textbox', { name: 'Address' }), {
      target: { value: '192.0.2.2:7300' },
    })
    fireEvent.change(within(add).getByRole('textbox', { name: 'Pairing code' }), {
      target: { value: 'ABCD-EFGH' },
    })
    await click(within(add).getByRole('button', { name: 'Pair' }))
    expect(fake.calls('remote.add')).toEqual([{ name: 'lab2', address: '192.0.2.2:7300', code: 'ABCDEFGH' }])
    const picked = (await within(wizard()).findByRole('radio', { name: /^lab2 / })) as HTMLInputElement
    expect(picked.checked).toBe(true)
    await waitFor(() => expect(isDisabled(button('Next'))).toBe(false))
  })

  it("opens from the VM's view with that VM chosen", async () => {
    const fake = fakeEngine([db, web], { 'remote.list': () => [lab2] })
    render(
      <ClientProvider client={fake.client}>
        <NotifyProvider>
          <VmsProvider>
            <MigrationProvider>
              <VmView vmId={db.id} onBack={vi.fn()} />
            </MigrationProvider>
          </VmsProvider>
        </NotifyProvider>
      </ClientProvider>,
    )
    await click(await screen.findByRole('button', { name: 'Move to another host' }))
    expect((within(wizard()).getByRole('radio', { name: 'db — Stopped' }) as HTMLInputElement).checked).toBe(
      true,
    )
  })
})

describe('Migration wizard, offline move of a running VM', () => {
  it('asks for the VM to be shut down first, and moves it offline once it has stopped', async () => {
    const fake = fakeEngine([web], {
      'remote.list': () => [lab2],
      'migration.check': (p) => goodReport(p.offline ? 'offline' : 'live'),
      'vm.stop': () => {
        fake.emit('vm.state', { id: web.id, name: 'web', state: 'stopped' })
        return { ...web, state: 'stopped' }
      },
      'vm.migrate': () => ({ ...result, mode: 'offline', downtimeMs: null }),
    })
    renderLibrary(fake.client)
    const dialog = await upToReport('web')
    await click(await within(dialog).findByRole('button', { name: 'Next' }))
    await click(within(dialog).getByRole('radio', { name: /^Offline/ }))
    expect(within(dialog).getByText(/^Shut the VM down first/)).toBeTruthy()
    expect(isDisabled(button('Start migration'))).toBe(true)
    await click(button('Shut down “web” first'))
    expect(fake.calls('vm.stop')).toEqual([{ vm: web.id, force: false }])
    await waitFor(() => expect(isDisabled(button('Start migration'))).toBe(false))
    await click(button('Start migration'))
    expect(fake.calls('vm.migrate')[0]).toMatchObject({ vm: web.id, offline: true })
    expect(await within(dialog).findByText('Moved “web” to lab2 (offline).')).toBeTruthy()
  })
})

describe('Migration wizard from the other hosts', () => {
  it('opens with no VM chosen, and goes on only once one is', async () => {
    const fake = fakeEngine([web, db], { 'remote.list': () => [lab2] })
    renderLibrary(fake.client)
    await click(await screen.findByRole('button', { name: 'Move a VM…' }))
    const radios = within(wizard()).getAllByRole('radio') as HTMLInputElement[]
    expect(radios.map((r) => [r.labels?.[0]?.textContent, r.checked])).toEqual([
      ['db — Stopped', false],
      ['web — Running', false],
    ])
    expect(isDisabled(button('Next'))).toBe(true)
    await click(radios[1]!)
    expect(isDisabled(button('Next'))).toBe(false)
  })
})
