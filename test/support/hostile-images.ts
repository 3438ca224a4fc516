// Disk images a stranger could hand a user, crafted with qemu-img and by hand: each names a host
// file it was not given (a decoy "secret" the test plants), loops, or is malformed. Each comes with
// the refusal it must meet, as a pattern of the sentence.
import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'

export interface HostileImage {
  name: string
  /**
   * Writes the image into `dir`; returns its path, or its path and the files a user would allow
   * with --allow-backing (to reach the refusals that come after the naming rule). `decoy` is the
   * host secret it must not reach.
   */
  make(dir: string, decoy: string): string | { image: string; allow: string[] }
  refusal: RegExp
}

function qemuImg(...args: string[]): void {
  execFileSync('qemu-img', args, { stdio: 'pipe' })
}

/** A qcow2 whose backing file name is `name`, made without opening it (-u). */
function withBacking(path: string, name: string, format?: string): string {
  qemuImg('create', '-q', '-f', 'qcow2', '-u', '-b', name, ...(format ? ['-F', format] : []), path, '16M')
  return path
}

/** A qcow2 whose backing name is `name` exactly, which qemu-img would not write: patched in. */
function patchedBacking(path: string, name: string, format?: string): string {
  const standIn = `/${'y'.repeat(Buffer.byteLength(name) - 1)}`
  withBacking(path, standIn, 'raw')
  const buf = readFileSync(path)
  const at = buf.indexOf(Buffer.from(standIn))
  Buffer.from(name).copy(buf, at)
  // The backing-format extension: renamed to an unknown type (QEMU skips those) or given a value.
  const ext = buf.indexOf(Buffer.from([0xe2, 0x79, 0x2a, 0xca]))
  if (format === undefined) buf.writeUInt32BE(0x0badf00d, ext)
  writeFileSync(path, buf)
  return path
}

/** A qcow2 naming `target` as its external data file: made on a same-length stand-in, then patched. */
function withDataFile(dir: string, target: string): string {
  const standIn = join(dir, 'x'.repeat(Math.max(1, target.length - dir.length - 1)))
  const path = join(dir, `data-${Date.now()}.qcow2`)
  qemuImg('create', '-q', '-f', 'qcow2', '-o', `data_file=${standIn}`, path, '16M')
  const buf = readFileSync(path)
  const at = buf.indexOf(Buffer.from(standIn))
  if (at < 0 || standIn.length !== target.length) throw new Error('could not craft the data-file image')
  Buffer.from(target).copy(buf, at)
  writeFileSync(path, buf)
  return path
}

function descriptor(path: string, lines: string[]): string {
  writeFileSync(
    path,
    [
      '# Disk DescriptorFile',
      'version=1',
      'CID=fffffffe',
      'parentCID=ffffffff',
      'createType="monolithicFlat"',
      '',
      ...lines,
      '',
      'ddb.virtualHWVersion = "4"',
      'ddb.geometry.cylinders = "2"',
      'ddb.geometry.heads = "16"',
      'ddb.geometry.sectors = "63"',
      'ddb.adapterType = "ide"',
      '',
    ].join('\n'),
  )
  return path
}

/** A sparse VMDK whose header says capacity 0, so QEMU opens its embedded descriptor's extents. */
function sparseWithDescriptor(path: string, extentLine: string): string {
  const head = Buffer.alloc(512)
  head.write('KDMV', 0, 'latin1')
  head.writeUInt32LE(1, 4)
  head.writeUInt32LE(3, 8)
  head.writeBigUInt64LE(0n, 12) // capacity 0
  head.writeBigUInt64LE(128n, 20)
  head.writeBigUInt64LE(1n, 28) // descriptor at sector 1
  head.writeBigUInt64LE(2n, 36) // two sectors of it
  const desc = Buffer.alloc(1024)
  desc.write(
    ['# Disk DescriptorFile', 'version=1', 'createType="monolithicSparse"', extentLine, ''].join('\n'),
    0,
    'latin1',
  )
  writeFileSync(path, Buffer.concat([head, desc, Buffer.alloc(4096)]))
  return path
}

let n = 0
const f = (dir: string, ext = 'qcow2') => join(dir, `img-${++n}.${ext}`)

export const NAMES_ANOTHER_FILE =
  /a file you did not give Vireo; if the image is meant to read it, name it with --allow-backing/
const NOT_PLAIN = /which is not a plain file path; Vireo refuses images that reach beyond files/

