// What crosses to the other host, decided before anything moves: every file of the VM's folder
// whole (snapshot layers, memory files, NVRAM layers, the snapshot index) except the layers QEMU is
// writing, which a live migration mirrors instead; files outside the folder (an image used in
// place, an ISO, a kernel) come along into it, and every path that named them is rewritten.
import { closeSync, openSync, readdirSync, readSync, statSync } from 'node:fs'
import { basename, isAbsolute, join, relative, resolve } from 'node:path'
import type { IncomingFile, MirroredDisk } from '../api/migration.ts'
import type { VmConfig } from '../api/vm-config.ts'
import { diskNodeNames } from '../qemu/argv/disks.ts'
import { FIRMWARE_NODES } from '../qemu/argv/firmware.ts'
import { activeNvramRel } from '../snapshots/chain-files.ts'
import { backingOf, virtualSize } from '../snapshots/chain-files.ts'
import { indexFile, loadIndex, type SnapshotIndex } from '../snapshots/index.ts'

/** A file to send: read from `abs`, or (the rewritten snapshot index) from `content`. */
export interface OutgoingFile extends IncomingFile {
  abs: string | null
  content: Buffer | null
}

export interface MigrationPlan {
  config: VmConfig
  files: OutgoingFile[]
  mirrored: (MirroredDisk & { abs: string })[]
  /** Snapshots, by name. */
  snapshots: string[]
  /** Linked clones on this host that read this VM's layers. */
  clones: string[]
}

/** Never sent: the destination writes its own settings, runtime record and logs. */
const SKIP_TOP = new Set(['vm.json', 'runtime.json', 'logs'])

function walk(dir: string, base = dir): string[] {
  const out: string[] = []
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const abs = join(dir, e.name)
    if (dir === base && SKIP_TOP.has(e.name)) continue
    if (e.name.startsWith('.') && e.name.endsWith('.tmp')) continue
    if (e.isDirectory()) out.push(...walk(abs, base))
    else if (e.isFile()) out.push(abs)
  }
  return out
}

function isQcow2(abs: string): boolean {
  const fd = openSync(abs, 'r')
  try {
    const b = Buffer.alloc(4)
    return readSync(fd, b, 0, 4, 0) === 4 && b.equals(Buffer.from([0x51, 0x46, 0x49, 0xfb]))
  } finally {
    closeSync(fd)
  }
}

function inside(vmDir: string, abs: string): boolean {
  const r = relative(vmDir, abs)
  return !r.startsWith('..') && !isAbsolute(r)
}

export async function planMigration(
  vm: { dir: string; config: VmConfig },
  live: boolean,
  qemuImg: string,
): Promise<MigrationPlan> {
  const vmDir = vm.dir
  const index = loadIndex(vmDir)
  /** Source path → path in the destination's VM folder. */
  const destRel = new Map<string, string>()
  const taken = new Set<string>()
  const place = (abs: string, folder: string): string => {
    const known = destRel.get(abs)
    if (known) return known
    let rel = inside(vmDir, abs) ? relative(vmDir, abs) : join(folder, basename(abs))
    for (let n = 2; taken.has(rel); n++) rel = join(folder, `${n}-${basename(abs)}`)
    taken.add(rel)
    destRel.set(abs, rel)
    return rel
  }
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(vmDir, p))

  // The layers QEMU writes while it runs.
  const active = new Map<string, { node: string; format: 'qcow2' | 'raw' }>()
  if (live) {
    for (const d of vm.config.disks)
      if (!d.readOnly) active.set(abs(d.path), { node: diskNodeNames(d.id).format, format: d.format })
    if (vm.config.firmware === 'uefi')
      active.set(abs(activeNvramRel(index)), { node: FIRMWARE_NODES.vars, format: 'qcow2' })
  }

  // Every file a disk chain, a CD or a direct boot reads, with what lies outside the folder.
  const wanted = new Set<string>(walk(vmDir))
  for (const d of vm.config.disks) {
    let at: string | null = abs(d.path)
    while (at && !wanted.has(at) && !active.has(at)) {
      wanted.add(at)
      at = isQcow2(at) ? await backingOf(qemuImg, at) : null
    }
    if (at && active.has(at)) {
      // The chain below an active layer outside the folder still has to come along.
      let below = isQcow2(at) ? await backingOf(qemuImg, at) : null
      while (below && !wanted.has(below)) {
        wanted.add(below)
        below = isQcow2(below) ? await backingOf(qemuImg, below) : null
      }
    }
  }
  for (const c of vm.config.cdroms) if (c.path) wanted.add(abs(c.path))
  for (const f of [vm.config.directBoot?.kernel, vm.config.directBoot?.initrd]) if (f) wanted.add(abs(f))
  for (const a of active.keys()) wanted.delete(a)

  for (const a of [...wanted, ...active.keys()]) place(a, a.endsWith('.iso') ? 'media' : 'external')

  const files: OutgoingFile[] = []
  for (const a of wanted) {
    if (a === indexFile(vmDir)) continue
    const backing = isQcow2(a) ? await backingOf(qemuImg, a) : null
    files.push({
      abs: a,
      content: null,
      rel: destRel.get(a)!,
      size: statSync(a).size,
      backing: backing ? place(backing, 'external') : null,
    })
  }
  const mirrored: MigrationPlan['mirrored'] = []
  for (const [a, m] of active) {
    const backing = m.format === 'qcow2' ? await backingOf(qemuImg, a) : null
    mirrored.push({
      ...m,
      abs: a,
      rel: destRel.get(a)!,
      virtualSize: m.format === 'qcow2' ? await virtualSize(qemuImg, a) : statSync(a).size,
      backing: backing ? place(backing, 'external') : null,
    })
  }

  const rewrite = (p: string) => destRel.get(abs(p)) ?? p
  const config = rewriteConfig(vm.config, rewrite)
  if (index.snapshots.length > 0 || index.nvram) {
    const content = Buffer.from(JSON.stringify(rewriteIndex(index, rewrite), null, 2) + '\n')
    files.push({ abs: null, content, rel: 'snapshots/index.json', size: content.length, backing: null })
  }
  return {
    config,
    files,
    mirrored,
    snapshots: index.snapshots.map((s) => s.name),
    clones: index.clones.map((c) => c.vm),
  }
}

function rewriteConfig(c: VmConfig, rw: (p: string) => string): VmConfig {
  return {
    ...c,
    disks: c.disks.map((d) => ({ ...d, path: rw(d.path) })),
    cdroms: c.cdroms.map((cd) => ({ ...cd, path: cd.path ? rw(cd.path) : null })),
    ...(c.directBoot
      ? {
          directBoot: {
            ...c.directBoot,
            kernel: rw(c.directBoot.kernel),
            ...(c.directBoot.initrd ? { initrd: rw(c.directBoot.initrd) } : {}),
          },
        }
      : {}),
  }
}

function rewriteIndex(index: SnapshotIndex, rw: (p: string) => string): SnapshotIndex {
  return {
    ...index,
    nvram: index.nvram ? rw(index.nvram) : null,
    // Linked clones stay with this host's VMs; the copy has none.
    clones: [],
    snapshots: index.snapshots.map((s) => ({
      ...s,
      config: rewriteConfig(s.config, rw),
      layers: Object.fromEntries(Object.entries(s.layers).map(([k, v]) => [k, rw(v)])),
      nvram: s.nvram ? rw(s.nvram) : null,
      state: s.state ? rw(s.state) : null,
    })),
  }
}
