// Going back to a snapshot: new overlays on its layers, its settings restored (memory size and
// all; the name stays the VM's current one), and what the abandoned state wrote is collected. The
// engine then starts a live snapshot's QEMU with -incoming and feeds it the saved state
// (live-load.ts). vm.json is written first: from it alone the next engine knows where the VM stands.
import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { VireoError } from '../api/errors.ts'
import type { SnapshotTree } from '../api/rpc.ts'
import type { VmConfig } from '../api/vm-config.ts'
import {
  activeNvramRel,
  chainOf,
  collectGarbage,
  createOverlay,
  overlayPathFor,
  snapshotBlockers,
} from './chain-files.ts'
import {
  findSnapshot,
  loadIndex,
  saveIndex,
  snapshotsDir,
  type SnapshotIndex,
  type SnapshotRecord,
} from './index.ts'
import type { VmHandle } from './vm-handle.ts'

/** Every file a VM still needs (absolute): its active images, all snapshot layers, and their chains. */
export async function filesInUse(h: VmHandle, index: SnapshotIndex): Promise<Set<string>> {
  const c = h.config()
  const roots = c.disks.map((d) => d.path)
  if (c.firmware === 'uefi') roots.push(activeNvramRel(index))
  for (const s of [...index.snapshots, ...(index.deleting ? [index.deleting] : [])]) {
    roots.push(...Object.values(s.layers))
    if (s.nvram) roots.push(s.nvram)
  }
  const keep = new Set<string>()
  for (const r of roots) for (const f of await chainOf(h.qemuImg, resolve(h.vmDir, r))) keep.add(f)
  return keep
}

export async function collect(h: VmHandle): Promise<string[]> {
  const index = loadIndex(h.vmDir)
  return collectGarbage(h.vmDir, index, await filesInUse(h, index))
}

/**
 * Switches a stopped VM's files and settings to the snapshot; the caller starts it if live, then
 * collects what the abandoned state left (off the guest's way back; recovery would do it too).
 */
export async function revertFiles(h: VmHandle, ref: string): Promise<SnapshotRecord> {
  const index = loadIndex(h.vmDir)
  const snap = findSnapshot(index, ref)
  if (h.qmp()) throw new VireoError('invalid_state', 'the VM must be stopped before its files are reverted')
  if (snap.state && !existsSync(resolve(h.vmDir, snap.state)))
    throw new VireoError('not_found', `the saved memory of the snapshot "${snap.name}" is missing`)
  const c = h.config()
  const disks: VmConfig['disks'] = []
  for (const [i, d] of snap.config.disks.entries()) {
    h.progress('making overlays', i, snap.config.disks.length)
    const layer = snap.layers[d.id]
    if (!layer) throw new VireoError('internal', `the snapshot "${snap.name}" has no layer for "${d.id}"`)
    const overlay = overlayPathFor(h.vmDir, layer, d.id)
    await createOverlay(h.qemuImg, resolve(h.vmDir, overlay), resolve(h.vmDir, layer))
    disks.push({ ...d, path: overlay })
  }
  let nvram: string | null = null
  if (snap.nvram) {
    nvram = overlayPathFor(h.vmDir, snap.nvram, 'nvram')
    await createOverlay(h.qemuImg, resolve(h.vmDir, nvram), resolve(h.vmDir, snap.nvram))
  }
  h.saveConfig({ ...snap.config, name: c.name, disks })
  saveIndex(h.vmDir, { ...loadIndex(h.vmDir), current: snap.id, ...(nvram ? { nvram } : {}) })
  return snap
}

/** The tree as the contract shows it: thumbnails read from each snapshot's folder. */
export function snapshotTree(vmDir: string, config: VmConfig): SnapshotTree {
  const index = loadIndex(vmDir)
  return {
    snapshots: index.snapshots.map(({ layers: _l, nvram: _n, state: _s, ...s }) => {
      const thumb = join(snapshotsDir(vmDir), s.id, 'thumbnail.png')
      return { ...s, thumbnail: existsSync(thumb) ? readFileSync(thumb).toString('base64') : null }
    }),
    current: index.current,
    blockers: snapshotBlockers(config, vmDir),
  }
}
