// What the next engine does with a VM whose engine or QEMU died in the middle of a take, revert or
// delete: the files are the truth, and the index and vm.json are brought back in line with them.
// - a running QEMU writes where it writes: vm.json and the index follow its open images;
// - vm.json never names an immutable layer: such a disk gets a fresh overlay on it;
// - the current snapshot is the one whose layer the active image grows from;
// - a delete under way is finished; files nothing needs are removed; leaks are repaired.
import { existsSync, readdirSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import type { VmConfig } from '../api/vm-config.ts'
import { checkImage } from '../storage/qemu-img.ts'
import {
  activeNvramRel,
  chainOf,
  createOverlay,
  insideVmDir,
  overlayPathFor,
  plainFilename,
} from './chain-files.ts'
import { finishDelete } from './delete.ts'
import { indexFile, loadIndex, ownerOfLayer, saveIndex, snapshotsDir } from './index.ts'
import { collect, filesInUse } from './revert.ts'
import type { VmHandle } from './vm-handle.ts'

interface BlockImage {
  filename?: string
  'backing-image'?: BlockImage
}

function chainNames(img: BlockImage | undefined): string[] {
  const out: string[] = []
  for (let at = img; at?.filename; at = at['backing-image']) out.push(plainFilename(at.filename))
  return out
}

/** A snapshot folder the index does not know, holding a partial memory file: a take that died. */
function cutTake(vmDir: string, index: { snapshots: { id: string }[] }): boolean {
  const dir = snapshotsDir(vmDir)
  return readdirSync(dir, { withFileTypes: true }).some(
    (e) =>
      e.isDirectory() &&
      !index.snapshots.some((s) => s.id === e.name) &&
      existsSync(join(dir, e.name, 'memory.state.partial')),
  )
}

export async function recoverSnapshots(h: VmHandle): Promise<string[]> {
  if (!existsSync(indexFile(h.vmDir))) return []
  const notes: string[] = []
  let index = loadIndex(h.vmDir)
  let c: VmConfig = h.config()
  const qmp = h.qmp()
  const rel = (abs: string) => (insideVmDir(h.vmDir, abs) ? relative(h.vmDir, abs) : abs)

  if (qmp && cutTake(h.vmDir, index)) {
    // The engine died while saving memory, maybe with the guest paused for the disk switch.
    await qmp.execute('migrate_cancel').catch(() => undefined)
    await qmp
      .execute('migrate-set-capabilities', {
        capabilities: [{ capability: 'background-snapshot', state: false }],
      })
      .catch(() => undefined)
    if (!(await qmp.execute('query-status')).running) await qmp.execute('cont')
    notes.push('a live snapshot was cut short: its guest runs on')
  }
  if (qmp) {
    const chains = ((await qmp.execute('query-block')) as { inserted?: { image?: BlockImage } }[]).map((b) =>
      chainNames(b.inserted?.image),
    )
    const follow = (p: string): string | null => {
      const abs = resolve(h.vmDir, p)
      const chain = chains.find((ch) => ch.includes(abs))
      return chain && chain[0] !== abs ? rel(chain[0]!) : null
    }
    const disks = c.disks.map((d) => ({ ...d, path: follow(d.path) ?? d.path }))
    if (disks.some((d, i) => d.path !== c.disks[i]!.path)) {
      c = { ...c, disks }
      h.saveConfig(c)
      notes.push('vm.json now names the overlays the running VM writes to')
    }
    if (c.firmware === 'uefi') {
      const nv = follow(activeNvramRel(index))
      if (nv) {
        index = { ...index, nvram: nv }
        saveIndex(h.vmDir, index)
      }
    }
  } else {
    let changed = false
    const disks: VmConfig['disks'] = []
    for (const d of c.disks) {
      if (ownerOfLayer(index, d.path)) {
        const overlay = overlayPathFor(h.vmDir, d.path, d.id)
        await createOverlay(h.qemuImg, resolve(h.vmDir, overlay), resolve(h.vmDir, d.path))
        disks.push({ ...d, path: overlay })
        changed = true
      } else disks.push(d)
    }
    if (changed) {
      c = { ...c, disks }
      h.saveConfig(c)
      notes.push('a disk named a snapshot layer: it now has a fresh overlay on it')
    }
  }

  // Where the VM stands: the first snapshot layer below its first disk's (or the vars') active image.
  const probe =
    c.disks.find((d) => d.format === 'qcow2')?.path ?? (c.firmware === 'uefi' ? activeNvramRel(index) : null)
  if (probe && existsSync(resolve(h.vmDir, probe))) {
    const chain = (await chainOf(h.qemuImg, resolve(h.vmDir, probe))).slice(1)
    const owner = chain.map((f) => ownerOfLayer(index, rel(f))).find((s) => s !== null) ?? null
    const current = owner?.id ?? null
    if (current !== index.current) {
      index = { ...index, current }
      saveIndex(h.vmDir, index)
      notes.push(`the current snapshot is ${current ?? 'none'}`)
    }
  }
  if (c.firmware === 'uefi' && !qmp) {
    const nv = activeNvramRel(index)
    const cur = index.snapshots.find((s) => s.id === index.current)
    if (ownerOfLayer(index, nv) || !existsSync(resolve(h.vmDir, nv))) {
      const base = cur?.nvram ?? nv
      const overlay = overlayPathFor(h.vmDir, base, 'nvram')
      await createOverlay(h.qemuImg, resolve(h.vmDir, overlay), resolve(h.vmDir, base))
      index = { ...index, nvram: overlay }
      saveIndex(h.vmDir, index)
      notes.push('the UEFI variables have a fresh overlay')
    }
  }

  const resumedDelete = index.deleting
  if (resumedDelete) {
    index = await finishDelete(h, resumedDelete)
    notes.push(`finished deleting the snapshot "${resumedDelete.name}"`)
  }
  const removed = await collect(h)
  if (removed.length) notes.push(`removed ${removed.length} file(s) a cut-short operation left`)
  if (resumedDelete && !qmp) {
    // A killed rebase can leave leaked clusters: harmless, and freed now.
    for (const f of await filesInUse(h, loadIndex(h.vmDir)))
      if (insideVmDir(h.vmDir, f)) await checkImage(h.qemuImg, f, true)
  }
  if (notes.length) h.log({ op: 'recover', notes })
  return notes
}
