// A VM from a disk image the user already has, in each way Vireo takes one: used in place, behind a
// qcow2 overlay, or converted. The test guest's ISO is a hybrid image that also boots as a hard disk,
// so every format made from it must reach the guest's marker.
import { execFileSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { JobProgress, VmInfo } from '../../engine/api/rpc.ts'
import { cleanupDataDir, tempDataDir, vireo, vireoOk } from '../support/cli.ts'
import { GUEST_MARKER, requireTestGuest } from '../support/guest.ts'

const guest = requireTestGuest()
let dataDir: string
let images: string

function qemuImg(args: string[]): string {
  return execFileSync('qemu-img', args, { encoding: 'utf8' })
}

async function bootsToMarker(name: string): Promise<void> {
  await vireoOk(dataDir, ['start', name])
  const r = await vireo(dataDir, ['console', name, '--expect', GUEST_MARKER, '--timeout', '120'])
  expect(r.stdout).toContain(GUEST_MARKER)
  await vireoOk(dataDir, ['stop', name, '--force'])
}

describe('creating a VM from an existing disk image', () => {
  beforeAll(() => {
    dataDir = tempDataDir()
    images = mkdtempSync(join(tmpdir(), 'vireo-images-'))
    // The guest carries no CD here: whatever boots comes from the disk.
    copyFileSync(guest.iso, join(images, 'guest.raw'))
    qemuImg(['convert', '-O', 'qcow2', guest.iso, join(images, 'guest.qcow2')])
    qemuImg(['convert', '-O', 'vmdk', guest.iso, join(images, 'guest.vmdk')])
    qemuImg(['convert', '-O', 'vdi', guest.iso, join(images, 'guest.vdi')])
  })
  afterAll(async () => {
    await cleanupDataDir(dataDir)
    rmSync(images, { recursive: true, force: true })
  })

  it('uses a qcow2 and a raw image in place, and both boot', async () => {
    for (const file of ['guest.qcow2', 'guest.raw']) {
      const vm = JSON.parse(
        await vireoOk(dataDir, ['create', file, '--disk', join(images, file), '--memory', '256', '--json']),
      ) as VmInfo
      expect(vm.config.disks[0]!.path).toBe(join(images, file))
      expect(vm.config.disks[0]!.format).toBe(file.endsWith('.raw') ? 'raw' : 'qcow2')
      await bootsToMarker(file)
    }
  })

  it('converts a vmdk into the VM folder, streaming progress as NDJSON, and it boots', async () => {
    const out = await vireoOk(dataDir, [
      'create',
      'from vmdk',
      '--disk',
      join(images, 'guest.vmdk'),
      '--memory',
      '256',
      '--json',
    ])
    const lines = out.trim().split('\n')
    const progress = lines.slice(0, -1).map((l) => JSON.parse(l) as { event: string } & JobProgress)
    expect(progress.length).toBeGreaterThan(0)
    expect(progress.every((p) => p.event === 'progress' && p.unit === 'percent')).toBe(true)
    expect(progress.at(-1)!.done).toBe(100)
    const vm = JSON.parse(lines.at(-1)!) as VmInfo
    expect(vm.config.disks[0]).toMatchObject({ path: 'disks/disk0.qcow2', format: 'qcow2' })
    const converted = join(vm.dir, 'disks', 'disk0.qcow2')
    expect(qemuImg(['compare', '-f', 'vmdk', '-F', 'qcow2', join(images, 'guest.vmdk'), converted])).toMatch(
      /identical/,
    )
    // No partial file is left beside it.
    expect(readdirSync(join(vm.dir, 'disks'))).toEqual(['disk0.qcow2'])
    await bootsToMarker('from vmdk')
  })

  it('puts a qcow2 overlay on a vdi, boots it, and never writes the vdi', async () => {
    const vdi = join(images, 'guest.vdi')
    const before = statSync(vdi).mtimeMs
    const vm = JSON.parse(
      await vireoOk(dataDir, ['create', 'over vdi', '--disk', vdi, '--disk-mode', 'overlay', '--json']),
    ) as VmInfo
    const overlay = JSON.parse(
      qemuImg(['info', '--output=json', join(vm.dir, 'disks', 'disk0.qcow2')]),
    ) as Record<string, unknown>
    expect(overlay['backing-filename']).toBe(vdi)
    expect(overlay['backing-filename-format']).toBe('vdi')
    await bootsToMarker('over vdi')
    expect(statSync(vdi).mtimeMs).toBe(before)
  })

  it('refuses a broken image, a foreign format in place, and a file that is not a disk, leaving nothing', async () => {
    const broken = join(images, 'broken.qcow2')
    copyFileSync(join(images, 'guest.qcow2'), broken)
    // The magic survives; the version, backing file offset and cluster bits after it do not.
    const header = Buffer.concat([Buffer.from('QFI\xfb', 'latin1'), Buffer.alloc(16), Buffer.alloc(4, 0xff)])
    writeFileSync(broken, header, { flag: 'r+' })
    const text = join(images, 'notes.txt')
    writeFileSync(text, 'not a disk\n')
    const vmDirs = () => (existsSync(join(dataDir, 'vms')) ? readdirSync(join(dataDir, 'vms')) : [])
    const before = vmDirs()
    const imagesBefore = readdirSync(images)
    const cases: [string[], RegExp][] = [
      [['--disk', broken], /starts like a qcow2 image, but its header is broken/],
      [
        ['--disk', join(images, 'guest.vmdk'), '--disk-mode', 'use'],
        /vmdk image, which Vireo does not run in place/,
      ],
      [['--disk', text], /too small to be a disk/],
    ]
    for (const [args, message] of cases) {
      const r = await vireo(dataDir, ['create', 'bad', ...args])
      expect(r.code).not.toBe(0)
      expect(r.stderr).toMatch(message)
    }
    expect(vmDirs()).toEqual(before)
    expect(readdirSync(images)).toEqual(imagesBefore)
  })
})
