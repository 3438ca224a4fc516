// The real CLI against a VM whose name and paths hold what a terminal would act on (a vm.json from
// before names were checked, or written by hand): plain output shows escapes, never a raw ESC or a
// forged line; --json stays the exact data; errors on stderr are escaped too; and option values
// that are empty (--data-dir '', --disk-size=) are refused rather than quietly defaulted. No guest
// is booted.
import { randomUUID } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { VmInfo, VmSummary } from '../../engine/api/rpc.ts'
import { cleanupDataDir, tempDataDir, vireo, vireoOk } from '../support/cli.ts'

let dataDir: string
const id = randomUUID()
const NAME = 'evil\u202etxt.exe'
const CD = '/tmp/x\x1b[2J\nForged: line.iso'
const DISK = '/tmp/d\x1b]0;pwned\x07.qcow2'
const ESC = '\x1b'

/** No raw ESC or other control character but line ends, and no line a field forged. */
function expectHarmless(text: string): void {
  expect(text).not.toContain(ESC)
  expect(text.replace(/\n/g, '')).not.toMatch(/[\p{Cc}\u202a-\u202e\u2066-\u2069]/u)
  expect(text.split('\n').filter((l) => l.startsWith('Forged'))).toEqual([])
}

beforeAll(() => {
  dataDir = tempDataDir('vireo-hostile-cli-')
  mkdirSync(join(dataDir, 'vms', id), { recursive: true })
  writeFileSync(
    join(dataDir, 'vms', id, 'vm.json'),
    JSON.stringify({
      schemaVersion: 1,
      id,
      name: NAME,
      createdAt: new Date().toISOString(),
      os: 'linux\x1b[2J',
      machine: { type: 'q35', version: 'pc-q35-7.2' },
      firmware: 'bios',
      accelerator: 'tcg',
      cpus: 1,
      memoryMiB: 128,
      disks: [
        {
          id: 'disk0',
          path: DISK,
          format: 'qcow2',
          bus: 'virtio-blk',
          serial: 'VIREO-HOSTILE',
          pci: { slot: 0 },
        },
      ],
      cdroms: [{ id: 'cd0', path: CD, bus: 'sata' }],
    }),
  )
})
afterAll(() => cleanupDataDir(dataDir))

describe('text from a vm.json, printed', () => {
  it('vireo list shows the name escaped, on one line', async () => {
    const out = await vireoOk(dataDir, ['list'])
    expectHarmless(out)
    expect(out).toContain('evil\\u202etxt.exe')
    expect(out.trim().split('\n')).toHaveLength(2)
  })

  it('vireo info escapes the name, the OS and the paths', async () => {
    const out = await vireoOk(dataDir, ['info', id])
    expectHarmless(out)
    expect(out).toContain('Name:        evil\\u202etxt.exe')
    expect(out).toContain('OS:          linux\\x1b[2J')
    expect(out).toContain('CD cd0:    /tmp/x\\x1b[2J\\nForged: line.iso (sata)')
    expect(out).toContain('Disk disk0:  /tmp/d\\x1b]0;pwned\\x07.qcow2')
  })

  it('vireo info --json is the exact data', async () => {
    const info = JSON.parse(await vireoOk(dataDir, ['info', id, '--json'])) as VmInfo
    expect(info.name).toBe(NAME)
    expect(info.config.cdroms[0]!.path).toBe(CD)
    expect(info.config.disks[0]!.path).toBe(DISK)
    const list = JSON.parse(await vireoOk(dataDir, ['list', '--json'])) as VmSummary[]
    expect(list.map((v) => v.name)).toEqual([NAME])
  })

  it('vireo info --qemu-argv: the paths JSON-escaped in -blockdev, the name in $-quoting', async () => {
    const out = await vireoOk(dataDir, ['info', id, '--qemu-argv'])
    expectHarmless(out)
    expect(out).toContain('"filename":"/tmp/x\\u001b[2J\\nForged: line.iso"')
    expect(out).toContain("-name $'guest=evil\\u202etxt.exe,process=vireo-")
  })
})

describe('errors on stderr', () => {
  it('quote what was typed escaped, in plain words and in JSON', async () => {
    const plain = await vireo(dataDir, ['info', 'nope\x1b[2J\nForged: line'])
    expect(plain.code).toBe(1)
    expectHarmless(plain.stderr)
    expect(plain.stderr).toBe('vireo: there is no VM named "nope\\x1b[2J\\nForged: line".\n')
    const json = await vireo(dataDir, ['info', 'nope\x1b[2J', '--json'])
    expect(JSON.parse(json.stderr)).toEqual({
      error: { code: 'not_found', message: 'there is no VM named "nope\\x1b[2J"' },
    })
  })

  it('a new name holding ESC is refused in one escaped sentence, and nothing is made', async () => {
    const r = await vireo(dataDir, ['create', 'a\x1b[2Jb'])
    expect(r.code).toBe(1)
    expect(r.stderr).toBe(
      'vireo: a VM name cannot hold control characters, and this one holds U+001B; type the name without it.\n',
    )
    expect(JSON.parse(await vireoOk(dataDir, ['list', '--json']))).toHaveLength(1)
  })

  it("commander's own complaint about an unknown option is escaped", async () => {
    const r = await vireo(dataDir, ['list', '--\x1b[2J'])
    expect(r.code).not.toBe(0)
    expectHarmless(r.stderr)
    expect(r.stderr).toContain("unknown option '--\\x1b[2J'")
  })
})

describe('empty and malformed option values', () => {
  it.each<[string, string[], string]>([
    [
      "--data-dir ''",
      ['--data-dir', '', 'list'],
      'vireo: --data-dir must name a folder, not an empty string.\n',
    ],
    ['--data-dir=', ['--data-dir=', 'list'], 'vireo: --data-dir must name a folder, not an empty string.\n'],
    [
      '--disk-size=',
      ['create', 'sized', '--disk-size='],
      'vireo: --disk-size needs a size such as 20G, not an empty string.\n',
    ],
    [
      '--cpus 0x10',
      ['create', 'hex', '--cpus', '0x10'],
      'vireo: --cpus must be a whole number, not "0x10".\n',
    ],
    [
      '--boot naming a device twice',
      ['modify', id, '--boot', 'disk,disk'],
      'vireo: the boot order names disk twice; name each device once, e.g. disk,cdrom.\n',
    ],
  ])('%s is refused and nothing is made', async (_what, args, stderr) => {
    const r = await vireo(dataDir, args)
    expect(r.code).toBe(1)
    expect(r.stderr).toBe(stderr)
    expect(JSON.parse(await vireoOk(dataDir, ['list', '--json']))).toHaveLength(1)
  })
})
