// The end of an installation, on a real guest: the "installer" (the live test guest) copies its own
// hybrid ISO onto the VM's disk, the disc is ejected, and after a restart the VM boots from its disk.
// On the way: a disc changed while the guest runs is read by the guest at once, an ejected drive
// reads as empty, and disk settings change only while the VM is stopped, with QEMU's refusals said
// in words.
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cleanupDataDir, guestSays, tempDataDir, vireo, vireoOk, vmInfo } from '../support/cli.ts'
import { GUEST_MARKER, requireTestGuest } from '../support/guest.ts'

const guest = requireTestGuest()
let dataDir: string
let otherIso: string

const info = (vm: string) => vmInfo(dataDir, vm)
const argv = async (vm: string) =>
  JSON.parse(await vireoOk(dataDir, ['info', vm, '--qemu-argv', '--json'])) as string[]
/**
 * The volume id of the disc in the guest's drive, read straight from its primary volume descriptor.
 * The first read after a change fails by design (the drive reports the change, as a real one does),
 * so one read goes first to take that news.
 */
const READ_VOLUME_ID =
  'dd if=/dev/sr0 of=/dev/null bs=2048 count=1 2>/dev/null; echo VOL-$(dd if=/dev/sr0 bs=2048 skip=16 count=1 2>/dev/null | dd bs=1 skip=40 count=10 2>/dev/null)-END'

describe('install media and disk settings', () => {
  beforeAll(() => {
    dataDir = tempDataDir()
    const content = join(dataDir, 'media')
    mkdirSync(content)
    writeFileSync(join(content, 'readme.txt'), 'the second disc\n')
    otherIso = join(dataDir, 'second.iso')
    execFileSync('xorriso', ['-as', 'mkisofs', '-quiet', '-V', 'SECONDDISC', '-o', otherIso, content], {
      stdio: 'ignore',
    })
  })
  afterAll(async () => {
    await cleanupDataDir(dataDir)
  })

  it('changes disk settings while stopped and refuses what QEMU would', async () => {
    await vireoOk(dataDir, [
      'create',
      'inst',
      '--iso',
      guest.iso,
      '--memory',
      '256',
      '--disk-size',
      '32M',
      '--nic',
      'none',
    ])
    await vireoOk(dataDir, ['disk', 'set', 'inst', 'disk0', '--cache', 'none', '--iothread', 'on'])
    const d = (await info('inst')).config.disks[0]!
    expect(d).toMatchObject({ bus: 'virtio-blk', cache: 'none', iothread: true })
    expect((await argv('inst')).join(' ')).toMatch(/"driver":"virtio-blk-pci".*"iothread":"disk0-io"/)

    const sataThread = await vireo(dataDir, ['disk', 'set', 'inst', 'disk0', '--bus', 'sata'])
    expect(sataThread.code).not.toBe(0)
    expect(sataThread.stderr).toMatch(/on sata, which cannot use an I\/O thread/)
    const ide = await vireo(dataDir, ['disk', 'set', 'inst', 'disk0', '--bus', 'ide', '--iothread', 'off'])
    expect(ide.stderr).toMatch(/IDE disks need the pc machine type; on q35 choose SATA/)
    // Refused changes left the VM as it was.
    expect((await info('inst')).config.disks[0]).toMatchObject({ bus: 'virtio-blk', iothread: true })
    await vireoOk(dataDir, ['disk', 'set', 'inst', 'disk0', '--iothread', 'off', '--cache', 'writeback'])
  })

  it('changes and ejects the disc of the running guest', async () => {
    await vireoOk(dataDir, ['start', 'inst'])
    await vireoOk(dataDir, ['console', 'inst', '--expect', GUEST_MARKER, '--timeout', '120'])
    const running = await vireo(dataDir, ['disk', 'set', 'inst', 'disk0', '--cache', 'unsafe'])
    expect(running.stderr).toMatch(/"inst" is running: shut it down to change the cache mode of "disk0"/)

    await vireoOk(dataDir, ['attach', 'inst', 'cdrom', '--iso', otherIso])
    await guestSays(dataDir, 'inst', READ_VOLUME_ID, 'VOL-SECONDDISC-END')
    expect((await info('inst')).config.cdroms[0]!.path).toBe(otherIso)

    await vireoOk(dataDir, ['eject', 'inst'])
    await guestSays(dataDir, 'inst', READ_VOLUME_ID, 'VOL--END')
    expect((await info('inst')).config.cdroms[0]!.path).toBeNull()
    expect(await vireoOk(dataDir, ['info', 'inst'])).toMatch(/CD cd0:\s+\(empty\)/)

    const missing = await vireo(dataDir, ['attach', 'inst', 'cdrom', '--iso', join(dataDir, 'nope.iso')])
    expect(missing.stderr).toMatch(/the ISO image \S+nope\.iso does not exist/)
  })

  it('boots from its disk once the installer is done and the disc is out', async () => {
    await vireoOk(dataDir, ['attach', 'inst', 'cdrom', '--iso', guest.iso])
    // The "installer": the live system writes its own hybrid image onto the virtio disk.
    await guestSays(
      dataDir,
      'inst',
      'dd if=/dev/sr0 of=/dev/null count=1 2>/dev/null; dd if=/dev/sr0 of=/dev/vda bs=1M 2>/dev/null && sync && echo COPIED-$((40+2))',
      'COPIED-42',
    )
    await vireoOk(dataDir, ['stop', 'inst', '--force'])
    await vireoOk(dataDir, ['eject', 'inst'])
    expect((await argv('inst')).join(' ')).not.toMatch(/cd0-file/)
    await vireoOk(dataDir, ['start', 'inst'])
    await vireoOk(dataDir, ['console', 'inst', '--expect', GUEST_MARKER, '--timeout', '120'])
    // Booted with no disc at all: the drive is empty, so the system came from the disk.
    await guestSays(dataDir, 'inst', READ_VOLUME_ID, 'VOL--END')
    await vireoOk(dataDir, ['stop', 'inst', '--force'])
  })
})
