// A disk image the user already has, turned into a disk of a new VM: used where it is, hidden behind
// a qcow2 overlay, or converted into the VM's folder. `qemu-img info` decides what the file is; its
// extension means nothing.
import { closeSync, openSync, readSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { VireoError } from '../api/errors.ts'
import type { DiskMode } from '../api/rpc.ts'
import { convertImage, imageInfo, type ImageInfo } from './qemu-img.ts'
import { execFileText } from '../qemu/exec.ts'

/** The formats of other hypervisors that Vireo takes: VirtualBox, VMware, Hyper-V, Virtual PC. */
export const IMPORTABLE_FORMATS = ['qcow2', 'raw', 'vmdk', 'vdi', 'vhdx', 'vpc'] as const

export interface PreparedDisk {
  /** Absolute, or relative to the VM's folder. */
  path: string
  format: 'qcow2' | 'raw'
  /** The image's format as found, for the user: "a vmdk converted to qcow2". */
  sourceFormat: string
  mode: DiskMode
  virtualSize: number
}

export interface PrepareOptions {
  qemuImg: string
  /** Absolute, already checked to be a readable regular file. */
  source: string
  vmDir: string
  /** The new disk's file name inside the VM's disks/ folder. */
  name: string
  mode?: DiskMode
  onProgress?: (percent: number) => void
}

const MIN_DISK_BYTES = 64 * 1024

export async function inspectImage(qemuImg: string, source: string): Promise<ImageInfo> {
  let info: ImageInfo
  try {
    info = await imageInfo(qemuImg, source)
  } catch (err) {
    throw new VireoError(
      'invalid_request',
      `${source} is not a disk image Vireo can read: ${(err as Error).message.replace(/^.*failed: /, '')}`,
    )
  }
  // qemu-img falls back to raw for a header it cannot parse; the first bytes tell what it meant to be.
  const claimed = info.format === 'raw' ? formatByMagic(source) : null
  if (claimed) {
    throw new VireoError(
      'invalid_request',
      `${source} starts like a ${claimed} image, but its header is broken; qemu-img cannot read it as one`,
    )
  }
  if (!(IMPORTABLE_FORMATS as readonly string[]).includes(info.format)) {
    throw new VireoError(
      'invalid_request',
      `${source} is a ${info.format} image; Vireo takes ${IMPORTABLE_FORMATS.join(', ')}`,
    )
  }
  // A raw "image" of a few bytes is what a text file or a truncated download looks like (qemu-img
  // rounds a raw file's size up to a sector, so the file's own size is what tells).
  const bytes = info.format === 'raw' ? statSync(source).size : info['virtual-size']
  if (bytes < MIN_DISK_BYTES) {
    throw new VireoError('invalid_request', `${source} holds ${bytes} bytes: too small to be a disk`)
  }
  return info
}

const MAGICS: [string, number, string][] = [
  ['qcow2', 0, 'QFI\xfb'],
  ['vmdk', 0, 'KDMV'],
  ['vmdk', 0, '# Disk DescriptorFile'],
  ['vdi', 64, '\x7f\x10\xda\xbe'],
  ['vhdx', 0, 'vhdxfile'],
  ['vpc', 0, 'conectix'],
]

function formatByMagic(path: string): string | null {
  const head = Buffer.alloc(72)
  const fd = openSync(path, 'r')
  try {
    readSync(fd, head, 0, head.length, 0)
  } finally {
    closeSync(fd)
  }
  for (const [format, offset, magic] of MAGICS) {
    if (head.subarray(offset, offset + magic.length).equals(Buffer.from(magic, 'latin1'))) return format
  }
  return null
}

export async function prepareExistingDisk(o: PrepareOptions): Promise<PreparedDisk> {
  const info = await inspectImage(o.qemuImg, o.source)
  const native = info.format === 'qcow2' || info.format === 'raw'
  const mode = o.mode ?? (native ? 'use' : 'convert')
  const base = { sourceFormat: info.format, mode, virtualSize: info['virtual-size'] }
  switch (mode) {
    case 'use':
      if (!native) {
        throw new VireoError(
          'invalid_request',
          `${o.source} is a ${info.format} image, which Vireo does not run in place (snapshots need qcow2); convert it, or put an overlay on it`,
        )
      }
      return { ...base, path: o.source, format: info.format as 'qcow2' | 'raw' }
    case 'overlay': {
      const rel = join('disks', `${o.name}.qcow2`)
      // The backing file is named absolutely and with its format, so qemu never probes it again.
      const r = await execFileText(
        o.qemuImg,
        ['create', '-q', '-f', 'qcow2', '-b', o.source, '-F', info.format, join(o.vmDir, rel)],
        { timeoutMs: 60_000 },
      )
      if (r.code !== 0) {
        throw new VireoError('qemu_failed', `creating an overlay on ${o.source} failed: ${r.stderr.trim()}`)
      }
      return { ...base, path: rel, format: 'qcow2' }
    }
    case 'convert': {
      const rel = join('disks', `${o.name}.qcow2`)
      await convertImage(o.qemuImg, o.source, join(o.vmDir, rel), 'qcow2', {
        inFormat: info.format,
        ...(o.onProgress ? { onProgress: o.onProgress } : {}),
      })
      return { ...base, path: rel, format: 'qcow2' }
    }
  }
}
