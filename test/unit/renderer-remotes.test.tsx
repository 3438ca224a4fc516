// @vitest-environment jsdom
// Other hosts in the library against a fake engine client: their VMs and state kept fresh, an
// unreachable host's reason in words, pairing with remote.add (and the engine's refusal shown), this
// host's pairing code, and removing a host only after a confirmation.
import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { VireoError } from '../../engine/api/errors.ts'
import type { RemoteInfo, RemoteVms } from '../../engine/api/migration.ts'
import { ClientProvider } from '../../renderer/connection/ConnectionGate.tsx'
import { LibraryView } from '../../renderer/library/LibraryView.tsx'
import { VmsProvider } from '../../renderer/library/vms.tsx'
import { NotifyProvider } from '../../renderer/ui/notify.tsx'
import { fakeClient } from '../support/renderer.ts'

afterEach(cleanup)

const remote = (name: string, n: number): RemoteInfo => ({
  name,
  address: `192.0.2.${n}`,
  port: 7300,
  hostId: `${n}${n}${n}${n}${n}${n}${n}${n}-0000-4000-8000-000000000000`,
  hostName: `${name}.example`,
  pairedAt: '2026-01-01T00:00:00.000Z',
})
const lab2 = remote('lab2', 2)
const lab3 = remote('lab3', 3)

const remoteVm = (name: string, state: string) => ({
  id: name === 'db' ? '44444444-4444-4444-8444-444444444444' : '55555555-5555-4555-8555-555555555555',
  name,
  state,
  os: 'debian12',
  cpus: 2,
  memoryMiB: 1024,
})

type Answer = (params: Record<string, unknown>) => unknown

function renderLibrary(answers: Record<string, Answer>) {
  const call = vi.fn(async (method: string, params: Record<string, unknown>) => {
    if (method === 'vm.list') return []
    if (method === 'host.info') return { demo: null }
    const answer = answers[method]
    if (!answer) throw new Error(`unexpected call ${method}`)
    return answer(params)
  })
  render(
    <ClientProvider client={fakeClient(call)}>
      <NotifyProvider>
        <VmsProvider>
          <LibraryView onOpen={vi.fn()} onNew={vi.fn()} remotePollMs={40} />
        </VmsProvider>
      </NotifyProvider>
    </ClientProvider>,
  )
  return { call, calls: (method: string) => call.mock.calls.filter((c) => c[0] === method).map((c) => c[1]) }
}

const click = async (el: HTMLElement) => {
  await act(async () => {
    fireEvent.click(el)
  })
}
const type = (name: string, value: string) =>
  fireEvent.change(screen.getByRole('textbox', { name }), { target: { value } })

