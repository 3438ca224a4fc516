// Disk maintenance through the CLI on real images: check with a plain report (and a repair of what a
// killed QEMU leaves), grow while running and while stopped, compact, and raw → qcow2.
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DiskCheckResult, VmInfo } from '../../engine/api/rpc.ts'
import { cleanupDataDir, guestSays, tempDataDir, vireo, vireoOk } from '../support/cli.ts'
import { GUEST_MARKER, requireTestGuest } from '../support/guest.ts'

const guest = requireTestGuest()
let dataDir: string
let vm: VmInfo

const virtualSize = (path: string) =>
  (
    JSON.parse(execFileSync('qemu-img', ['info', '-U', '--output=json', path], { encoding: 'utf8' })) as {
      'virtual-size': number
    }
  )['virtual-size']

describe('vireo disk', () => {
  beforeAll(async () => {
    dataDir = tempDataDir()
    vm = JSON.parse(
      await vireoOk(dataDir, [
        'create',
        'box',
        '--iso',
        guest.iso,
        '--memory',
        '256',
        '--disk-size',
        '64M',
        '--json',
      ]),
    ) as VmInfo
  })
  afterAll(async () => {
    await cleanupDataDir(dataDir)
  })

  it('grows a disk while the guest runs, and the guest sees the new size at once', async () => {
    await vireoOk(dataDir, ['start', 'box'])
    await vireoOk(dataDir, ['console', 'box', '--expect', GUEST_MARKER, '--timeout', '120'])
    await guestSays(dataDir, 'box', 'echo SZ-$(cat /sys/block/vda/size)', 'SZ-131072\\r?\\n')
    await vireoOk(dataDir, ['disk', 'resize', 'box', 'disk0', '96M'])
    // 96 MiB in 512-byte sectors.
    await guestSays(dataDir, 'box', 'echo SZ-$(cat /sys/block/vda/size)', 'SZ-196608\\r?\\n')
    const r = await vireo(dataDir, ['disk', 'resize', 'box', 'disk0', '32M'])
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(/only grows disks/)
  })

  it('refuses to check a disk QEMU is writing, then finds and repairs what a killed QEMU left', async () => {
    const busy = await vireo(dataDir, ['disk', 'check', 'box', 'disk0'])
    expect(busy.code).not.toBe(0)
    expect(busy.stderr).toMatch(/"box" is running: shut it down to check its disk "disk0"/)
    // Dirty the image's metadata, then pull the plug on QEMU itself.
    await guestSays(
      dataDir,
      'box',
      'dd if=/dev/urandom of=/dev/vda bs=64k count=200 2>/dev/null; echo W-$((40+2))',
      'W-42',
    )
    const info = JSON.parse(await vireoOk(dataDir, ['info', 'box', '--json'])) as VmInfo
    process.kill(info.runtime!.pid, 'SIGKILL')
    await expect
      .poll(async () => (JSON.parse(await vireoOk(dataDir, ['info', 'box', '--json'])) as VmInfo).state)
      .toBe('stopped')
    const checked = await vireo(dataDir, ['disk', 'check', 'box', 'disk0', '--json'])
    const report = JSON.parse(checked.stdout) as DiskCheckResult
    expect(['clean', 'leaks']).toContain(report.verdict)
    expect(checked.code).toBe(report.verdict === 'clean' ? 0 : 3)
    const repaired = JSON.parse(
      await vireoOk(dataDir, ['disk', 'check', 'box', 'disk0', '--repair', '--json']),
    ) as DiskCheckResult
    expect(repaired.verdict).toBe('clean')
    expect(repaired.leaksFixed).toBe(report.leaks)
  })

  it('grows a stopped disk, compacts it, and turns a raw disk into qcow2', async () => {
    const path = join(vm.dir, 'disks', 'disk0.qcow2')
    await vireoOk(dataDir, ['disk', 'resize', 'box', 'disk0', '128M'])
    expect(virtualSize(path)).toBe(128 * 1024 * 1024)
    await vireoOk(dataDir, ['disk', 'compact', 'box', 'disk0'])
    expect(virtualSize(path)).toBe(128 * 1024 * 1024)

    const raw = join(dataDir, 'data.raw')
    execFileSync('qemu-img', ['create', '-q', '-f', 'raw', raw, '8M'])
    const other = JSON.parse(await vireoOk(dataDir, ['create', 'raw box', '--disk', raw, '--json'])) as VmInfo
    expect(other.config.disks[0]!.format).toBe('raw')
    // Progress events first (NDJSON), the VM last.
    const lines = (await vireoOk(dataDir, ['disk', 'convert', 'raw box', 'disk0', '--json']))
      .trim()
      .split('\n')
    expect(lines.slice(0, -1).every((l) => (JSON.parse(l) as { event: string }).event === 'progress')).toBe(
      true,
    )
    const converted = JSON.parse(lines.at(-1)!) as VmInfo
    expect(converted.config.disks[0]).toMatchObject({ path: join(dataDir, 'data.qcow2'), format: 'qcow2' })
    expect(existsSync(raw)).toBe(false)
    const bad = await vireo(dataDir, ['disk', 'check', 'box', 'nodisk'])
    expect(bad.stderr).toMatch(/"box" has no disk "nodisk" \(its disks: disk0\)/)
  })
})
