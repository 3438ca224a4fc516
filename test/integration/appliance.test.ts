// Export a VM as an OVA and import it back, through the real CLI, real qemu-img and real QEMU: the
// archive is what other hypervisors expect (descriptor first, manifest second, streamOptimized VMDK,
// digests that match), and the imported copy boots the test guest. A hostile OVA changes nothing.
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pack } from 'tar-stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { JobProgress, VmInfo, VmSummary } from '../../engine/api/rpc.ts'
import { cleanupDataDir, tempDataDir, vireo, vireoOk } from '../support/cli.ts'
import { GUEST_MARKER, requireTestGuest } from '../support/guest.ts'

const guest = requireTestGuest()
let dataDir: string
let files: string
let source: VmInfo

/** NDJSON progress events, then the result on the last line. */
function jobOutput<T>(out: string): { progress: (JobProgress & { event: string })[]; result: T } {
  const lines = out.trim().split('\n')
  return {
    progress: lines.slice(0, -1).map((l) => JSON.parse(l) as JobProgress & { event: string }),
    result: JSON.parse(lines.at(-1)!) as T,
  }
}

const vmDirs = () => (existsSync(join(dataDir, 'vms')) ? readdirSync(join(dataDir, 'vms')).sort() : [])

describe('OVA export and import', () => {
  beforeAll(async () => {
    dataDir = tempDataDir()
    files = mkdtempSync(join(tmpdir(), 'vireo-ova-it-'))
    // The ISO is hybrid: as a raw disk it boots like a hard disk, so the VM needs no CD.
    copyFileSync(guest.iso, join(files, 'guest.img'))
    source = JSON.parse(
      await vireoOk(dataDir, [
        'create',
        'appliance source',
        '--disk',
        join(files, 'guest.img'),
        '--memory',
        '256',
        '--nic',
        'e1000',
        '--json',
      ]),
    ) as VmInfo
  })
  afterAll(async () => {
    await cleanupDataDir(dataDir)
    rmSync(files, { recursive: true, force: true })
  })

  it('exports a stopped VM: descriptor, manifest, then a streamOptimized VMDK, digests matching', async () => {
    const ova = join(files, 'out', 'source.ova')
    mkdirSync(join(files, 'out'))
    const { progress, result } = jobOutput<{ path: string; bytes: number }>(
      await vireoOk(dataDir, ['export', 'appliance source', ova, '--json']),
    )
    expect(result.path).toBe(ova)
    expect(result.bytes).toBe(readFileSync(ova).length)
    expect(progress.some((p) => p.phase.startsWith('converting disk0') && p.done === 100)).toBe(true)
    expect(progress.at(-1)).toMatchObject({ phase: 'writing source.ova', unit: 'bytes' })
    // Nothing but the OVA is left beside it.
    expect(readdirSync(join(files, 'out'))).toEqual(['source.ova'])

    const listing = execFileSync('tar', ['-tf', ova], { encoding: 'utf8' }).trim().split('\n')
    expect(listing).toEqual(['appliance_source.ovf', 'appliance_source.mf', 'appliance_source-disk1.vmdk'])
    const unpacked = join(files, 'unpacked')
    mkdirSync(unpacked)
    execFileSync('tar', ['-xf', ova, '-C', unpacked])
    const info = JSON.parse(
      execFileSync('qemu-img', ['info', '--output=json', join(unpacked, 'appliance_source-disk1.vmdk')], {
        encoding: 'utf8',
      }),
    ) as { format: string; 'virtual-size': number; 'format-specific': { data: { 'create-type': string } } }
    expect(info.format).toBe('vmdk')
    expect(info['format-specific'].data['create-type']).toBe('streamOptimized')
    const manifest = readFileSync(join(unpacked, 'appliance_source.mf'), 'utf8').trim().split('\n')
    expect(manifest).toHaveLength(2)
    for (const line of manifest) {
      const m = /^SHA256\((.+)\)= ([0-9a-f]{64})$/.exec(line)
      expect(m, line).not.toBeNull()
      const digest = createHash('sha256')
        .update(readFileSync(join(unpacked, m![1]!)))
        .digest('hex')
      expect(digest).toBe(m![2])
    }
    const ovf = readFileSync(join(unpacked, 'appliance_source.ovf'), 'utf8')
    expect(ovf).toContain('<rasd:HostResource>ovf:/disk/disk0</rasd:HostResource>')
    expect(ovf).toContain(`<rasd:Address>${source.config.nics[0]!.mac}</rasd:Address>`)
    expect(ovf).toContain('<rasd:ResourceSubType>E1000</rasd:ResourceSubType>')

    const again = await vireo(dataDir, ['export', 'appliance source', ova])
    expect(again.code).not.toBe(0)
    expect(again.stderr).toMatch(/already exists; Vireo does not overwrite it/)
  })

  it('imports the OVA under a new name with its hardware, and the copy boots the guest', async () => {
    const ova = join(files, 'out', 'source.ova')
    const { progress, result: vm } = jobOutput<VmInfo>(
      await vireoOk(dataDir, ['import', ova, '--name', 'appliance copy', '--json']),
    )
    expect(progress.some((p) => p.unit === 'bytes' && p.phase === 'unpacking source.ova')).toBe(true)
    expect(progress.some((p) => p.unit === 'percent' && p.done === 100)).toBe(true)
    expect(vm).toMatchObject({ name: 'appliance copy', cpus: source.cpus, memoryMiB: 256, firmware: 'bios' })
    expect(vm.config.disks).toMatchObject([
      { id: 'disk0', path: 'disks/disk0.qcow2', format: 'qcow2', bus: 'virtio-blk' },
    ])
    expect(vm.config.nics).toHaveLength(1)
    expect(vm.config.nics[0]!.model).toBe('e1000')
    // The source VM still holds the appliance's MAC: the copy gets its own.
    expect(vm.config.nics[0]!.mac).not.toBe(source.config.nics[0]!.mac)
    expect(readdirSync(vm.dir).sort()).toEqual(['disks', 'logs', 'vm.json'])

    const taken = await vireo(dataDir, ['import', ova, '--name', 'appliance copy'])
    expect(taken.code).not.toBe(0)
    expect(taken.stderr).toMatch(/a VM named "appliance copy" already exists/)

    await vireoOk(dataDir, ['start', 'appliance copy'])
    try {
      const seen = await vireo(
        dataDir,
        ['console', 'appliance copy', '--expect', GUEST_MARKER, '--timeout', '120'],
        150_000,
      )
      expect(seen.stdout).toContain(GUEST_MARKER)
      const running = await vireo(dataDir, ['export', 'appliance copy', join(files, 'running.ova')])
      expect(running.code).not.toBe(0)
      expect(running.stderr).toMatch(/shut it down to export it/)
      expect(existsSync(join(files, 'running.ova'))).toBe(false)
    } finally {
      await vireoOk(dataDir, ['stop', 'appliance copy', '--force'])
    }
  })

  it('names an import after the appliance, made unique, when no name is given', async () => {
    const out = await vireoOk(dataDir, ['import', join(files, 'out', 'source.ova')])
    expect(out).toMatch(/^Imported "appliance source \(2\)"/)
  })

  it('refuses an OVA with a path-traversal entry: clear error, non-zero exit, library unchanged', async () => {
    const p = pack()
    const chunks: Buffer[] = []
    const done = (async () => {
      for await (const c of p) chunks.push(c as Buffer)
    })()
    const ovf = readFileSync(join(files, 'unpacked', 'appliance_source.ovf'))
    p.entry({ name: 'appliance_source.ovf', size: ovf.length }, ovf)
    p.entry({ name: '../../evil.sh', size: 3 }, Buffer.from('hi\n'))
    p.finalize()
    await done
    const evil = join(files, 'evil.ova')
    writeFileSync(evil, Buffer.concat(chunks))
    const before = JSON.parse(await vireoOk(dataDir, ['list', '--json'])) as VmSummary[]
    const dirsBefore = vmDirs()
    const r = await vireo(dataDir, ['import', evil, '--name', 'evil'])
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(/entry "\.\.\/\.\.\/evil\.sh" climbs out of the archive/)
    expect(JSON.parse(await vireoOk(dataDir, ['list', '--json']))).toEqual(before)
    expect(vmDirs()).toEqual(dirsBefore)
    expect(existsSync(join(files, '..', 'evil.sh'))).toBe(false)
    const json = await vireo(dataDir, ['import', evil, '--json'])
    expect(json.code).not.toBe(0)
    expect(JSON.parse(json.stderr.trim())).toMatchObject({ error: { code: 'invalid_request' } })
  })
})
