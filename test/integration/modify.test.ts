// Changing a VM's settings: hardware while it is stopped (and QEMU then runs with it), the name at any
// time, and hardware changes refused with a reason while it runs.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { VmInfo } from '../../engine/api/rpc.ts'
import { cleanupDataDir, tempDataDir, vireo, vireoOk, vmInfo } from '../support/cli.ts'
import { GUEST_MARKER, requireTestGuest } from '../support/guest.ts'

const guest = requireTestGuest()
let dataDir: string

const info = (name: string) => vmInfo(dataDir, name)

describe('vireo modify', () => {
  beforeAll(() => {
    dataDir = tempDataDir()
  })
  afterAll(async () => {
    await cleanupDataDir(dataDir)
  })

  it('changes CPUs, memory and boot order of a stopped VM, and QEMU runs with them', async () => {
    await vireoOk(dataDir, ['create', 'web', '--iso', guest.iso, '--memory', '256'])
    const vm = JSON.parse(
      await vireoOk(dataDir, [
        'modify',
        'web',
        '--cpus',
        '2',
        '--memory',
        '320',
        '--boot',
        'cdrom,disk',
        '--json',
      ]),
    ) as VmInfo
    expect(vm.config).toMatchObject({ cpus: 2, memoryMiB: 320, bootOrder: ['cdrom', 'disk'] })
    // Persisted: a new host reads the same from vm.json.
    await vireoOk(dataDir, ['host', 'stop'])
    expect((await info('web')).config).toMatchObject({ cpus: 2, memoryMiB: 320 })
    const argv = JSON.parse(await vireoOk(dataDir, ['info', 'web', '--qemu-argv', '--json'])) as string[]
    expect(argv[argv.indexOf('-m') + 1]).toBe('320M')
    expect(argv[argv.indexOf('-smp') + 1]).toMatch(/^cpus=2,/)
    await vireoOk(dataDir, ['start', 'web'])
    // Typed too early, the keys would go to GRUB, which reads the serial port too.
    await vireoOk(dataDir, ['console', 'web', '--expect', GUEST_MARKER, '--timeout', '120'])
    const r = await vireo(dataDir, [
      'console',
      'web',
      '--send',
      'grep -c ^processor /proc/cpuinfo\n',
      '--expect',
      '\\n2\\r?\\n',
      '--timeout',
      '90',
    ])
    expect(r.code).toBe(0)
  })

  it('refuses hardware changes while the VM runs, and renames it all the same', async () => {
    const r = await vireo(dataDir, ['modify', 'web', '--memory', '512'])
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(/"web" is running: shut it down to change its memory/)
    await vireoOk(dataDir, ['modify', 'web', '--name', 'web, renamed'])
    expect((await info('web, renamed')).state).toBe('running')
    await vireoOk(dataDir, ['stop', 'web, renamed', '--force'])
  })

  it('switches a VM to UEFI with a fresh variable store, and refuses a taken name', async () => {
    const vm = JSON.parse(
      await vireoOk(dataDir, ['modify', 'web, renamed', '--firmware', 'uefi', '--memory', '512', '--json']),
    ) as VmInfo
    expect(vm.config.firmware).toBe('uefi')
    expect(existsSync(join(vm.dir, 'nvram.qcow2'))).toBe(true)
    await vireoOk(dataDir, ['create', 'other'])
    const r = await vireo(dataDir, ['modify', 'other', '--name', 'web, renamed'])
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(/web, renamed/)
  })
})
