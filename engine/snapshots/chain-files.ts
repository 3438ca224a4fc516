// The image files of a snapshot tree: overlays made on immutable layers, backing files read and
// rewritten with qemu-img (never through a shell), and what no snapshot and no VM needs any more.
import { randomBytes } from 'node:crypto'
import { existsSync, readdirSync, rmSync } from 'node:fs'
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path'
import { VireoError } from '../api/errors.ts'
import type { VmConfig } from '../api/vm-config.ts'
import { execFileText, QEMU_IMG_MEMORY_BYTES } from '../qemu/exec.ts'
import { snapshotsDir, type SnapshotIndex } from './index.ts'

/** Overlays Vireo makes are `<stem>.<8 hex>.qcow2`: only such files are ever collected. */
const OVERLAY_RE = /^(.+)\.([0-9a-f]{8})\.qcow2$/

/** A fresh overlay's path (relative to the VM folder) beside the layer it grows from. */
export function overlayPathFor(vmDir: string, layerRel: string, stem: string): string {
  const abs = resolve(vmDir, layerRel)
  const inside = !relative(vmDir, abs).startsWith('..') && !isAbsolute(relative(vmDir, abs))
  const dir = inside ? dirname(relative(vmDir, abs)) : 'disks'
  return join(dir, `${stem}.${randomBytes(4).toString('hex')}.qcow2`)
}

/** How an overlay names its backing file: relative when they share a folder, so the folder can move. */
export function backingName(overlayAbs: string, backingAbs: string): string {
  const rel = relative(dirname(overlayAbs), backingAbs)
  return rel.startsWith('..') || isAbsolute(rel) ? backingAbs : rel
}

async function qemuImg(bin: string, args: string[], what: string): Promise<string> {
  const r = await execFileText(bin, args, { timeoutMs: 60 * 60_000, maxMemoryBytes: QEMU_IMG_MEMORY_BYTES })
  if (r.code !== 0) {
    const why =
      r.stderr
        .trim()
        .replace(/^qemu-img: /, '')
        .split('\n')
        .at(-1) || `exit ${r.code}`
    throw new VireoError('qemu_failed', `${what} failed: ${why}`)
  }
  return r.stdout
}

/**
 * A new qcow2 on top of `backingAbs`. With `sizeBytes` the backing file is not opened (a running
 * QEMU holds it), so it works while the VM runs.
 */
export async function createOverlay(
  bin: string,
  overlayAbs: string,
  backingAbs: string,
  sizeBytes?: number,
): Promise<void> {
  const args = ['create', '-q', '-f', 'qcow2', '-b', backingName(overlayAbs, backingAbs), '-F', 'qcow2']
  if (sizeBytes !== undefined) args.push('-u', overlayAbs, String(sizeBytes))
  else args.push(overlayAbs)
  await qemuImg(bin, args, `creating the overlay ${overlayAbs}`)
}

/** The backing file of an image, absolute; null for a base image. */
export async function backingOf(bin: string, abs: string): Promise<string | null> {
  const out = await qemuImg(bin, ['info', '-U', '--output=json', abs], `reading ${abs}`)
  const info = JSON.parse(out) as { 'full-backing-filename'?: string; 'backing-filename'?: string }
  const b = info['full-backing-filename'] ?? info['backing-filename']
  if (!b) return null
  return isAbsolute(b) ? b : resolve(dirname(abs), b)
}

export async function virtualSize(bin: string, abs: string): Promise<number> {
  const out = await qemuImg(bin, ['info', '-U', '--output=json', abs], `reading ${abs}`)
  return (JSON.parse(out) as { 'virtual-size': number })['virtual-size']
}

/** Every file of an image's backing chain, the image first. */
export async function chainOf(bin: string, abs: string): Promise<string[]> {
  const out: string[] = []
  let at: string | null = abs
  while (at && !out.includes(at) && existsSync(at)) {
    out.push(at)
    at = await backingOf(bin, at)
  }
  return out
}

/**
 * Safe-mode rebase of a stopped image onto another backing file (null: none): what the guest sees
 * does not change, because qemu-img first copies in every cluster the old and new chains disagree
 * on. A kill mid-way leaves the old backing file named and the copied clusters harmless.
 */