describe('Other hosts in the library', () => {
  it("lists each host's VMs with their state, follows changes, and says why a host cannot be reached", async () => {
    let dbState = 'running'
    const { calls } = renderLibrary({
      'remote.list': () => [lab3, lab2],
      'remote.vms': ({ remote }): RemoteVms =>
        remote === 'lab2'
          ? {
              remote,
              reachable: true,
              error: null,
              vms: [remoteVm('web', 'stopped'), remoteVm('db', dbState)],
            }
          : { remote: 'lab3', reachable: false, error: 'connection refused by 192.0.2.3:7300', vms: [] },
    })
    expect(await screen.findByRole('heading', { name: 'Other hosts' })).toBeTruthy()
    const hosts = screen.getAllByRole('article').map((a) => a.getAttribute('aria-label'))
    expect(hosts).toEqual(['Host lab2', 'Host lab3'])

    const table = await screen.findByRole('table', { name: 'VMs on lab2' })
    const rows = within(table).getAllByRole('row').slice(1)
    expect(rows.map((r) => r.getAttribute('aria-label'))).toEqual(['db on lab2', 'web on lab2'])
    expect(within(rows[0]!).getByText('Running')).toBeTruthy()
    expect(within(rows[0]!).getByText('1 GiB')).toBeTruthy()
    expect(within(rows[1]!).getByText('Stopped')).toBeTruthy()

    const lab3Card = screen.getByRole('article', { name: 'Host lab3' })
    expect(
      await within(lab3Card).findByText('Cannot reach “lab3”: connection refused by 192.0.2.3:7300'),
    ).toBeTruthy()
    expect(within(lab3Card).getByText('Unreachable')).toBeTruthy()

    // Polled while shown: a state change on the other host appears without a reload.
    dbState = 'paused'
    await waitFor(() =>
      expect(within(screen.getByRole('row', { name: 'db on lab2' })).getByText('Paused')).toBeTruthy(),
    )
    expect(calls('remote.vms').length).toBeGreaterThan(2)
    expect(calls('remote.vms')).toContainEqual({ remote: 'lab3' })
  })

  it('shows a failed remote.vms call as the host being unreachable, in the words of the error', async () => {
    renderLibrary({
      'remote.list': () => [lab2],
      'remote.vms': () => {
        throw new VireoError('timeout', 'lab2 did not answer within 10 s')
      },
    })
    expect(await screen.findByText('Cannot reach “lab2”: lab2 did not answer within 10 s')).toBeTruthy()
  })

  it('says when no other host is paired', async () => {
    renderLibrary({ 'remote.list': () => [] })
    expect(await screen.findByText(/No other hosts yet/)).toBeTruthy()
  })

  it('removes a host only after it was confirmed', async () => {
    let list = [lab2]
    const { calls } = renderLibrary({
      'remote.list': () => list,
      'remote.vms': ({ remote }) => ({ remote, reachable: true, error: null, vms: [] }),
      'remote.remove': () => {
        list = []
        return {}
      },
    })
    await click(await screen.findByRole('button', { name: 'Remove host lab2' }))
    const dialog = screen.getByRole('dialog', { name: 'Remove host “lab2”?' })
    expect(within(dialog).getByText(/its VMs stay where they are/)).toBeTruthy()
    await click(within(dialog).getByRole('button', { name: 'Cancel' }))
    expect(calls('remote.remove')).toEqual([])
    await click(await screen.findByRole('button', { name: 'Remove host lab2' }))
    await click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Remove' }))
    expect(calls('remote.remove')).toEqual([{ name: 'lab2' }])
    await waitFor(() => expect(screen.queryByRole('article', { name: 'Host lab2' })).toBeNull())
  })
})

describe('Add host dialog', () => {
  it('pairs with remote.add, and shows the engine refusing the code in its words', async () => {
    let attempts = 0
    let list: RemoteInfo[] = []
    const { calls } = renderLibrary({
      'remote.list': () => list,
      'remote.vms': ({ remote }) => ({ remote, reachable: true, error: null, vms: [] }),
      'remote.add': () => {
        if (attempts++ === 0)
          throw new VireoError(
            'unauthorized',
            'the pairing code is wrong or has expired; ask lab2 for a new one',
          )
        list = [lab2]
        return lab2
      },
    })
    await click(await screen.findByRole('button', { name: 'Add host' }))
    const dialog = screen.getByRole('dialog', { name: 'Add host' })
    type('Name', 'lab2')
    type('Address', '192.0.2.2:7300')
    type('Pairing code', 'abcd-efgh')
    await click(within(dialog).getByRole('button', { name: 'Pair' }))
    expect(calls('remote.add')).toEqual([{ name: 'lab2', address: '192.0.2.2:7300', code: 'ABCDEFGH' }])
    expect(
      within(dialog).getByText(
        'Could not pair with “lab2”: the pairing code is wrong or has expired; ask lab2 for a new one',
      ),
    ).toBeTruthy()

    type('Pairing code', 'WXYZ-2345')
    await click(within(dialog).getByRole('button', { name: 'Pair' }))
    expect(calls('remote.add')[1]).toEqual({ name: 'lab2', address: '192.0.2.2:7300', code: 'WXYZ2345' })
    await waitFor(() => expect(screen.queryByRole('dialog', { name: 'Add host' })).toBeNull())
    expect(await screen.findByRole('article', { name: 'Host lab2' })).toBeTruthy()
  })

  it('names what is wrong with a field and does not call the engine', async () => {
    const { calls } = renderLibrary({ 'remote.list': () => [] })
    await click(await screen.findByRole('button', { name: 'Add host' }))
    type('Name', 'lab2')
    type('Address', 'lab2')
    type('Pairing code', 'ABCD')
    await click(screen.getByRole('button', { name: 'Pair' }))
    expect(screen.getByText('An address is HOST:PORT, e.g. 192.0.2.7:7300.')).toBeTruthy()
    expect(screen.getByText(/^A pairing code is 8 letters and digits/)).toBeTruthy()
    expect(calls('remote.add')).toEqual([])
  })
})

