// Maintenance of a VM's disk images with qemu-img: check with a report in plain words, grow,
// compact and convert. Each works on a stopped VM's image (a running VM's disk is grown through
// QMP by the engine instead); each leaves the image as it was when it fails.
import { renameSync, rmSync, statSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { VireoError } from '../api/errors.ts'
import { execFileText, QEMU_IMG_MEMORY_BYTES } from '../qemu/exec.ts'
import { checkImage, convertImage, imageInfo } from './qemu-img.ts'

export interface DiskCheck {
  /** clean, leaks (harmless, repairable), corrupt, or unreadable. */
  verdict: 'clean' | 'leaks' | 'corrupt' | 'unreadable'
  leaks: number
  leaksFixed: number
  corruptions: number
  /** One or two sentences for the user. */
  report: string
}

/** `qemu-img check`, said plainly; `repair` fixes leaked clusters only, never guesses at corruption. */
export async function checkDisk(
  qemuImg: string,
  path: string,
  format: string,
  repair: boolean,
): Promise<DiskCheck> {
  if (format === 'raw') {
    return {
      verdict: 'clean',
      leaks: 0,
      leaksFixed: 0,
      corruptions: 0,
      report: `${basename(path)} is a raw image: it has no metadata that could be damaged.`,
    }
  }
  const r = await checkImage(qemuImg, path, repair)
  const leaks = r.leaks
  if (r.code === 2 || r.corruptions > 0) {
    return {
      verdict: 'corrupt',
      leaks,
      leaksFixed: r.leaksFixed,
      corruptions: r.corruptions,
      report: `${basename(path)} has ${r.corruptions} corrupted cluster(s). Keep a copy of the file before anything else; qemu-img check -r all may recover it, possibly losing data.`,
    }
  }
  if (r.code !== 0 && r.code !== 3) {
    return {
      verdict: 'unreadable',
      leaks: 0,
      leaksFixed: 0,
      corruptions: 0,
      report: `${basename(path)} could not be checked: ${r.text.split('\n').at(-1) ?? `qemu-img exited ${r.code}`}`,
    }
  }
  if (r.leaksFixed > 0) {
    return {
      verdict: 'clean',
      leaks: 0,
      leaksFixed: r.leaksFixed,
      corruptions: 0,
      report: `${basename(path)} had ${r.leaksFixed} leaked cluster(s) (space a crash left allocated); they are freed now and the image is clean.`,
    }
  }
  if (leaks > 0) {
    return {
      verdict: 'leaks',
      leaks,
      leaksFixed: 0,
      corruptions: 0,
      report: `${basename(path)} has ${leaks} leaked cluster(s): space a crash left allocated, harmless to the data. Repair frees it.`,
    }
  }
  return { verdict: 'clean', leaks: 0, leaksFixed: 0, corruptions: 0, report: `${basename(path)} is clean.` }
}

/** Grows an image; shrinking is refused, since it would cut off whatever the guest keeps at the end. */
export async function growDisk(
  qemuImg: string,
  path: string,
  format: string,
  bytes: number,
): Promise<number> {
  const info = await imageInfo(qemuImg, path)
  if (bytes < info['virtual-size']) {
    throw new VireoError(
      'invalid_request',
      `${basename(path)} is ${formatBytes(info['virtual-size'])}; Vireo only grows disks (shrinking would cut off the end of the guest's file systems)`,
    )
  }
  if (bytes === info['virtual-size']) return bytes
  const r = await execFileText(qemuImg, ['resize', '-f', format, path, String(bytes)], {
    timeoutMs: 600_000,
    maxMemoryBytes: QEMU_IMG_MEMORY_BYTES,
  })
  if (r.code !== 0)
    throw new VireoError('qemu_failed', `resizing ${basename(path)} failed: ${r.stderr.trim()}`)
  return bytes
}

/**
 * Rewrites a qcow2 without the clusters the guest no longer uses (zeroes and discarded blocks), or a
 * raw image into a new qcow2. The new file replaces the old one only when complete.
 */
export async function rewriteDisk(
  qemuImg: string,
  path: string,
  from: string,
  to: 'qcow2',
  onProgress?: (percent: number) => void,
): Promise<{ path: string; before: number; after: number }> {
  const target = to === 'qcow2' && from !== 'qcow2' ? path.replace(/(\.[^./]*)?$/, '.qcow2') : path
  if (target !== path && existsAndIsNot(target, path)) {
    throw new VireoError('conflict', `${target} already exists; move it away first`)
  }
  const before = statSync(path).size
  const tmp = join(dirname(target), `.${basename(target)}.new`)
  try {
    await convertImage(qemuImg, path, tmp, to, { inFormat: from, ...(onProgress ? { onProgress } : {}) })
    renameSync(tmp, target)
  } finally {
    rmSync(tmp, { force: true })
  }
  if (target !== path) rmSync(path, { force: true })
  return { path: target, before, after: statSync(target).size }
}

function existsAndIsNot(a: string, b: string): boolean {
  try {
    return statSync(a).ino !== statSync(b).ino
  } catch {
    return false
  }
}

export function formatBytes(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB']
  let i = 0
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024
    i++
  }
  return `${Number.isInteger(n) ? n : n.toFixed(1)} ${units[i]}`
}
