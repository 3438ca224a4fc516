// Deleting a snapshot: every image that grows from its layers is rebased onto the layer below
// (safe-mode qemu-img rebase while stopped, QMP block-stream for what a running QEMU holds open), so
// no other snapshot and no current state changes; only then are its files removed. The index says
// which delete was under way, so a killed engine's successor finishes it.
import { existsSync, rmSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { VireoError } from '../api/errors.ts'
import type { QmpClient } from '../qmp/client.ts'
import {
  activeNvramRel,
  backingOf,
  backingName,
  chainOf,
  insideVmDir,
  plainFilename,
  rebaseImage,
} from './chain-files.ts'
import {
  findSnapshot,
  loadIndex,
  removeSnapshot,
  saveIndex,
  snapshotsDir,
  type SnapshotIndex,
  type SnapshotRecord,
} from './index.ts'
import type { VmHandle } from './vm-handle.ts'

/** The images (absolute) of one layer key (a disk id, or `nvram`) that could grow from another. */
async function candidatesFor(h: VmHandle, index: SnapshotIndex, key: string): Promise<string[]> {
  const out = new Set<string>()
  for (const s of index.snapshots) {
    const rel = key === 'nvram' ? s.nvram : s.layers[key]
    if (rel) out.add(resolve(h.vmDir, rel))
  }
  const c = h.config()
  const active =
    key === 'nvram'
      ? c.firmware === 'uefi'
        ? activeNvramRel(index)
        : null
      : (c.disks.find((d) => d.id === key)?.path ?? null)
  if (active) for (const f of await chainOf(h.qemuImg, resolve(h.vmDir, active))) out.add(f)
  return [...out].filter((f) => existsSync(f))
}

async function openNodes(qmp: QmpClient): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  for (const n of await qmp.execute('query-named-block-nodes', { flat: true })) {
    const drv = n['drv']
    const file = n['file']
    if (drv === 'qcow2' && typeof file === 'string' && !out.has(plainFilename(file)))
      out.set(plainFilename(file), n['node-name'])
  }
  return out
}

async function streamInQemu(
  qmp: QmpClient,
  nodes: Map<string, string>,
  topAbs: string,
  baseAbs: string | null,
): Promise<void> {
  const device = nodes.get(topAbs)!
  const job = `vireo-stream-${Date.now().toString(36)}`
  const done = qmp.waitForEvent('BLOCK_JOB_COMPLETED', (d) => d['device'] === job, 60 * 60_000)
  done.catch(() => undefined)
  const base = baseAbs ? nodes.get(baseAbs) : undefined
  if (baseAbs && !base) throw new VireoError('internal', `the running VM does not have ${baseAbs} open`)
  await qmp.execute('block-stream', {
    'job-id': job,
    device,
    ...(base && baseAbs ? { 'base-node': base, 'backing-file': backingName(topAbs, baseAbs) } : {}),
  })
  const ev = await done
  if (typeof ev['error'] === 'string')
    throw new VireoError('qemu_failed', `merging into ${topAbs} failed: ${ev['error']}`)
}

/** Runs (or finishes) the delete of `gone`, whose record the index already holds as `deleting`. */
export async function finishDelete(h: VmHandle, gone: SnapshotRecord): Promise<SnapshotIndex> {
  let index = loadIndex(h.vmDir)
  const stillListed = index.snapshots.some((s) => s.id === gone.id)
  if (stillListed) {
    const keys = [...Object.keys(gone.layers), ...(gone.nvram ? ['nvram'] : [])]
    const qmp = h.qmp()
    for (const [i, key] of keys.entries()) {
      h.progress(`merging ${key}`, i, keys.length)
      const rel = key === 'nvram' ? gone.nvram! : gone.layers[key]!
      const layer = resolve(h.vmDir, rel)
      if (!existsSync(layer)) continue
      const newBase = await backingOf(h.qemuImg, layer)
      const nodes = qmp ? await openNodes(qmp) : new Map<string, string>()
      const children: string[] = []
      for (const f of await candidatesFor(h, index, key)) {
        if (f !== layer && (await backingOf(h.qemuImg, f)) === layer) children.push(f)
      }
      // What QEMU does not hold first, while the layer is still open in a running chain.
      for (const f of children.filter((x) => !nodes.has(x))) await rebaseImage(h.qemuImg, f, newBase)
      for (const f of children.filter((x) => nodes.has(x))) await streamInQemu(qmp!, nodes, f, newBase)
    }
    index = { ...removeSnapshot(index, gone.id), deleting: gone }
    saveIndex(h.vmDir, index)
  }
  for (const rel of [...Object.values(gone.layers), ...(gone.nvram ? [gone.nvram] : [])]) {
    const abs = resolve(h.vmDir, rel)
    // A disk the user keeps outside the VM folder is never removed, only no longer a layer.
    if (insideVmDir(h.vmDir, abs)) rmSync(abs, { force: true })
  }
  rmSync(join(snapshotsDir(h.vmDir), gone.id), { recursive: true, force: true })
  index = { ...index, deleting: null }
  saveIndex(h.vmDir, index)
  return index
}

export async function deleteSnapshot(
  h: VmHandle,
  ref: string,
  cloneExists: (vmId: string) => string | null,
): Promise<SnapshotIndex> {
  const index = loadIndex(h.vmDir)
  const gone = findSnapshot(index, ref)
  for (const c of index.clones.filter((x) => x.snapshot === gone.id)) {
    const name = cloneExists(c.vm)
    if (name)
      throw new VireoError(
        'conflict',
        `the linked clone "${name}" is built on the snapshot "${gone.name}"; delete the clone (or make it a full clone) first`,
      )
  }
  saveIndex(h.vmDir, { ...index, deleting: gone })
  try {
    return await finishDelete(h, gone)
  } catch (err) {
    // Merging copies data without changing what anyone sees, so a stop half-way needs no undo;
    // the snapshot simply stays, and the next engine must not finish what the user saw fail.
    const now = loadIndex(h.vmDir)
    if (now.snapshots.some((s) => s.id === gone.id)) saveIndex(h.vmDir, { ...now, deleting: null })
    if (/Failed to get ".*" lock/.test((err as Error).message))
      throw new VireoError(
        'conflict',
        `the snapshot "${gone.name}" cannot be merged now: another running VM (a linked clone of this one) has its images open; stop it and try again`,
      )
    throw err
  }
}
