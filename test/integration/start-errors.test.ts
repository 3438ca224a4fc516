// QEMU's failures reach the user in plain words, and a failed start leaves the VM as it was.
import { spawn, type ChildProcess } from 'node:child_process'
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { VmInfo } from '../../engine/api/rpc.ts'
import { cleanupDataDir, tempDataDir, vireo, vireoOk } from '../support/cli.ts'
import { requireTestGuest } from '../support/guest.ts'

const guest = requireTestGuest()
let dataDir: string
let holder: ChildProcess | null = null

beforeAll(() => {
  dataDir = tempDataDir()
})
afterAll(async () => {
  holder?.kill('SIGKILL')
  await cleanupDataDir(dataDir)
})

describe('start-up failures', () => {
  it('refuses to give one disk to two VMs', async () => {
    const a = JSON.parse(
      await vireoOk(dataDir, ['create', 'owner', '--disk-size', '32M', '--json']),
    ) as VmInfo
    const disk = join(a.dir, a.config.disks[0]!.path)
    const r = await vireo(dataDir, ['create', 'thief', '--disk', disk])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/already belongs to the VM "owner"/)
  })

  it('says plainly when another program holds the disk, and the VM stays stopped', async () => {
    const disk = join(dataDir, 'shared.qcow2')
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', disk, '32M'])
    await vireoOk(dataDir, ['create', 'locked out', '--disk', disk, '--iso', guest.iso, '--memory', '128'])
    const sock = join(dataDir, 'nbd.sock')
    holder = spawn('qemu-nbd', ['--socket', sock, '--format', 'qcow2', disk], { stdio: 'ignore' })
    for (let i = 0; i < 100 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 50))
    const r = await vireo(dataDir, ['start', 'locked out'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/the disk .*shared\.qcow2 is in use by another VM or program/)
    const vm = JSON.parse(await vireoOk(dataDir, ['info', 'locked out', '--json'])) as VmInfo
    expect(vm.state).toBe('stopped')
    expect(vm.runtime).toBeNull()
    expect(vm.lastError).toMatch(/in use/)
  })

  it('refuses an ISO that disappeared since the VM was made', async () => {
    const iso = join(dataDir, 'gone.iso')
    execFileSync('cp', [guest.iso, iso])
    await vireoOk(dataDir, ['create', 'no disc', '--iso', iso, '--memory', '128'])
    execFileSync('rm', [iso])
    const r = await vireo(dataDir, ['start', 'no disc'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/the ISO image .*gone\.iso no longer exists/)
  })
})
