// What an ISO 9660 file says about itself: its primary volume descriptor (names, and the size the
// volume claims, which tells a truncated download), the El Torito boot catalog (which firmware can
// start it) and the MBR a hybrid image carries. Only the few sectors that hold these are read.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs'
import { VireoError } from '../api/errors.ts'

const SECTOR = 2048
const FIRST_DESCRIPTOR = 16
/** Descriptors end with a terminator; real images have a handful, so stop looking after this many. */
const MAX_DESCRIPTORS = 32

export interface IsoFacts {
  volumeId: string
  systemId: string
  publisherId: string
  applicationId: string
  /** The volume's size as its descriptor states it: the file must be at least this long. */
  volumeBytes: number
  fileBytes: number
  bootable: { bios: boolean; uefi: boolean }
  hybrid: boolean
  /** The root directory's extent, for looking up a few well-known files. */
  root: { lba: number; bytes: number }
  blockSize: number
}

/** A file opened for a few positioned reads; a read past its end returns what there is. */
export class FileReader {
  readonly fd: number
  readonly size: number
  constructor(path: string) {
    this.fd = openSync(path, 'r')
    this.size = fstatSync(this.fd).size
  }
  read(offset: number, length: number): Buffer {
    const buf = Buffer.alloc(Math.max(0, Math.min(length, this.size - offset)))
    let done = 0
    while (done < buf.length) {
      const n = readSync(this.fd, buf, done, buf.length - done, offset + done)
      if (n === 0) break
      done += n
    }
    return buf.subarray(0, done)
  }
  close(): void {
    closeSync(this.fd)
  }
}

/** A file that starts like ISO 9660 (a "CD001" descriptor at sector 16), whatever its name. */
export function looksLikeIso(r: FileReader): boolean {
  return r.read(FIRST_DESCRIPTOR * SECTOR + 1, 5).toString('latin1') === 'CD001'
}

const text = (b: Buffer, start: number, len: number) =>
  b
    .subarray(start, start + len)
    .toString('latin1')
    .replace(/[\0 ]+$/, '')

/** Reads an ISO's descriptors and boot catalog; a file shorter than its volume is refused in words. */
export function readIso(path: string, r: FileReader): IsoFacts {
  let pvd: Buffer | null = null
  let catalogLba: number | null = null
  for (let i = 0; i < MAX_DESCRIPTORS; i++) {
    const d = r.read((FIRST_DESCRIPTOR + i) * SECTOR, SECTOR)
    if (d.length < SECTOR || d.toString('latin1', 1, 6) !== 'CD001') break
    const type = d[0]
    if (type === 255) break
    if (type === 1 && !pvd) pvd = d
    // Boot record: "EL TORITO SPECIFICATION", then the catalog's sector (little-endian) at 0x47.
    if (type === 0 && d.toString('latin1', 7, 30) === 'EL TORITO SPECIFICATION')
      catalogLba = d.readUInt32LE(0x47)
  }
  if (!pvd) {
    throw new VireoError(
      'invalid_request',
      r.size < (FIRST_DESCRIPTOR + 1) * SECTOR
        ? `${path} holds only ${r.size} bytes, too few for an ISO image: it is truncated or not an ISO`
        : `${path} has no ISO 9660 primary volume descriptor: it is damaged or not an ISO`,
    )
  }
  const blockSize = pvd.readUInt16LE(128) || SECTOR
  const volumeBytes = pvd.readUInt32LE(80) * blockSize
  if (r.size < volumeBytes) {
    throw new VireoError(
      'invalid_request',
      `${path} is truncated: the ISO's volume is ${volumeBytes} bytes, but the file holds only ${r.size} (${Math.floor((r.size / volumeBytes) * 100)} %); download or copy it again`,
    )
  }
  const rootRecord = pvd.subarray(156, 156 + 34)
  return {
    volumeId: text(pvd, 40, 32),
    systemId: text(pvd, 8, 32),
    publisherId: text(pvd, 318, 128),
    applicationId: text(pvd, 574, 128),
    volumeBytes,
    fileBytes: r.size,
    bootable: catalogLba === null ? { bios: false, uefi: false } : bootPlatforms(r, catalogLba),
    hybrid: hasMbr(r),
    root: { lba: rootRecord.readUInt32LE(2), bytes: rootRecord.readUInt32LE(10) },
    blockSize,
  }
}

