// A VM's snapshot tree as text: children indented under their parent, the current one marked.
import type { SnapshotTree } from '../api/rpc.ts'
import { safe } from './plain-text.ts'

export function formatSnapshotTree(vmName: string, tree: SnapshotTree): string {
  const lines: string[] = []
  const walk = (parent: string | null, depth: number) => {
    for (const s of tree.snapshots.filter((x) => x.parent === parent)) {
      const mark = s.id === tree.current ? '*' : ' '
      const when = s.createdAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z')
      lines.push(
        `${mark} ${'  '.repeat(depth)}${safe(s.name)}  [${safe(s.id)}, ${s.kind}, ${safe(when)}]${s.description ? `  ${safe(s.description)}` : ''}`,
      )
      walk(s.id, depth + 1)
    }
  }
  walk(null, 0)
  if (lines.length === 0) lines.push(`"${safe(vmName)}" has no snapshots.`)
  else
    lines.push(
      '',
      `* where "${safe(vmName)}" stands now${tree.current === null ? ' (before the first snapshot)' : ''}`,
    )
  for (const b of tree.blockers) lines.push(`Cannot take a snapshot: ${safe(b)}`)
  return lines.join('\n')
}
