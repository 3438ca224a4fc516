// The snapshot tree of one VM, kept in <vm>/snapshots/index.json. Pure functions over the index,
// plus its atomic load and save. Paths are relative to the VM's folder so the folder can move
// (migration carries it whole).
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { z } from 'zod'
import { VireoError } from '../api/errors.ts'
import { SnapshotInfo } from '../api/rpc.ts'
import { writeJsonAtomic } from '../util/atomic-file.ts'

export const SnapshotRecord = SnapshotInfo.omit({ thumbnail: true }).extend({
  /** Per disk id: the image that was the disk's active layer when taken, immutable since. */
  layers: z.record(z.string(), z.string()),
  /** The UEFI variable store's layer (UEFI guests). */
  nvram: z.string().nullable().default(null),
  /** Memory and device state (live snapshots), as QEMU's migration stream. */
  state: z.string().nullable().default(null),
})
export type SnapshotRecord = z.infer<typeof SnapshotRecord>

export const SnapshotIndex = z.object({
  version: z.literal(1),
  snapshots: z.array(SnapshotRecord),
  current: z.string().nullable(),
  /** The active UEFI variable store (an overlay once a snapshot exists); null: nvram.qcow2. */
  nvram: z.string().nullable().default(null),
  /** Linked clones whose disks are overlays on one of this VM's snapshots. */
  clones: z.array(z.object({ vm: z.string(), snapshot: z.string() })).default([]),
  /** A delete that had begun: finished by the next engine if this one died in it. */
  deleting: SnapshotRecord.nullable().default(null),
})
export type SnapshotIndex = z.infer<typeof SnapshotIndex>

export const EMPTY_INDEX: SnapshotIndex = {
  version: 1,
  snapshots: [],
  current: null,
  nvram: null,
  clones: [],
  deleting: null,
}

export function snapshotsDir(vmDir: string): string {
  return join(vmDir, 'snapshots')
}

export function indexFile(vmDir: string): string {
  return join(snapshotsDir(vmDir), 'index.json')
}

export function loadIndex(vmDir: string): SnapshotIndex {
  const file = indexFile(vmDir)
  if (!existsSync(file)) return EMPTY_INDEX
  try {
    return SnapshotIndex.parse(JSON.parse(readFileSync(file, 'utf8')))
  } catch (err) {
    throw new VireoError('internal', `the snapshot index ${file} cannot be read: ${(err as Error).message}`)
  }
}

export function saveIndex(vmDir: string, index: SnapshotIndex): void {
  mkdirSync(snapshotsDir(vmDir), { recursive: true })
  writeJsonAtomic(indexFile(vmDir), SnapshotIndex.parse(index))
}

/** A snapshot by id or by name (ids first: a name may look like an id, never the other way). */
export function findSnapshot(index: SnapshotIndex, ref: string): SnapshotRecord {
  const byId = index.snapshots.find((s) => s.id === ref)
  if (byId) return byId
  const wanted = ref.trim().toLowerCase()
  const named = index.snapshots.filter((s) => s.name.toLowerCase() === wanted)
  if (named.length === 1) return named[0]!
  if (named.length > 1) {
    throw new VireoError(
      'conflict',
      `${named.length} snapshots are named "${ref}"; give one's id (${named.map((s) => s.id).join(', ')})`,
    )
  }
  throw new VireoError('not_found', `there is no snapshot "${ref}"`)
}

export function childrenOf(index: SnapshotIndex, id: string): SnapshotRecord[] {
  return index.snapshots.filter((s) => s.parent === id)
}

/** A new snapshot taken from the current position becomes its child and the new current. */
export function addSnapshot(index: SnapshotIndex, snap: SnapshotRecord): SnapshotIndex {
  if (index.snapshots.some((s) => s.id === snap.id))
    throw new VireoError('conflict', `a snapshot with id ${snap.id} exists`)
  return { ...index, snapshots: [...index.snapshots, { ...snap, parent: index.current }], current: snap.id }
}

/**
 * The tree without one snapshot: its children hang from its parent, and if the VM stood on it, the
 * VM now stands on the parent (its state unchanged; the data is merged before this is written).
 */
export function removeSnapshot(index: SnapshotIndex, id: string): SnapshotIndex {
  const gone = index.snapshots.find((s) => s.id === id)
  if (!gone) throw new VireoError('not_found', `there is no snapshot "${id}"`)
  return {
    ...index,
    snapshots: index.snapshots
      .filter((s) => s.id !== id)
      .map((s) => (s.parent === id ? { ...s, parent: gone.parent } : s)),
    current: index.current === id ? gone.parent : index.current,
    clones: index.clones.filter((c) => c.snapshot !== id),
  }
}

/** The path from the root down to a snapshot, root first. */
export function ancestry(index: SnapshotIndex, id: string | null): SnapshotRecord[] {
  const out: SnapshotRecord[] = []
  const seen = new Set<string>()
  let at = id
  while (at !== null && !seen.has(at)) {
    seen.add(at)
    const s = index.snapshots.find((x) => x.id === at)
    if (!s) break
    out.unshift(s)
    at = s.parent
  }
  return out
}

/** Which snapshot holds this file as one of its layers. */
export function ownerOfLayer(index: SnapshotIndex, relPath: string): SnapshotRecord | null {
  return index.snapshots.find((s) => s.nvram === relPath || Object.values(s.layers).includes(relPath)) ?? null
}
