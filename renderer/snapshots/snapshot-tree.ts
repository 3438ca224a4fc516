// The snapshot tree as the panel draws it: each snapshot with its depth, children after their
// parent (oldest first), and whether it lies on the way from the first snapshot to where the VM
// now stands. Pure, so it is tested alone.
import type { SnapshotInfo, SnapshotTree } from '../../engine/api/rpc.ts'

export interface TreeRow {
  snapshot: SnapshotInfo
  depth: number
  /** The snapshot the VM's current state grew from. */
  current: boolean
  /** An ancestor of the current one (or it): the history the VM now has. */
  onCurrentPath: boolean
  children: number
}

export function treeRows(tree: SnapshotTree): TreeRow[] {
  const byParent = new Map<string | null, SnapshotInfo[]>()
  const ids = new Set(tree.snapshots.map((s) => s.id))
  for (const s of tree.snapshots) {
    // A parent that is gone (never, if the engine is right) puts its children at the top.
    const parent = s.parent !== null && ids.has(s.parent) ? s.parent : null
    byParent.set(parent, [...(byParent.get(parent) ?? []), s])
  }
  for (const list of byParent.values()) list.sort((a, b) => a.createdAt.localeCompare(b.createdAt))
  const path = new Set<string>()
  const byId = new Map(tree.snapshots.map((s) => [s.id, s]))
  for (let at = tree.current; at !== null && byId.has(at) && !path.has(at); at = byId.get(at)!.parent)
    path.add(at)
  const rows: TreeRow[] = []
  const walk = (parent: string | null, depth: number) => {
    for (const s of byParent.get(parent) ?? []) {
      rows.push({
        snapshot: s,
        depth,
        current: s.id === tree.current,
        onCurrentPath: path.has(s.id),
        children: byParent.get(s.id)?.length ?? 0,
      })
      walk(s.id, depth + 1)
    }
  }
  walk(null, 0)
  return rows
}

/** What reverting to `target` throws away, in words, for the confirmation. */
export function revertWarning(tree: SnapshotTree, target: SnapshotInfo, vmRunning: boolean): string {
  const now = vmRunning ? 'The running state' : 'The current state of the disks'
  const since = tree.current
    ? ` since “${tree.snapshots.find((s) => s.id === tree.current)?.name ?? tree.current}”`
    : ''
  const resume =
    target.kind === 'live'
      ? 'The VM resumes exactly where it was when the snapshot was taken.'
      : 'The VM’s disks go back to that moment; it starts from them when it next boots.'
  return `${now}${since} is lost unless you take a snapshot first. ${resume}`
}

export function describeKind(s: SnapshotInfo): string {
  return s.kind === 'live' ? 'memory and disks' : 'disks only'
}
