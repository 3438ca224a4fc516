// The snapshot index's pure logic: a new snapshot hangs from the current one, reverting then
// taking makes a branch, a delete re-parents children and moves the current marker to the parent.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { VmConfig } from '../../engine/api/vm-config.ts'
import { formatSnapshotTree } from '../../engine/cli/format-snapshots.ts'
import { backingName, plainFilename, snapshotBlockers } from '../../engine/snapshots/chain-files.ts'
import {
  addSnapshot,
  ancestry,
  childrenOf,
  EMPTY_INDEX,
  findSnapshot,
  loadIndex,
  ownerOfLayer,
  removeSnapshot,
  saveIndex,
  type SnapshotIndex,
  type SnapshotRecord,
} from '../../engine/snapshots/index.ts'

const config = VmConfig.parse({
  schemaVersion: 1,
  id: '11111111-2222-4333-8444-555555555555',
  name: 'box',
  createdAt: '2026-01-01T00:00:00.000Z',
  machine: { type: 'q35', version: 'pc-q35-7.2' },
  firmware: 'bios',
  cpus: 1,
  memoryMiB: 256,
  disks: [{ id: 'disk0', path: 'disks/disk0.qcow2', format: 'qcow2', bus: 'virtio-blk', serial: 'S1' }],
})

function snap(id: string, name = id): SnapshotRecord {
  return {
    id,
    name,
    description: '',
    createdAt: '2026-01-01T00:00:00.000Z',
    parent: null,
    kind: 'disk',
    config,
    layers: { disk0: `disks/disk0.${id}.qcow2` },
    nvram: null,
    state: null,
  }
}

describe('the snapshot tree', () => {
  it('hangs each new snapshot from the current one and marks it current', () => {
    let ix: SnapshotIndex = EMPTY_INDEX
    ix = addSnapshot(ix, snap('a'))
    ix = addSnapshot(ix, snap('b'))
    expect(ix.current).toBe('b')
    expect(ix.snapshots.find((s) => s.id === 'b')!.parent).toBe('a')
    expect(ancestry(ix, 'b').map((s) => s.id)).toEqual(['a', 'b'])
  })

  it('branches when a snapshot is taken after going back', () => {
    let ix = addSnapshot(addSnapshot(EMPTY_INDEX, snap('a')), snap('b'))
    ix = { ...ix, current: 'a' }
    ix = addSnapshot(ix, snap('c'))
    expect(childrenOf(ix, 'a').map((s) => s.id)).toEqual(['b', 'c'])
    expect(ix.current).toBe('c')
  })

  it('re-parents the children of a deleted snapshot and moves the current marker to its parent', () => {
    let ix = addSnapshot(addSnapshot(addSnapshot(EMPTY_INDEX, snap('a')), snap('b')), snap('c'))
    ix = { ...ix, current: 'b', clones: [{ vm: 'x', snapshot: 'b' }] }
    const after = removeSnapshot(ix, 'b')
    expect(after.snapshots.map((s) => s.id)).toEqual(['a', 'c'])
    expect(after.snapshots.find((s) => s.id === 'c')!.parent).toBe('a')
    expect(after.current).toBe('a')
    expect(after.clones).toEqual([])
    const root = removeSnapshot(after, 'a')
    expect(root.snapshots.find((s) => s.id === 'c')!.parent).toBeNull()
    expect(root.current).toBeNull()
  })

  it('finds snapshots by id or name, and asks for the id when a name is taken twice', () => {
    const ix = addSnapshot(
      addSnapshot(addSnapshot(EMPTY_INDEX, snap('a', 'One')), snap('b', 'two')),
      snap('c', 'Two'),
    )
    expect(findSnapshot(ix, 'one').id).toBe('a')
    expect(findSnapshot(ix, 'b').id).toBe('b')
    expect(() => findSnapshot(ix, 'two')).toThrow(/2 snapshots are named "two"; give one's id \(b, c\)/)
    expect(() => findSnapshot(ix, 'nine')).toThrow(/there is no snapshot "nine"/)
    expect(ownerOfLayer(ix, 'disks/disk0.b.qcow2')!.id).toBe('b')
    expect(ownerOfLayer(ix, 'disks/disk0.qcow2')).toBeNull()
  })

  it('is written atomically and read back', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vireo-ix-'))
    try {
      expect(loadIndex(dir)).toEqual(EMPTY_INDEX)
      const ix = addSnapshot(EMPTY_INDEX, snap('a'))
      saveIndex(dir, ix)
      expect(loadIndex(dir)).toEqual(ix)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('prints the tree indented with the current one marked', () => {
    const ix = {
      ...addSnapshot(addSnapshot(EMPTY_INDEX, snap('a', 'base')), snap('b', 'next')),
      current: 'a',
    }
    const text = formatSnapshotTree('box', {
      snapshots: ix.snapshots.map(({ layers: _l, nvram: _n, state: _s, ...s }) => ({
        ...s,
        thumbnail: null,
      })),
      current: ix.current,
      blockers: [],
    })
    expect(text).toMatch(/^\* base {2}\[a, disk/m)
    expect(text).toMatch(/^ {4}next {2}\[b, disk/m)
  })
})

describe('the chain files', () => {
  it('names a backing file relatively when it shares the folder, absolutely otherwise', () => {
    expect(backingName('/v/disks/disk0.aa.qcow2', '/v/disks/disk0.qcow2')).toBe('disk0.qcow2')
    expect(backingName('/v/disks/disk0.aa.qcow2', '/elsewhere/base.qcow2')).toBe('/elsewhere/base.qcow2')
  })

  it("reads the image behind QEMU's json: filenames", () => {
    const j =
      'json:{"backing": null, "driver": "qcow2", "file": {"driver": "file", "filename": "/v/disks/x.qcow2"}}'
    expect(plainFilename(j)).toBe('/v/disks/x.qcow2')
    expect(plainFilename('/v/a.qcow2')).toBe('/v/a.qcow2')
  })

  it('names raw and read-only disks with what to do', () => {
    const c = VmConfig.parse({
      ...config,
      disks: [
        { id: 'disk0', path: 'a.img', format: 'raw', bus: 'virtio-blk', serial: 'S1' },
        { id: 'disk1', path: 'b.qcow2', format: 'qcow2', bus: 'virtio-blk', serial: 'S2', readOnly: true },
      ],
    })
    const b = snapshotBlockers(c, '/nowhere')
    expect(b[0]).toMatch(/"disk0" is raw.*vireo disk convert "box" disk0 --to qcow2/)
    expect(b[1]).toMatch(/"disk1" is read-only.*--read-only off/)
  })
})
