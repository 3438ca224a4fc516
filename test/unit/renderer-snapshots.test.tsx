// @vitest-environment jsdom
// The snapshot panel: the tree drawn with branches and the current position, what a revert loses
// said before it happens, blockers named before a take, and each action sent as the engine expects.
import { act, cleanup, fireEvent, render, screen, within } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { SnapshotInfo, SnapshotTree } from '../../engine/api/rpc.ts'
import { ClientProvider } from '../../renderer/connection/ConnectionGate.tsx'
import { SnapshotPanel } from '../../renderer/snapshots/SnapshotPanel.tsx'
import { revertWarning, treeRows } from '../../renderer/snapshots/snapshot-tree.ts'
import { fakeClient, vmInfoOf } from '../support/renderer.ts'

afterEach(cleanup)

const ID = '55555555-5555-4555-8555-555555555555'
const config = vmInfoOf({
  schemaVersion: 1,
  id: ID,
  name: 'web',
  createdAt: '2025-01-01T00:00:00.000Z',
  machine: { type: 'q35', version: 'pc-q35-7.2' },
  firmware: 'bios',
  cpus: 1,
  memoryMiB: 256,
}).config

const snap = (
  id: string,
  parent: string | null,
  minute: number,
  kind: 'live' | 'disk' = 'live',
): SnapshotInfo => ({
  id,
  name: `snap ${id}`,
  description: '',
  createdAt: `2025-01-01T00:${String(minute).padStart(2, '0')}:00.000Z`,
  parent,
  kind,
  config,
  thumbnail: null,
})

// a → b → c, and a branch a → d taken after reverting to a; the VM stands at d.
const TREE: SnapshotTree = {
  snapshots: [snap('c', 'b', 3), snap('a', null, 1), snap('d', 'a', 4, 'disk'), snap('b', 'a', 2)],
  current: 'd',
  blockers: [],
}

describe('snapshot tree', () => {
  it('puts children under their parent, oldest first, and marks the way to the current one', () => {
    const rows = treeRows(TREE)
    expect(rows.map((r) => [r.snapshot.id, r.depth, r.current, r.onCurrentPath])).toEqual([
      ['a', 0, false, true],
      ['b', 1, false, false],
      ['c', 2, false, false],
      ['d', 1, true, true],
    ])
    expect(rows[0]!.children).toBe(2)
  })

  it('says what a revert loses, and how the VM comes back', () => {
    expect(revertWarning(TREE, TREE.snapshots[0]!, true)).toMatch(
      /The running state since “snap d” is lost unless you take a snapshot first\. The VM resumes exactly where it was/,
    )
    expect(revertWarning({ ...TREE, current: null }, snap('d', 'a', 4, 'disk'), false)).toMatch(
      /^The current state of the disks is lost.*disks go back to that moment/,
    )
  })
})

function renderPanel(tree: SnapshotTree, state: 'running' | 'stopped' = 'running') {
  const call = vi.fn(async (method: string) => {
    if (method === 'snapshot.list') return tree
    if (method === 'snapshot.take') return snap('e', 'd', 5)
    if (method === 'snapshot.revert' || method === 'vm.clone') return { name: 'web clone' }
    if (method === 'snapshot.delete') return tree
    throw new Error(`unexpected ${method}`)
  })
  render(
    <ClientProvider client={fakeClient(call)}>
      <SnapshotPanel vm={{ id: ID, name: 'web', state }} />
    </ClientProvider>,
  )
  return { call }
}

const click = async (el: HTMLElement) => {
  await act(async () => {
    fireEvent.click(el)
  })
}

describe('Snapshot panel', () => {
  it('shows the tree with the current snapshot, and takes a live snapshot by name', async () => {
    const { call } = renderPanel(TREE)
    const current = await screen.findByRole('listitem', { name: 'Snapshot snap d (current)' })
    expect(within(current).getByText('You are here')).toBeTruthy()
    await click(screen.getByRole('button', { name: 'Take snapshot' }))
    expect(screen.getByText(/memory and disks are saved as they are at this instant/)).toBeTruthy()
    fireEvent.change(screen.getByRole('textbox', { name: 'Snapshot name' }), {
      target: { value: 'before upgrade' },
    })
    await click(screen.getByRole('button', { name: 'Take' }))
    expect(call).toHaveBeenCalledWith(
      'snapshot.take',
      expect.objectContaining({ vm: ID, name: 'before upgrade', description: '' }),
    )
    expect(screen.getByText('Took “snap e” (memory and disks).')).toBeTruthy()
  })

  it('asks before reverting, and sends the revert only when confirmed', async () => {
    const { call } = renderPanel(TREE)
    const row = await screen.findByRole('listitem', { name: 'Snapshot snap b' })
    await click(within(row).getByRole('button', { name: 'Revert' }))
    expect(screen.getByText(/The running state since “snap d” is lost/)).toBeTruthy()
    await click(screen.getByRole('button', { name: 'Cancel' }))
    expect(call).not.toHaveBeenCalledWith('snapshot.revert', expect.anything())
    await click(within(row).getByRole('button', { name: 'Revert' }))
    await click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Revert' }))
    expect(call).toHaveBeenCalledWith('snapshot.revert', expect.objectContaining({ vm: ID, snapshot: 'b' }))
  })

  it('deletes and clones from the context menu', async () => {
    const { call } = renderPanel(TREE)
    const row = await screen.findByRole('listitem', { name: 'Snapshot snap c' })
    fireEvent.contextMenu(row)
    await click(screen.getByRole('menuitem', { name: 'Delete this snapshot' }))
    expect(screen.getByText(/its data is merged into the snapshots after it/)).toBeTruthy()
    await click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Delete' }))
    expect(call).toHaveBeenCalledWith('snapshot.delete', expect.objectContaining({ snapshot: 'c' }))
    fireEvent.contextMenu(row)
    await click(screen.getByRole('menuitem', { name: 'Clone a VM from it' }))
    fireEvent.click(screen.getByRole('checkbox', { name: /Linked clone/ }))
    await click(screen.getByRole('button', { name: 'Clone' }))
    expect(call).toHaveBeenCalledWith(
      'vm.clone',
      expect.objectContaining({ vm: ID, name: 'web clone', linked: true, from: 'c' }),
    )
  })

  it('names what keeps a snapshot from being taken, and does not offer to take one', async () => {
    renderPanel({
      snapshots: [],
      current: null,
      blockers: ['the disk disk0 is raw; convert it with: vireo disk convert web disk0 --to qcow2'],
    })
    expect(await screen.findByText(/the disk disk0 is raw/)).toBeTruthy()
    expect(screen.getByRole('button', { name: 'Take snapshot' }).hasAttribute('disabled')).toBe(true)
    expect(screen.getByText(/No snapshots yet/)).toBeTruthy()
  })
})