describe('Pairing code of this host', () => {
  it('shows the code as XXXX-XXXX, the address to give and its expiry', async () => {
    const expiresAt = new Date(Date.now() + 5 * 60_000 + 30_000).toISOString()
    renderLibrary({
      'remote.list': () => [],
      'host.pairCode': () => ({ code: 'ABCDEFGH', expiresAt, address: '192.0.2.1', port: 7300 }),
    })
    await click(await screen.findByRole('button', { name: 'Pairing code of this host' }))
    const dialog = screen.getByRole('dialog', { name: 'Pairing code of this host' })
    expect((await within(dialog).findByLabelText('Pairing code')).textContent).toBe('ABCD-EFGH')
    expect(within(dialog).getByLabelText('Address of this host').textContent).toBe('192.0.2.1:7300')
    expect(within(dialog).getByText(/^Valid once, for 5 more minutes/)).toBeTruthy()
  })

  it('says so in the engine’s words when this host does not accept other hosts', async () => {
    renderLibrary({
      'remote.list': () => [],
      'host.pairCode': () => {
        throw new VireoError(
          'invalid_state',
          'this host does not accept other hosts; start it with vireo serve --listen ADDR',
        )
      },
    })
    await click(await screen.findByRole('button', { name: 'Pairing code of this host' }))
    const dialog = screen.getByRole('dialog', { name: 'Pairing code of this host' })
    expect(
      await within(dialog).findByText(
        'this host does not accept other hosts; start it with vireo serve --listen ADDR',
      ),
    ).toBeTruthy()
    expect(within(dialog).queryByLabelText('Pairing code')).toBeNull()
  })

  it('turns on accepting other hosts from the dialog, on loopback unless told, then shows a code', async () => {
    let accepting = false
    const expiresAt = new Date(Date.now() + 5 * 60_000).toISOString()
    const { calls } = renderLibrary({
      'remote.list': () => [],
      'host.accept': () => {
        accepting = true
        return { listening: { address: '192.0.2.1', port: 7300 }, url: null }
      },
      'host.pairCode': () => {
        if (!accepting) throw new VireoError('invalid_state', 'this host does not accept other hosts')
        return { code: 'WXYZ2345', expiresAt, address: '192.0.2.1', port: 7300 }
      },
    })
    await click(await screen.findByRole('button', { name: 'Pairing code of this host' }))
    const dialog = screen.getByRole('dialog', { name: 'Pairing code of this host' })
    const listen = (await within(dialog).findByRole('textbox', { name: 'Listen on' })) as HTMLInputElement
    expect(listen.value).toBe('127.0.0.1')
    fireEvent.change(listen, { target: { value: '192.0.2.1' } })
    await click(within(dialog).getByRole('button', { name: 'Accept machines from other hosts' }))
    expect(calls('host.accept')).toEqual([{ enabled: true, address: '192.0.2.1' }])
    expect((await within(dialog).findByLabelText('Pairing code')).textContent).toBe('WXYZ-2345')
  })
})
