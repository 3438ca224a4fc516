// A new VM from this one's current state or one of its snapshots. Full: each disk's chain copied
// into one standalone qcow2. Linked: a new overlay whose backing file is the snapshot's immutable
// layer in the source's folder; the source records the dependency, and deleting that snapshot is
// refused while the clone exists (rather than copying data behind the user's back).
import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { VireoError } from '../api/errors.ts'
import type { VmConfig } from '../api/vm-config.ts'
import { activeNvramRel, createOverlay, flattenImage } from './chain-files.ts'
import { chainFiles, walkImageChain } from '../storage/image-chain.ts'
import { findSnapshot, loadIndex, saveIndex } from './index.ts'
import type { VmHandle } from './vm-handle.ts'

export interface CloneTarget {
  id: string
  name: string
  dir: string
  newMac: () => string
  newSerial: () => string
}

/** Writes the clone's disks into `t.dir` and returns its settings (the caller registers the VM). */
export async function cloneFiles(
  h: VmHandle,
  from: string | null,
  linked: boolean,
  t: CloneTarget,
): Promise<VmConfig> {
  const index = loadIndex(h.vmDir)
  const snap = from ? findSnapshot(index, from) : null
  if (linked && !snap)
    throw new VireoError(
      'invalid_request',
      `a linked clone shares the disks of one of "${h.config().name}"'s snapshots; name it with --from (take one first with vireo snapshot take)`,
    )
  if (!snap && h.qmp())
    throw new VireoError(
      'invalid_state',
      `"${h.config().name}" is running and its disks change while they are copied; clone from a snapshot (--from), or stop it first`,
    )
  const source = snap ? snap.config : h.config()
  mkdirSync(join(t.dir, 'disks'), { recursive: true })
  mkdirSync(join(t.dir, 'logs'), { recursive: true })
  const disks: VmConfig['disks'] = []
  for (const [i, d] of source.disks.entries()) {
    h.progress(`${linked ? 'linking' : 'copying'} ${d.id}`, i, source.disks.length)
    const srcAbs = resolve(h.vmDir, snap ? snap.layers[d.id]! : d.path)
    const rel = `disks/${d.id}.qcow2`
    if (linked) await createOverlay(h.qemuImg, join(t.dir, rel), srcAbs)
    else await flattenImage(h.qemuImg, srcAbs, join(t.dir, rel), d.format)
    // A linked clone reads the source's layers (and whatever they read): those are its trusted files.
    const trusted = linked ? chainFiles(walkImageChain(srcAbs, { format: 'qcow2' })) : []
    disks.push({ ...d, path: rel, format: 'qcow2', serial: t.newSerial(), trusted })
  }
  if (source.firmware === 'uefi') {
    const nv = resolve(h.vmDir, snap ? (snap.nvram ?? 'nvram.qcow2') : activeNvramRel(index))
    if (linked) await createOverlay(h.qemuImg, join(t.dir, 'nvram.qcow2'), nv)
    else await flattenImage(h.qemuImg, nv, join(t.dir, 'nvram.qcow2'), 'qcow2')
  }
  if (linked && snap) {
    const now = loadIndex(h.vmDir)
    saveIndex(h.vmDir, { ...now, clones: [...now.clones, { vm: t.id, snapshot: snap.id }] })
  }
  return {
    ...source,
    id: t.id,
    name: t.name,
    createdAt: new Date().toISOString(),
    disks,
    nics: source.nics.map((n) => ({ ...n, mac: t.newMac() })),
  }
}
