// Hostile disk images through every CLI path that opens a user's image: each crafted image (backing
// files, data files, VMDK extents and parents naming a planted host secret, protocols, loops,
// damaged headers) must be refused with its sentence by `create --disk` in each mode and by
// `attach disk --image`, and shown without being followed by `inspect`. The secret's bytes and
// access time prove that nothing read it; nothing is written beside the images; the host answers.
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import {
  linkSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, dirname, join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cleanupDataDir, tempDataDir, vireo, vireoOk, type CliResult } from '../support/cli.ts'
import { GUEST_MARKER, requireTestGuest } from '../support/guest.ts'
import { HOSTILE_IMAGES, NAMES_ANOTHER_FILE } from '../support/hostile-images.ts'
import { readSector } from '../support/test-vm.ts'

interface Made {
  name: string
  image: string
  allow: string[]
  refusal: RegExp
}

function errorOf(r: CliResult): { code: string; message: string } {
  const line = r.stderr.trim().split('\n').at(-1) ?? ''
  return (JSON.parse(line) as { error: { code: string; message: string } }).error
}

/** At most `n` CLI calls at once: the host takes them concurrently, this machine has two cores. */
async function inBatches<T>(items: T[], n: number, f: (x: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += n) await Promise.all(items.slice(i, i + n).map(f))
}

describe('hostile disk images', () => {
  let dataDir: string
  let work: string
  let decoy: string
  let decoyHash: string
  let decoyAtime: number
  let made: Made[]
  let before: string[]

  beforeAll(async () => {
    dataDir = tempDataDir()
    work = mkdtempSync(join(tmpdir(), 'vireo-hostile-img-'))
    const secrets = mkdtempSync(join(tmpdir(), 'vireo-secret-'))
    decoy = join(secrets, 'decoy.bin')
    writeFileSync(decoy, Buffer.concat([Buffer.from('VIREO-DECOY-SECRET'), Buffer.alloc(1 << 20, 0x5a)]))
    decoyHash = createHash('sha256').update(readFileSync(decoy)).digest('hex')
    // An access time older than the last change: with relatime, any read of it moves the atime.
    const st = statSync(decoy)
    utimesSync(decoy, new Date(st.mtimeMs - 86_400_000), st.mtime)
    decoyAtime = statSync(decoy).atimeMs
    made = HOSTILE_IMAGES.map((h) => {
      const m = h.make(work, decoy)
      const { image, allow } = typeof m === 'string' ? { image: m, allow: [] } : m
      return { name: h.name, image, allow, refusal: h.refusal }
    })
    before = readdirSync(work).sort()
    await vireoOk(dataDir, ['create', 'holder', '--disk-size', '1M', '--nic', 'none', '--json'])
  })

  afterAll(async () => {
    await cleanupDataDir(dataDir)
    rmSync(work, { recursive: true, force: true })
  })

  const allowArgs = (m: Made) => m.allow.flatMap((f) => ['--allow-backing', f])
  const paths: { how: string; args: (m: Made, i: number) => string[] }[] = [
    { how: 'create --disk', args: (m, i) => ['create', `use-${i}`, '--disk', m.image, ...allowArgs(m)] },
    {
      how: 'create --disk --disk-mode overlay',
      args: (m, i) => ['create', `ovl-${i}`, '--disk', m.image, '--disk-mode', 'overlay', ...allowArgs(m)],
    },
    {
      how: 'create --disk --disk-mode convert',
      args: (m, i) => ['create', `cnv-${i}`, '--disk', m.image, '--disk-mode', 'convert', ...allowArgs(m)],
    },
    {
      how: 'attach disk --image',
      args: (m) => ['attach', 'holder', 'disk', '--image', m.image, ...allowArgs(m)],
    },
  ]

  for (const p of paths) {
    it(`${p.how} refuses each hostile image with its sentence (${HOSTILE_IMAGES.length} images)`, async () => {
      const wrong: string[] = []
      await inBatches([...made.entries()], 4, async ([i, m]) => {
        const r = await vireo(dataDir, [...p.args(m, i), '--json'])
        if (r.code === 0) return void wrong.push(`${m.name}: accepted`)
        const e = errorOf(r)
        if (e.code === 'internal' || !m.refusal.test(e.message) || e.message.includes('\n'))
          wrong.push(`${m.name}: ${e.code}: ${e.message}`)
      })
      expect(wrong).toEqual([])
    })
  }

  it(`inspect shows what each image reads without following it past its folder (${HOSTILE_IMAGES.length} images)`, async () => {
    const wrong: string[] = []
    await inBatches(made, 4, async (m) => {
      const r = await vireo(dataDir, ['inspect', m.image, '--json'])
      // An image that names an outside file is shown, the file listed and left unread; every
      // other refusal is the same sentence as at create.
      if (m.refusal === NAMES_ANOTHER_FILE && m.allow.length === 0) {
        if (r.code !== 0) return void wrong.push(`${m.name}: refused: ${r.stderr}`)
        const i = JSON.parse(r.stdout) as { warnings: string[]; disk: { chain: { path: string }[] } }
        if (!i.warnings.some((w) => w.includes('so Vireo read no further')) || i.disk.chain.length < 2)
          wrong.push(`${m.name}: ${JSON.stringify(i.warnings)}`)
      } else if (r.code === 0) {
        const i = JSON.parse(r.stdout) as { warnings: string[] }
        if (!i.warnings.some((w) => w.includes('so Vireo read no further')))
          wrong.push(`${m.name}: inspected without a word: ${JSON.stringify(i.warnings)}`)
      } else {
        const e = errorOf(r)
        if (e.code === 'internal' || e.message.includes('\n'))
          wrong.push(`${m.name}: ${e.code}: ${e.message}`)
      }
    })
    expect(wrong).toEqual([])
  })

  it('read no byte of the secret, wrote nothing beside the images, and registered no VM', async () => {
    // The access time first: hashing the secret reads it.
    expect(statSync(decoy).atimeMs).toBe(decoyAtime)
    expect(createHash('sha256').update(readFileSync(decoy)).digest('hex')).toBe(decoyHash)
    expect(readdirSync(work).sort()).toEqual(before)
    const list = JSON.parse(await vireoOk(dataDir, ['list', '--json'])) as { name: string }[]
    expect(list.map((v) => v.name)).toEqual(['holder'])
    const holder = JSON.parse(await vireoOk(dataDir, ['info', 'holder', '--json'])) as {
      config: { disks: unknown[] }
    }
    expect(holder.config.disks).toHaveLength(1)
    expect(readdirSync(join(dataDir, 'vms'))).toHaveLength(1)
  })
})

