// Sizes, boot orders and paths as a hostile client gives them: one disk-size range for a new disk, an
// attached one and a resize; a boot order naming a device twice refused at create as at update;
// control characters in any path refused before an fs call; a truncated ISO refused in a CD drive
// as at create. Nothing is written for any of them.
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { refusedWithoutTrace, startEngine, type HostileEngine } from './harness.ts'

let t: HostileEngine
let vm: string
beforeAll(async () => {
  t = await startEngine()
  vm = (await t.makeVm('values')).id
})
afterAll(() => t.close())

const NOT_A_SIZE = (v: string) => `a size is a number with an optional unit, e.g. 8G or 512M, not ${v}`

const SIZES: [string, unknown, string][] = [
  ['empty', '', NOT_A_SIZE('an empty string')],
  ['blank', '   ', NOT_A_SIZE('an empty string')],
  ['zero', '0', 'a disk must be at least 1 MiB, not "0"'],
  ['1K', '1K', 'a disk must be at least 1 MiB, not "1K"'],
  ['1023K', '1023K', 'a disk must be at least 1 MiB, not "1023K"'],
  ['65T', '65T', 'a disk can be at most 64 TiB, not "65T"'],
  ['a little over 64 TiB', '64.0001T', 'a disk can be at most 64 TiB, not "64.0001T"'],
  ['20 digits of TiB', '99999999999999999999T', 'a disk can be at most 64 TiB, not "99999999999999999999T"'],
  ['NaN', 'NaN', NOT_A_SIZE('"NaN"')],
  ['Infinity', 'Infinity', NOT_A_SIZE('"Infinity"')],
  ['negative', '-1G', NOT_A_SIZE('"-1G"')],
  ['an exponent', '1e9', NOT_A_SIZE('"1e9"')],
  ['hexadecimal', '0x10G', NOT_A_SIZE('"0x10G"')],
  ['a unit twice', '8GG', NOT_A_SIZE('"8GG"')],
  ['two decimal points', '1.5.5G', NOT_A_SIZE('"1.5.5G"')],
  ['a unit alone', 'G', NOT_A_SIZE('"G"')],
  ['petabytes', '1P', NOT_A_SIZE('"1P"')],
  ['a number', 8, '`size` must be text, not 8'],
]

describe('disk sizes', () => {
  it.each(SIZES)('a new disk of %s', async (_what, size, message) => {
    const m = message.replace('`size`', '`diskSize`')
    await refusedWithoutTrace(t, 'vm.create', { name: 'sized', diskSize: size }, 'invalid_request', m)
  })
  it.each(SIZES)('an attached disk of %s', async (_what, size, message) => {
    await refusedWithoutTrace(t, 'device.attach', { vm, kind: 'disk', size }, 'invalid_request', message)
  })
  it.each(SIZES)('a disk resized to %s', async (_what, size, message) => {
    await refusedWithoutTrace(t, 'disk.resize', { vm, disk: 'disk0', size }, 'invalid_request', message)
  })
})

describe('boot orders', () => {
  const TWICE = (d: string) => `the boot order names ${d} twice; name each device once, e.g. disk,cdrom`
  it.each<[string, unknown, string]>([
    ['disk twice', ['disk', 'disk'], TWICE('disk')],
    ['cdrom around disk', ['cdrom', 'disk', 'cdrom'], TWICE('cdrom')],
    ['network twice', ['network', 'network'], TWICE('network')],
    ['nothing', [], 'a boot order names at least one device: disk, cdrom or network'],
    [
      'four devices',
      ['disk', 'cdrom', 'network', 'disk'],
      'a boot order names each of disk, cdrom and network at most once',
    ],
    ['a floppy', ['floppy'], '`bootOrder[0]` must be one of disk, cdrom, network, not the text "floppy"'],
    ['null', [null], '`bootOrder[0]` must be one of disk, cdrom, network, not null'],
    ['a string', 'disk', '`bootOrder` must be a list, not the text "disk"'],
  ])('%s, at create and at update alike', async (_what, bootOrder, message) => {
    await refusedWithoutTrace(t, 'vm.create', { name: 'boots', bootOrder }, 'invalid_request', message)
    await refusedWithoutTrace(t, 'vm.update', { vm, bootOrder }, 'invalid_request', message)
  })
})