export async function rebaseImage(bin: string, abs: string, newBackingAbs: string | null): Promise<void> {
  const b = newBackingAbs ? backingName(abs, newBackingAbs) : ''
  const args = ['rebase', '-q', '-f', 'qcow2', '-b', b, ...(newBackingAbs ? ['-F', 'qcow2'] : []), abs]
  await qemuImg(bin, args, `merging the snapshot data into ${abs}`)
}

/** A full copy of an image and its backing chain as one standalone qcow2. */
export async function flattenImage(
  bin: string,
  fromAbs: string,
  toAbs: string,
  inFormat: string,
): Promise<void> {
  const partial = join(dirname(toAbs), `.${basename(toAbs)}.partial`)
  try {
    await qemuImg(
      bin,
      ['convert', '-q', '-f', inFormat, '-O', 'qcow2', fromAbs, partial],
      `copying ${fromAbs}`,
    )
    const { renameSync } = await import('node:fs')
    renameSync(partial, toAbs)
  } finally {
    rmSync(partial, { force: true })
  }
}

/** Disks that cannot be in a snapshot, each with what to do about it. */
export function snapshotBlockers(config: VmConfig, vmDir: string): string[] {
  const out: string[] = []
  for (const d of config.disks) {
    if (d.format === 'raw')
      out.push(
        `the disk "${d.id}" is raw, and raw images cannot hold snapshots; convert it first: vireo disk convert "${config.name}" ${d.id} --to qcow2`,
      )
    else if (d.readOnly)
      out.push(
        `the disk "${d.id}" is read-only, so no overlay can take its writes; make it writable (vireo disk set "${config.name}" ${d.id} --read-only off) or detach it`,
      )
  }
  if (config.firmware === 'uefi' && !existsSync(resolve(vmDir, 'nvram.qcow2')))
    out.push(
      'the UEFI variable store nvram.qcow2 is missing; switch the firmware to bios and back to uefi to make a new one',
    )
  return out
}

/** The active UEFI variable store, relative to the VM folder. */
export function activeNvramRel(index: SnapshotIndex): string {
  return index.nvram ?? 'nvram.qcow2'
}

/** Whether a path (absolute) lies inside the VM folder: only those are ever removed. */
export function insideVmDir(vmDir: string, abs: string): boolean {
  const rel = relative(vmDir, abs)
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel)
}

/**
 * Removes what a half-done take, revert or delete left: overlays Vireo made that no active disk,
 * no snapshot and no backing chain of those needs, partial files, and snapshot folders the index
 * does not name. `keep` is every file still needed (chains included), absolute.
 */
export function collectGarbage(vmDir: string, index: SnapshotIndex, keep: Set<string>): string[] {
  const removed: string[] = []
  const dirs = new Set<string>([vmDir, join(vmDir, 'disks')])
  for (const f of keep) if (insideVmDir(vmDir, f)) dirs.add(dirname(f))
  for (const dir of dirs) {
    if (!existsSync(dir)) continue
    for (const name of readdirSync(dir)) {
      const abs = join(dir, name)
      if ((OVERLAY_RE.test(name) && !keep.has(abs)) || name.endsWith('.qcow2.partial')) {
        rmSync(abs, { force: true })
        removed.push(abs)
      }
    }
  }
  const sdir = snapshotsDir(vmDir)
  if (existsSync(sdir)) {
    const known = new Set(index.snapshots.map((s) => s.id))
    if (index.deleting) known.add(index.deleting.id)
    for (const ent of readdirSync(sdir, { withFileTypes: true })) {
      if (ent.isDirectory() && !known.has(ent.name)) {
        rmSync(join(sdir, ent.name), { recursive: true, force: true })
        removed.push(join(sdir, ent.name))
      }
    }
  }
  return removed
}

/**
 * The image file behind a node's filename as QEMU reports it: an overlay added over QMP with its
 * backing given explicitly is named `json:{…"file":{"filename":…}}`, not by its path.
 */
export function plainFilename(name: string): string {
  if (!name.startsWith('json:')) return name
  try {
    const o = JSON.parse(name.slice(5)) as { file?: { filename?: string } | string; filename?: string }
    if (typeof o.file === 'object' && o.file.filename) return o.file.filename
    if (typeof o.filename === 'string') return o.filename
  } catch {
    /* not JSON after all */
  }
  return name
}
