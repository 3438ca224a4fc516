// Emulated devices as the guest sees them: an e1000 card and a SATA (AHCI) disk, found in /sys by
// their drivers (the virtio counterparts are checked in cli-lifecycle.test.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cleanupDataDir, tempDataDir, vireo, vireoOk } from '../support/cli.ts'
import { GUEST_MARKER, requireTestGuest } from '../support/guest.ts'

const guest = requireTestGuest()
let dataDir: string

describe('emulated NIC and disk', () => {
  beforeAll(() => {
    dataDir = tempDataDir()
  })
  afterAll(async () => {
    await cleanupDataDir(dataDir)
  })

  it('shows an e1000 card and a SATA disk to the guest', async () => {
    await vireoOk(dataDir, [
      'create',
      'legacy',
      '--iso',
      guest.iso,
      '--memory',
      '256',
      '--nic',
      'e1000',
      '--disk-size',
      '32M',
      '--disk-bus',
      'sata',
    ])
    await vireoOk(dataDir, ['start', 'legacy'])
    await vireoOk(dataDir, ['console', 'legacy', '--expect', GUEST_MARKER, '--timeout', '120'])
    const r = await vireo(dataDir, [
      'console',
      'legacy',
      '--send',
      'echo "NET=$(basename $(readlink /sys/class/net/eth0/device/driver)) DISK=$(readlink -f /sys/block/sda) SIZE=$(cat /sys/block/sda/size)"\n',
      '--expect',
      'NET=\\S+ DISK=\\S* SIZE=\\d+\\r?\\n',
      '--timeout',
      '60',
    ])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/NET=e1000 /)
    // The disk hangs off an ATA port of the AHCI controller, not off virtio.
    expect(r.stdout).toMatch(/DISK=\S*\/ata\d+\/\S*\/block\/sda /)
    // 32 MiB in 512-byte sectors: the SATA disk is the one Vireo created.
    expect(r.stdout).toMatch(/SIZE=65536/)
    expect(r.stdout).not.toMatch(/NET=virtio/)
  })
})