const PLATFORM_BIOS = 0x00
const PLATFORM_UEFI = 0xef
const BOOTABLE = 0x88

/**
 * The El Torito catalog: a validation entry naming the default entry's platform, the default
 * entry, then sections (header 0x90, or 0x91 for the last) each with a platform and its entries.
 * A platform counts when at least one of its entries is marked bootable.
 */
export function bootPlatforms(r: FileReader, catalogLba: number): { bios: boolean; uefi: boolean } {
  const cat = r.read(catalogLba * SECTOR, SECTOR)
  const found = { bios: false, uefi: false }
  if (cat.length < 64 || cat[0] !== 0x01 || cat[30] !== 0x55 || cat[31] !== 0xaa) return found
  const mark = (platform: number | undefined) => {
    if (platform === PLATFORM_BIOS) found.bios = true
    if (platform === PLATFORM_UEFI) found.uefi = true
  }
  if (cat[32] === BOOTABLE) mark(cat[1])
  for (let off = 64; off + 32 <= cat.length;) {
    const header = cat[off]
    if (header !== 0x90 && header !== 0x91) break
    const platform = cat[off + 1]
    const entries = cat.readUInt16LE(off + 2)
    off += 32
    // Extension entries (0x44) continue the entry before them and are not counted.
    for (let seen = 0; seen < entries && off + 32 <= cat.length; off += 32) {
      if (cat[off] === 0x44) continue
      seen++
      if (cat[off] === BOOTABLE) mark(platform)
    }
    if (header === 0x91) break
  }
  return found
}

/** An MBR signature and at least one partition entry: the same file also boots as a disk. */
function hasMbr(r: FileReader): boolean {
  const mbr = r.read(0, 512)
  if (mbr.length < 512 || mbr[510] !== 0x55 || mbr[511] !== 0xaa) return false
  for (let i = 0; i < 4; i++) {
    const entry = mbr.subarray(446 + i * 16, 446 + (i + 1) * 16)
    if (entry[4] !== 0 && entry.readUInt32LE(12) > 0) return true
  }
  return false
}

/**
 * A file's extent in the ISO by its path (e.g. `boot/vmlinuz`), matched without case and without
 * the `;1` version and trailing dot of ISO 9660 names; null when it is not there.
 */
export function findIsoFile(
  r: FileReader,
  iso: IsoFacts,
  path: string,
): { lba: number; bytes: number } | null {
  let dir = iso.root
  const parts = path.split('/').filter(Boolean)
  for (const [i, part] of parts.entries()) {
    const want = part.toLowerCase()
    const entry = listDir(r, iso, dir).find((e) => e.name === want)
    if (!entry) return null
    if (i === parts.length - 1) return entry.isDir ? null : { lba: entry.lba, bytes: entry.bytes }
    if (!entry.isDir) return null
    dir = { lba: entry.lba, bytes: entry.bytes }
  }
  return null
}

interface DirEntry {
  name: string
  lba: number
  bytes: number
  isDir: boolean
}

/** Directories larger than this are not what a boot path looks like; never read more. */
const MAX_DIR_BYTES = 1 << 20

function listDir(r: FileReader, iso: IsoFacts, dir: { lba: number; bytes: number }): DirEntry[] {
  const data = r.read(dir.lba * iso.blockSize, Math.min(dir.bytes, MAX_DIR_BYTES))
  const out: DirEntry[] = []
  for (let off = 0; off < data.length;) {
    const len = data[off] ?? 0
    if (len === 0) {
      // Records never cross a sector: a zero length means the rest of this sector is padding.
      off = (Math.floor(off / iso.blockSize) + 1) * iso.blockSize
      continue
    }
    if (off + 33 > data.length) break
    const nameLen = data[off + 32] ?? 0
    const raw = data.subarray(off + 33, off + 33 + nameLen)
    // 0x00 and 0x01 are the directory itself and its parent.
    if (!(nameLen === 1 && (raw[0] === 0 || raw[0] === 1))) {
      out.push({
        name: raw.toString('latin1').replace(/;\d+$/, '').replace(/\.$/, '').toLowerCase(),
        lba: data.readUInt32LE(off + 2),
        bytes: data.readUInt32LE(off + 10),
        isDir: ((data[off + 25] ?? 0) & 0x02) !== 0,
      })
    }
    off += len
  }
  return out
}