describe('paths with control characters', () => {
  const held = (p: string, code: string) =>
    `the path "${p}" holds the control character ${code}; give the path of a file whose name has none`
  it.each<[string, string, (p: string) => unknown, string, string, string]>([
    ['an ISO', 'vm.create', (p) => ({ name: 'p', iso: p }), '/tmp/a\u0000.iso', '/tmp/a\\x00.iso', 'U+0000'],
    [
      'a disk',
      'vm.create',
      (p) => ({ name: 'p', disk: p }),
      '/tmp/d\u001b[2J.qcow2',
      '/tmp/d\\x1b[2J.qcow2',
      'U+001B',
    ],
    ['a kernel', 'vm.create', (p) => ({ name: 'p', kernel: p }), '/tmp/k\nernel', '/tmp/k\\nernel', 'U+000A'],
    [
      'an initrd',
      'vm.create',
      (p) => ({ name: 'p', kernel: '/k', initrd: p }),
      '/tmp/i\r',
      '/tmp/i\\r',
      'U+000D',
    ],
    [
      'an attached image',
      'device.attach',
      (p) => ({ vm, kind: 'disk', image: p }),
      '/tmp/\u007f',
      '/tmp/\\x7f',
      'U+007F',
    ],
    ['a disc', 'cdrom.change', (p) => ({ vm, path: p }), '/tmp/\u009b1m.iso', '/tmp/\\x9b1m.iso', 'U+009B'],
    [
      'an inspected file',
      'image.inspect',
      (p) => ({ path: p }),
      '/etc/passwd\u0000.iso',
      '/etc/passwd\\x00.iso',
      'U+0000',
    ],
    ['an appliance', 'vm.import', (p) => ({ path: p }), '/tmp/a\u0000.ova', '/tmp/a\\x00.ova', 'U+0000'],
    [
      'an export target',
      'vm.export',
      (p) => ({ vm, path: p }),
      '/tmp/out\u0000.ova',
      '/tmp/out\\x00.ova',
      'U+0000',
    ],
    [
      'an export target with a tab',
      'vm.export',
      (p) => ({ vm, path: p }),
      '/tmp/out\t.ova',
      '/tmp/out\\t.ova',
      'U+0009',
    ],
  ])('%s', async (_what, method, params, path, shown, code) => {
    await refusedWithoutTrace(t, method, params(path), 'invalid_request', held(shown, code))
    // An export target is never made (Node could not even name one holding NUL).
    if (method === 'vm.export') expect(existsSync(path.replace(/\0.*/, ''))).toBe(false)
  })

  it.each<[string, string, unknown, string]>([
    [
      'an empty ISO path',
      'vm.create',
      { name: 'p', iso: '' },
      'a path cannot be empty; give the full path of the file',
    ],
    [
      'an empty disc path',
      'cdrom.change',
      { path: '' },
      'a path cannot be empty; give the full path of the file',
    ],
    [
      'a relative image',
      'image.inspect',
      { path: 'relative.iso' },
      'the image path must be absolute (got "relative.iso")',
    ],
    [
      'a relative appliance',
      'vm.import',
      { path: 'a.ova' },
      'the appliance path must be absolute, not "a.ova"',
    ],
  ])('%s', async (_what, method, params, message) => {
    const p = method === 'cdrom.change' ? { vm, ...(params as object) } : params
    await refusedWithoutTrace(t, method, p, 'invalid_request', message)
  })
})

describe('a disc in the CD drive', () => {
  it('is refused when it is far too short to be an ISO', async () => {
    const iso = join(t.scratch, 'short.iso')
    writeFileSync(iso, Buffer.alloc(1000, 1))
    await refusedWithoutTrace(
      t,
      'cdrom.change',
      { vm, path: iso },
      'invalid_request',
      `${iso} holds only 1000 bytes, too few for an ISO image: it is truncated or not an ISO`,
    )
  })

  it('is refused when its volume is larger than the file (a download cut short)', async () => {
    const iso = join(t.scratch, 'cut.iso')
    const bytes = Buffer.alloc(18 * 2048)
    const pvd = bytes.subarray(16 * 2048)
    pvd[0] = 1
    pvd.write('CD001', 1, 'latin1')
    pvd[6] = 1
    pvd.writeUInt32LE(1000, 80)
    pvd.writeUInt16LE(2048, 128)
    bytes[17 * 2048] = 255
    bytes.write('CD001', 17 * 2048 + 1, 'latin1')
    writeFileSync(iso, bytes)
    await refusedWithoutTrace(
      t,
      'cdrom.change',
      { vm, path: iso },
      'invalid_request',
      `${iso} is truncated: the ISO's volume is 2048000 bytes, but the file holds only 36864 (1 %); download or copy it again`,
    )
  })

  it('is refused when it does not exist', async () => {
    await refusedWithoutTrace(
      t,
      'cdrom.change',
      { vm, path: '/nonexistent/disc.iso' },
      'not_found',
      'the ISO image /nonexistent/disc.iso does not exist',
    )
  })
})
