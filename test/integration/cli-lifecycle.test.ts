// The engine backbone end to end, through the real CLI, on real QEMU under TCG.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cleanupDataDir, hostPid, tempDataDir, vireo, vireoOk } from '../support/cli.ts'
import { GUEST_MARKER, requireTestGuest } from '../support/guest.ts'
import type { VmInfo, VmSummary } from '../../engine/api/rpc.ts'
import { isAlive } from '../../engine/util/process-alive.ts'

const guest = requireTestGuest()
let dataDir: string
const NAME = 'Test VM, with "quotes" and commas'

async function state(name: string): Promise<string | undefined> {
  const vms = JSON.parse(await vireoOk(dataDir, ['list', '--json'])) as VmSummary[]
  return vms.find((v) => v.name === name)?.state
}

describe('a guest booted from ISO through the CLI', () => {
  beforeAll(() => {
    dataDir = tempDataDir()
  })
  afterAll(async () => {
    await cleanupDataDir(dataDir)
  })

  it('creates the VM, starts it, and sees the marker on the serial console', async () => {
    const created = JSON.parse(
      await vireoOk(dataDir, [
        'create',
        NAME,
        '--iso',
        guest.iso,
        '--memory',
        '256',
        '--disk-size',
        '64M',
        '--json',
      ]),
    ) as VmInfo
    expect(created.name).toBe(NAME)
    expect(created.state).toBe('stopped')
    await vireoOk(dataDir, ['start', NAME])
    const r = await vireo(dataDir, ['console', NAME, '--expect', GUEST_MARKER, '--timeout', '120'])
    expect(r.stdout).toContain(GUEST_MARKER)
    expect(r.code).toBe(0)
    expect(await state(NAME)).toBe('running')
  })

  it('runs a command typed on the serial console, and sees a virtio disk and NIC inside the guest', async () => {
    const cmd =
      "echo \"RESULT=$((6*7)) BLK=$(ls /sys/block | tr '\\n' ' ') NET=$(basename $(readlink /sys/class/net/eth0/device/driver))\"\n"
    const r = await vireo(dataDir, [
      'console',
      NAME,
      '--send',
      cmd,
      '--expect',
      'RESULT=42 BLK=.*NET=\\w+\\r?\\n',
      '--timeout',
      '30',
    ])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/RESULT=42 BLK=.*vda.* NET=virtio_net/)
  })

  it('exports the exact QEMU command line', async () => {
    const line = await vireoOk(dataDir, ['info', NAME, '--qemu-argv'])
    expect(line).toMatch(/^\S*qemu-system-x86_64 /)
    const argv = JSON.parse(await vireoOk(dataDir, ['info', NAME, '--qemu-argv', '--json'])) as string[]
    expect(argv.some((a) => a.includes('virtio-blk-pci'))).toBe(true)
  })

  it('pauses and resumes', async () => {
    await vireoOk(dataDir, ['pause', NAME])
    expect(await state(NAME)).toBe('paused')
    await vireoOk(dataDir, ['resume', NAME])
    expect(await state(NAME)).toBe('running')
    const r = await vireo(dataDir, [
      'console',
      NAME,
      '--send',
      'echo ALIVE-$((1+1))\n',
      '--expect',
      'ALIVE-2',
    ])
    expect(r.code).toBe(0)
  })

  it('takes a screenshot as PNG', async () => {
    const file = join(dataDir, 'shot.png')
    await vireoOk(dataDir, ['screenshot', NAME, file])
    const png = readFileSync(file)
    expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a')
    expect(png.readUInt32BE(16)).toBeGreaterThan(100)
  })

  it('re-attaches after the engine is killed: same QEMU pid, output printed in between is kept', async () => {
    const before = JSON.parse(await vireoOk(dataDir, ['info', NAME, '--json'])) as VmInfo
    const qemuPid = before.runtime?.pid
    expect(qemuPid).toBeTypeOf('number')
    await vireoOk(dataDir, ['console', NAME, '--send', '(sleep 3; echo WHILE-NO-ENGINE-$((5*5))) &\n'])
    const host = hostPid(dataDir)
    process.kill(host, 'SIGKILL')
    while (isAlive(host)) await new Promise((r) => setTimeout(r, 50))
    await new Promise((r) => setTimeout(r, 5000))
    expect(isAlive(qemuPid!)).toBe(true)
    // The next command starts a new background host, which adopts the running QEMU.
    const after = JSON.parse(await vireoOk(dataDir, ['info', NAME, '--json'])) as VmInfo
    expect(hostPid(dataDir)).not.toBe(host)
    expect(after.state).toBe('running')
    expect(after.runtime?.pid).toBe(qemuPid)
    const r = await vireo(dataDir, ['console', NAME, '--expect', 'WHILE-NO-ENGINE-25', '--timeout', '10'])
    expect(r.code).toBe(0)
    const again = await vireo(dataDir, [
      'console',
      NAME,
      '--send',
      'echo STILL-$((2*21))\n',
      '--expect',
      'STILL-42',
    ])
    expect(again.code).toBe(0)
  })

  it('shuts down through ACPI: the guest powers itself off', async () => {
    const out = await vireoOk(dataDir, ['stop', NAME, '--timeout', '60', '--json'])
    const vm = JSON.parse(out) as VmInfo
    expect(vm.state).toBe('stopped')
    expect(vm.lastExit?.kind).toBe('guest')
    expect(existsSync(join(vm.dir, 'runtime.json'))).toBe(false)
  })

  it('powers off at once with --force', async () => {
    await vireoOk(dataDir, ['start', NAME])
    const vm = JSON.parse(await vireoOk(dataDir, ['stop', NAME, '--force', '--json'])) as VmInfo
    expect(vm.state).toBe('stopped')
    expect(vm.lastExit?.kind).toBe('host')
  })

  it('refuses a missing ISO with a clear error and leaves nothing behind', async () => {
    const r = await vireo(dataDir, ['create', 'broken', '--iso', '/nonexistent/disc.iso'])
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(/ISO image \/nonexistent\/disc\.iso does not exist/)
    const vms = JSON.parse(await vireoOk(dataDir, ['list', '--json'])) as VmSummary[]
    expect(vms.map((v) => v.name)).toEqual([NAME])
    const j = await vireo(dataDir, ['info', 'nope', '--json'])
    expect(j.code).toBe(1)
    expect(JSON.parse(j.stderr)).toEqual({
      error: { code: 'not_found', message: 'there is no VM named "nope"' },
    })
  })

  it('deletes the VM', async () => {
    await vireoOk(dataDir, ['delete', NAME, '--yes'])
    expect(JSON.parse(await vireoOk(dataDir, ['list', '--json']))).toEqual([])
  })
})