describe('a backing chain the user names', () => {
  let dataDir: string
  let work: string
  let base: string
  let overlay: string
  let decoy: string

  beforeAll(() => {
    dataDir = tempDataDir()
    work = mkdtempSync(join(tmpdir(), 'vireo-chain-'))
    base = join(work, 'base.raw')
    writeFileSync(base, Buffer.concat([Buffer.from('BASE-LNK'), Buffer.alloc((1 << 20) - 8)]))
    overlay = join(mkdtempSync(join(tmpdir(), 'vireo-overlay-')), 'overlay.qcow2')
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', base, '-F', 'raw', overlay])
    decoy = join(work, '..', `${basename(work)}-secret.bin`)
    writeFileSync(decoy, Buffer.from('VIREO-DECOY-SECRET'.repeat(1000)))
  })

  afterAll(async () => {
    await cleanupDataDir(dataDir)
    rmSync(work, { recursive: true, force: true })
    rmSync(dirname(overlay), { recursive: true, force: true })
    rmSync(decoy, { force: true })
  })

  it('is refused unnamed, taken with --allow-backing, opened node by node, and read by the guest', async () => {
    const guest = requireTestGuest()
    const create = [
      'create',
      'chained',
      '--iso',
      guest.iso,
      '--memory',
      '256',
      '--nic',
      'none',
      '--disk',
      overlay,
    ]
    const r = await vireo(dataDir, [...create, '--json'])
    expect(r.code).not.toBe(0)
    expect(errorOf(r).message).toBe(
      `${overlay} names ${base} as its backing file, a file you did not give Vireo; if the image is meant to read it, name it with --allow-backing ${base}`,
    )
    await vireoOk(dataDir, [...create, '--allow-backing', base, '--json'])
    const argv = JSON.parse(await vireoOk(dataDir, ['info', 'chained', '--qemu-argv', '--json'])) as string[]
    const nodes = argv
      .flatMap((a, i) => (a === '-blockdev' ? [JSON.parse(argv[i + 1]!) as Record<string, unknown>] : []))
      .filter((n) => String(n['node-name']).startsWith('disk0'))
    // The backing file is defined inside the top node, down to `backing: null`: QEMU follows no name.
    expect(nodes).toEqual([
      expect.objectContaining({ 'node-name': 'disk0-file', filename: overlay, 'read-only': false }),
      expect.objectContaining({
        'node-name': 'disk0',
        driver: 'qcow2',
        file: 'disk0-file',
        backing: {
          driver: 'raw',
          'node-name': 'disk0-b1',
          file: { driver: 'file', 'node-name': 'disk0-b1-file', filename: base },
        },
      }),
    ])
    await vireoOk(dataDir, ['start', 'chained'])
    await vireoOk(dataDir, ['console', 'chained', '--expect', GUEST_MARKER, '--timeout', '180'], 200_000)
    expect(await readSector(dataDir, 'chained')).toBe('BASE-LNK')
    await vireoOk(dataDir, ['stop', 'chained', '--force'])
  })

  it('is walked again at every start: an overlay swapped to name a secret does not start', async () => {
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-u', '-b', decoy, '-F', 'raw', overlay, '1M'])
    const r = await vireo(dataDir, ['start', 'chained', '--json'])
    expect(r.code).not.toBe(0)
    expect(errorOf(r)).toEqual({
      code: 'invalid_request',
      message: `${overlay} names ${resolve(decoy)} as its backing file, a file you did not give Vireo; if the image is meant to read it, name it with --allow-backing ${resolve(decoy)}`,
    })
    expect(
      (JSON.parse(await vireoOk(dataDir, ['info', 'chained', '--json'])) as { state: string }).state,
    ).toBe('stopped')
  })

  it('is one file however it is named: a symlink or a hard link to a disk in use is refused', async () => {
    const link = join(work, 'same.qcow2')
    symlinkSync(overlay, link)
    const hard = join(dirname(overlay), 'hard.qcow2')
    linkSync(overlay, hard)
    for (const other of [link, hard]) {
      const r = await vireo(dataDir, ['create', `twin-${basename(other)}`, '--disk', other, '--json'])
      expect(errorOf(r)).toEqual({
        code: 'conflict',
        message: `the disk ${other} already belongs to the VM "chained"`,
      })
    }
  })
})
