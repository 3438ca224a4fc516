// What an image file names besides itself, read from its own header by Vireo, never by qemu-img.
// `qemu-img info` opens a qcow2's external data file and a VMDK's extents by the names it finds,
// and `--backing-chain` opens every backing file the same way (an `nbd://` name connects, a
// `json:{…}` name builds any block graph), so those names are read here first, from bounded
// reads of a file opened without blocking, and judged before any QEMU tool sees the file.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs'
import { VireoError } from '../api/errors.ts'

/** The formats whose references Vireo understands; anything else is refused before use. */
export const KNOWN_FORMATS = ['qcow2', 'raw', 'vmdk', 'vdi', 'vhdx', 'vpc'] as const
export type KnownFormat = (typeof KNOWN_FORMATS)[number]

export interface ImageHeader {
  format: KnownFormat
  /** The backing file's name as the image holds it (not resolved), and its declared format. */
  backing: { name: string; format: string | null } | null
  /** qcow2's external data file, as named in the image. */
  dataFile: string | null
  /** A VMDK's extent files, as named in its descriptor (may include the image itself). */
  extents: string[]
}

/** Formats QEMU would probe that can name other files or need secrets: refused by name. */
const OTHER_MAGICS: [number, string, string][] = [
  [0, 'QED\0', 'QED'],
  [0, 'COWD', 'ESX sparse VMDK (COWD)'],
  [0, 'LUKS\xba\xbe', 'LUKS-encrypted'],
  [0, 'WithoutFreeSpace', 'Parallels'],
  [0, 'WithouFreSpacExt', 'Parallels'],
  [0, 'Bochs Virtual HD Image', 'Bochs'],
  [0, '#!/bin/sh\n#V2.0 Format', 'cloop'],
]

const HEAD_BYTES = 4096
/** QEMU's own bound for a backing file name (1023 bytes) and a generous one for descriptors. */
const MAX_BACKING_NAME = 1023
const MAX_DESCRIPTOR = 1024 * 1024

class HeaderReader {
  private readonly fd: number
  readonly size: number
  readonly path: string
  constructor(path: string) {
    this.path = path
    // O_NONBLOCK: a FIFO named as a backing file must not hang the engine in open().
    this.fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK)
    const st = fstatSync(this.fd)
    if (!st.isFile() && !st.isBlockDevice()) {
      closeSync(this.fd)
      throw new VireoError('invalid_request', `${path} is not a regular file or a block device`)
    }
    this.size = st.isFile() ? st.size : Number.MAX_SAFE_INTEGER
  }
  read(offset: number, length: number): Buffer {
    const buf = Buffer.alloc(length)
    const n = offset >= this.size ? 0 : readSync(this.fd, buf, 0, length, offset)
    return buf.subarray(0, n)
  }
  close(): void {
    closeSync(this.fd)
  }
}

function bad(path: string, what: string): VireoError {
  return new VireoError('invalid_request', `${path} has a damaged ${what}; Vireo cannot tell what it reads`)
}

function parseQcow2(r: HeaderReader, head: Buffer): ImageHeader {
  const version = head.readUInt32BE(4)
  if (version === 1) {
    throw new VireoError(
      'invalid_request',
      `${r.path} is a qcow (version 1) image, which Vireo does not run; convert it with qemu-img convert -O qcow2`,
    )
  }
  if (version !== 2 && version !== 3) {
    throw new VireoError(
      'invalid_request',
      `${r.path} starts like a qcow2 image, but its header is broken (version ${version}); Vireo cannot read it`,
    )
  }
  const backingOffset = Number(head.readBigUInt64BE(8))
  const backingSize = head.readUInt32BE(16)
  let backingName: string | null = null
  if (backingOffset !== 0 && backingSize !== 0) {
    if (backingSize > MAX_BACKING_NAME) throw bad(r.path, 'qcow2 header (its backing file name is too long)')
    const raw = r.read(backingOffset, backingSize)
    if (raw.length !== backingSize) throw bad(r.path, 'qcow2 header (its backing file name is cut off)')
    backingName = raw.toString('utf8')
  }
  let backingFormat: string | null = null
  let dataFile: string | null = null
  const incompatible = version >= 3 ? head.readBigUInt64BE(72) : 0n
  const headerLength = version >= 3 ? head.readUInt32BE(100) : 72
  // Header extensions follow the header until the cluster holding it ends (or type 0).
  const clusterBits = head.readUInt32BE(20)
  if (clusterBits < 9 || clusterBits > 21) throw bad(r.path, 'qcow2 header (cluster size)')
  const limit = Math.min(2 ** clusterBits, 2 * 1024 * 1024)
  let at = headerLength
  const ext = r.read(0, limit)
  while (at + 8 <= ext.length) {
    const type = ext.readUInt32BE(at)
    const len = ext.readUInt32BE(at + 4)
    if (type === 0) break
    if (at + 8 + len > ext.length) throw bad(r.path, 'qcow2 header extension')
    const data = ext.subarray(at + 8, at + 8 + len).toString('utf8')
    if (type === 0xe2792aca) backingFormat = data
    else if (type === 0x44415441) dataFile = data
    at += 8 + Math.ceil(len / 8) * 8
  }
  // Bit 2: the guest's data lives in another file. Without its name QEMU asks for one; refuse.
  if (incompatible & 4n && dataFile === null) {
    throw new VireoError(
      'invalid_request',
      `${r.path} keeps its data in an external file it does not name; Vireo cannot run it`,
    )
  }
  return {
    format: 'qcow2',
    backing: backingName === null ? null : { name: backingName, format: backingFormat },
    dataFile,
    extents: [],
  }
}

