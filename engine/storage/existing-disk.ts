// A disk image the user already has, turned into a disk of a new VM: used where it is, hidden behind
// a qcow2 overlay, or converted into the VM's folder. `qemu-img info` decides what the file is; its
// extension means nothing.
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { VireoError } from '../api/errors.ts'
import type { DiskMode } from '../api/rpc.ts'
import { convertImage, imageInfo, type ImageInfo } from './qemu-img.ts'
import { execFileText, QEMU_IMG_MEMORY_BYTES } from '../qemu/exec.ts'
import { chainFiles, realOrSelf, walkImageChain, type ChainNode } from './image-chain.ts'
import { KNOWN_FORMATS } from './image-headers.ts'
import { checkUserFile } from './user-file.ts'

/** The formats of other hypervisors that Vireo takes: VirtualBox, VMware, Hyper-V, Virtual PC. */
export const IMPORTABLE_FORMATS = KNOWN_FORMATS

/**
 * The chain of an image the user gave, every file in it checked against what they named: the
 * image itself and each `--allow-backing` file (which must be one the image reads). Nothing of the
 * image is opened by a QEMU tool before this passes.
 */
export function checkedUserChain(image: string, allowBacking: readonly string[] = []): ChainNode[] {
  const allowed = allowBacking.map((f) => checkUserFile(f, 'allowed backing file'))
  const nodes = walkImageChain(image, { policy: { named: [image, ...allowed], insideDirs: [] } })
  const inChain = new Set(chainFiles(nodes).map(realOrSelf))
  const stray = allowed.find((f) => !inChain.has(realOrSelf(f)))
  if (stray)
    throw new VireoError(
      'invalid_request',
      `--allow-backing ${stray} names a file that ${image} does not read; give only files of its chain (vireo inspect shows them)`,
    )
  return nodes
}

export interface PreparedDisk {
  /** Absolute, or relative to the VM's folder. */
  path: string
  format: 'qcow2' | 'raw'
  /** The image's format as found, for the user: "a vmdk converted to qcow2". */
  sourceFormat: string
  mode: DiskMode
  virtualSize: number
  /** The files outside the VM's folder this disk reads, for vm.json (`Disk.trusted`). */
  trusted: string[]
}

export interface PrepareOptions {
  qemuImg: string
  /** Absolute, already checked to be a readable regular file. */
  source: string
  vmDir: string
  /** The new disk's file name inside the VM's disks/ folder. */
  name: string
  mode?: DiskMode
  /** Files besides the image it may read (its backing chain), as the user named them. */
  allowBacking?: readonly string[]
  onProgress?: (percent: number) => void
}

const MIN_DISK_BYTES = 64 * 1024

/**
 * qemu-img's view of an image whose format Vireo already read from its header (image-headers.ts
 * knows every magic qemu-img would probe), so qemu-img never guesses and a broken header is caught
 * there, not taken for raw here.
 */
export async function inspectImage(qemuImg: string, source: string, format: string): Promise<ImageInfo> {
  let info: ImageInfo
  try {
    info = await imageInfo(qemuImg, source, format)
  } catch (err) {
    throw new VireoError(
      'invalid_request',
      `${source} is not a disk image Vireo can read: ${(err as Error).message.replace(/^.*failed: /, '')}`,
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

export async function prepareExistingDisk(o: PrepareOptions): Promise<PreparedDisk> {
  const chain = checkedUserChain(o.source, o.allowBacking)
  const info = await inspectImage(o.qemuImg, o.source, chain[0]!.format)
  const native = info.format === 'qcow2' || info.format === 'raw'
  const mode = o.mode ?? (native ? 'use' : 'convert')
  const trusted = mode === 'convert' ? [] : chainFiles(chain)
  const base = { sourceFormat: info.format, mode, virtualSize: info['virtual-size'], trusted }
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
      // The backing file is named absolutely and with its format, so qemu never probes it again;
      // with the size given and -u, qemu-img does not open the chain at all.
      const r = await execFileText(
        o.qemuImg,
        [
          'create',
          '-q',
          '-f',
          'qcow2',
          '-b',
          o.source,
          '-F',
          info.format,
          '-u',
          join(o.vmDir, rel),
          String(info['virtual-size']),
        ],
        { timeoutMs: 60_000, maxMemoryBytes: QEMU_IMG_MEMORY_BYTES },
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
        chain,
        ...(o.onProgress ? { onProgress: o.onProgress } : {}),
      })
      return { ...base, path: rel, format: 'qcow2' }
    }
  }
}