export const HOSTILE_IMAGES: HostileImage[] = [
  {
    name: 'a qcow2 backed by the host secret, by absolute path',
    make: (dir, decoy) => withBacking(f(dir), decoy, 'raw'),
    refusal: NAMES_ANOTHER_FILE,
  },
  {
    name: 'a qcow2 backed by the host secret without a backing format',
    make: (dir, decoy) => patchedBacking(f(dir), decoy),
    refusal: NAMES_ANOTHER_FILE,
  },
  {
    name: 'a qcow2 backed by a relative ../.. path to the secret',
    make: (dir, decoy) => withBacking(f(dir), relative(dir, decoy), 'raw'),
    refusal: NAMES_ANOTHER_FILE,
  },
  {
    name: 'a qcow2 backed by a symlink beside it that points at the secret',
    make: (dir, decoy) => {
      const link = join(dir, `innocent-${++n}.raw`)
      symlinkSync(decoy, link)
      return withBacking(f(dir), link, 'raw')
    },
    refusal: NAMES_ANOTHER_FILE,
  },
  {
    name: 'a qcow2 whose backing file is a json: block graph',
    make: (dir, decoy) =>
      patchedBacking(f(dir), `json:{"driver":"raw","file":{"driver":"file","filename":"${decoy}"}}`),
    refusal: NOT_PLAIN,
  },
  {
    name: 'a qcow2 whose backing file is an nbd:// URL',
    make: (dir) => withBacking(f(dir), 'nbd://127.0.0.1:9/export', 'raw'),
    refusal: NOT_PLAIN,
  },
  {
    name: 'a qcow2 whose backing file is a file: URL of the secret',
    make: (dir, decoy) => withBacking(f(dir), `file:${decoy}`, 'raw'),
    refusal: NOT_PLAIN,
  },
  {
    name: 'a qcow2 whose backing file is an http:// URL',
    make: (dir) => withBacking(f(dir), 'http://127.0.0.1:9/disk.img', 'raw'),
    refusal: NOT_PLAIN,
  },
  {
    name: 'a qcow2 whose backing format is a protocol driver (nbd)',
    make: (dir, decoy) => ({ image: withBacking(f(dir), decoy, 'nbd'), allow: [decoy] }),
    refusal: /a format Vireo does not run; refused/,
  },
  {
    name: 'a qcow2 whose external data file is the host secret',
    make: (dir, decoy) => withDataFile(dir, decoy),
    refusal: NAMES_ANOTHER_FILE,
  },
  {
    name: 'a VMDK descriptor whose FLAT extent is the host secret',
    make: (dir, decoy) => descriptor(f(dir, 'vmdk'), [`RW 2048 FLAT "${decoy}" 0`]),
    refusal: NAMES_ANOTHER_FILE,
  },
  {
    name: 'a VMDK descriptor whose extent is a relative ../ path to the secret',
    make: (dir, decoy) => descriptor(f(dir, 'vmdk'), [`RW 2048 FLAT "${relative(dir, decoy)}" 0`]),
    refusal: NAMES_ANOTHER_FILE,
  },
  {
    name: 'a VMDK descriptor hiding the extent after comment lines, without the usual first line',
    make: (dir, decoy) => {
      const p = f(dir, 'vmdk')
      writeFileSync(
        p,
        `# just a text file\n\nversion=1\ncreateType="monolithicFlat"\nRW 2048 FLAT "${decoy}" 0\n`,
      )
      return p
    },
    refusal: NAMES_ANOTHER_FILE,
  },
  {
    name: 'a VMDK descriptor whose extent is an nbd: URL',
    make: (dir) => descriptor(f(dir, 'vmdk'), ['RW 2048 FLAT "nbd:127.0.0.1:9" 0']),
    refusal: NOT_PLAIN,
  },
  {
    name: 'a VMDK descriptor whose parent (parentFileNameHint) is the secret',
    make: (dir, decoy) => {
      const ext = f(dir, 'raw')
      writeFileSync(ext, Buffer.alloc(2048 * 512))
      return descriptor(f(dir, 'vmdk'), [`parentFileNameHint="${decoy}"`, `RW 2048 FLAT "${ext}" 0`])
    },
    refusal: NAMES_ANOTHER_FILE,
  },
  {
    name: 'a sparse VMDK of capacity 0 whose embedded descriptor names the secret',
    make: (dir, decoy) => sparseWithDescriptor(f(dir, 'vmdk'), `RW 2048 FLAT "${decoy}" 0`),
    refusal: NAMES_ANOTHER_FILE,
  },
  {
    name: 'two qcow2 files naming each other as backing files',
    make: (dir) => {
      const a = f(dir)
      const b = f(dir)
      withBacking(a, b, 'qcow2')
      withBacking(b, a, 'qcow2')
      return { image: a, allow: [b] }
    },
    refusal: /loops: .* which is already in the chain; refused/,
  },
  {
    name: 'a qcow2 naming itself as its backing file',
    make: (dir) => {
      const a = f(dir)
      return patchedBacking(a, a)
    },
    refusal: /loops: .* which is already in the chain; refused/,
  },
  {
    name: 'a three-file loop through a relative name',
    make: (dir) => {
      const [a, b, c] = [f(dir), f(dir), f(dir)]
      withBacking(a, b, 'qcow2')
      withBacking(b, c, 'qcow2')
      withBacking(c, relative(dir, a), 'qcow2')
      return { image: a, allow: [b, c] }
    },
    refusal: /loops: /,
  },
  {
    name: 'an allowed-looking chain whose second layer names the secret',
    make: (dir, decoy) => {
      const mid = withBacking(f(dir), decoy, 'raw')
      return withBacking(f(dir), mid, 'qcow2')
    },
    refusal: NAMES_ANOTHER_FILE,
  },
  {
    name: 'a qcow2 backed by a file that does not exist',
    make: (dir) => withBacking(f(dir), join(dir, 'gone.qcow2'), 'qcow2'),
    refusal: /names .*gone\.qcow2 as its backing file, which does not exist/,
  },
  {
    name: 'a qcow2 backed by a FIFO (which would hang a reader)',
    make: (dir) => {
      const fifo = join(dir, `fifo-${++n}`)
      execFileSync('mkfifo', [fifo])
      return withBacking(f(dir), fifo, 'raw')
    },
    refusal: /is not a regular file or a block device/,
  },
  {
    name: 'a qcow2 backed by a directory',
    make: (dir) => {
      const sub = join(dir, `sub-${++n}`)
      mkdirSync(sub)
      return withBacking(f(dir), sub, 'raw')
    },
    refusal: /is not a regular file or a block device/,
  },
  {
    name: 'a qcow2 backed by /dev/zero',
    make: (dir) => withBacking(f(dir), '/dev/zero', 'raw'),
    refusal: /is not a regular file or a block device/,
  },
  {
    name: 'a qcow2 header cut short',
    make: (dir) => {
      const p = f(dir)
      withBacking(p, '/etc/hostname', 'raw')
      writeFileSync(p, readFileSync(p).subarray(0, 60))
      return p
    },
    refusal: /damaged qcow2 header|header is broken/,
  },
  {
    name: 'a qcow2 magic followed by garbage',
    make: (dir) => {
      const p = f(dir)
      writeFileSync(p, Buffer.concat([Buffer.from('QFI\xfb', 'latin1'), Buffer.alloc(1 << 16, 0xff)]))
      return p
    },
    refusal: /header is broken/,
  },
  {
    name: 'a qcow2 whose backing name runs past the end of the file',
    make: (dir) => {
      const p = withBacking(f(dir), '/etc/hostname', 'raw')
      const buf = readFileSync(p)
      buf.writeBigUInt64BE(BigInt(buf.length + 4096), 8)
      writeFileSync(p, buf)
      return p
    },
    refusal: /damaged qcow2 header \(its backing file name is cut off\)/,
  },
  {
    name: 'a qcow2 claiming a backing name longer than QEMU allows',
    make: (dir) => {
      const p = withBacking(f(dir), '/etc/hostname', 'raw')
      const buf = readFileSync(p)
      buf.writeUInt32BE(5000, 16)
      writeFileSync(p, buf)
      return p
    },
    refusal: /backing file name is too long/,
  },
  {
    name: 'a QED image (a format that names backing files of its own)',
    make: (dir, decoy) => {
      const p = f(dir, 'qed')
      qemuImg('create', '-q', '-f', 'qed', '-u', '-b', decoy, '-F', 'raw', p, '16M')
      return p
    },
    refusal: /is a QED image, which Vireo does not run/,
  },
  {
    name: 'a LUKS-encrypted image',
    make: (dir) => {
      const p = f(dir, 'luks')
      writeFileSync(p, Buffer.concat([Buffer.from('LUKS\xba\xbe', 'latin1'), Buffer.alloc(1 << 16)]))
      return p
    },
    refusal: /is a LUKS-encrypted image, which Vireo does not run/,
  },
]