/** Extent lines (`RW 2048 FLAT "file.vmdk" 0`) and the parent link of a VMDK descriptor. */
function parseDescriptor(path: string, text: string): Pick<ImageHeader, 'backing' | 'extents'> {
  const extents: string[] = []
  let parent: string | null = null
  for (const line of text.split(/\r?\n/)) {
    const t = line.trim()
    const m = /^(RW|RDONLY|NOACCESS)\s+\d+\s+(\w+)(?:\s+"([^"]*)")?/.exec(t)
    if (m) {
      if (m[3] !== undefined) extents.push(m[3])
      else if (m[2]!.toUpperCase() !== 'ZERO')
        throw bad(path, 'VMDK descriptor (an extent without a file name)')
      continue
    }
    const p = /^parentFileNameHint\s*=\s*"([^"]*)"/.exec(t)
    if (p) parent = p[1]!
  }
  return { backing: parent ? { name: parent, format: 'vmdk' } : null, extents }
}

function looksLikeDescriptor(head: Buffer): boolean {
  // QEMU's probe: skip comment and blank lines, then a `version=` line makes it a descriptor.
  const text = head.subarray(0, 2048).toString('latin1')
  for (const line of text.split('\n')) {
    const t = line.trim()
    if (t === '' || t.startsWith('#')) continue
    return /^version\s*=/.test(t)
  }
  return false
}

function parseVmdk(r: HeaderReader, head: Buffer): ImageHeader {
  let text: string
  if (head.subarray(0, 4).toString('latin1') === 'KDMV') {
    // Sparse VMDK: an embedded descriptor at descriptorOffset sectors (little-endian fields).
    const offset = Number(head.readBigUInt64LE(28)) * 512
    const size = Number(head.readBigUInt64LE(36)) * 512
    if (size === 0) return { format: 'vmdk', backing: null, dataFile: null, extents: [] }
    if (size > MAX_DESCRIPTOR) throw bad(r.path, 'VMDK header (its descriptor is too large)')
    text = r.read(offset, size).toString('latin1').replace(/\0.*$/s, '')
    const parsed = parseDescriptor(r.path, text)
    // QEMU reads a sparse VMDK's grains from the file itself and ignores the extent lines of its
    // embedded descriptor (they keep the name it was made under), unless the header's capacity is
    // 0: then the embedded descriptor is opened as a descriptor file, extents and all.
    if (head.readBigUInt64LE(12) === 0n) return { format: 'vmdk', dataFile: null, ...parsed }
    return { format: 'vmdk', dataFile: null, backing: parsed.backing, extents: [] }
  } else {
    if (r.size > MAX_DESCRIPTOR) throw bad(r.path, 'VMDK descriptor (too large)')
    text = r.read(0, r.size).toString('latin1')
  }
  return { format: 'vmdk', dataFile: null, ...parseDescriptor(r.path, text) }
}

/** The header of the image at `path`: its format by its magic (as QEMU would probe) and its references. */
export function readImageHeader(path: string): ImageHeader {
  const r = new HeaderReader(path)
  try {
    const head = r.read(0, HEAD_BYTES)
    const at = (offset: number, magic: string) =>
      head.subarray(offset, offset + magic.length).toString('latin1') === magic
    if (at(0, 'QFI\xfb')) {
      if (head.length < 104) throw bad(path, 'qcow2 header')
      return parseQcow2(r, head)
    }
    if (at(0, 'KDMV') || looksLikeDescriptor(head)) return parseVmdk(r, head)
    for (const [offset, magic, name] of OTHER_MAGICS) {
      if (at(offset, magic))
        throw new VireoError(
          'invalid_request',
          `${path} is a ${name} image, which Vireo does not run; convert it to qcow2 with qemu-img convert`,
        )
    }
    const none = { backing: null, dataFile: null, extents: [] }
    if (head.length >= 68 && head.readUInt32LE(64) === 0xbeda107f) return { format: 'vdi', ...none }
    if (at(0, 'vhdxfile')) return { format: 'vhdx', ...none }
    if (at(0, 'conectix')) return { format: 'vpc', ...none }
    // The VHD footer may stand only at the end of the file.
    if (
      r.size >= 512 &&
      r.size < Number.MAX_SAFE_INTEGER &&
      r.read(r.size - 512, 8).toString('latin1') === 'conectix'
    )
      return { format: 'vpc', ...none }
    return { format: 'raw', ...none }
  } finally {
    r.close()
  }
}
