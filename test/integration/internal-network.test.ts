// Internal networks on real guests: two VMs on "lab" reach each other, a third on "other" with an
// address in the same subnet reaches neither, and after the background host is killed the next
// host re-plugs every card into its switch, so lab's guests still reach each other.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { VmInfo } from '../../engine/api/rpc.ts'
import { isAlive } from '../../engine/host/process-alive.ts'
import { cleanupDataDir, guestSays, hostPid, tempDataDir, vireo, vireoOk } from '../support/cli.ts'
import { GUEST_MARKER, requireTestGuest } from '../support/guest.ts'

const guest = requireTestGuest()
let dataDir: string

const VMS = [
  { name: 'lab-1', network: 'internal:lab', address: '10.9.0.1' },
  { name: 'lab-2', network: 'internal:lab', address: '10.9.0.2' },
  { name: 'other', network: 'internal:other', address: '10.9.0.3' },
] as const

/** busybox ping: 0 when any reply came back before the deadline. */
async function pings(from: string, to: string, deadlineSec: number): Promise<boolean> {
  const out = await guestSays(
    dataDir,
    from,
    `ping -c 2 -w ${deadlineSec} ${to} >/dev/null 2>&1 && echo PING-OK-$((40+2)) || echo PING-NO-$((40+2))`,
    'PING-(OK|NO)-42',
  )
  return /PING-OK-42/.test(out)
}

async function qemuPid(name: string): Promise<number | undefined> {
  return (JSON.parse(await vireoOk(dataDir, ['info', name, '--json'])) as VmInfo).runtime?.pid
}

describe('internal networks', () => {
  beforeAll(() => {
    dataDir = tempDataDir()
  })
  afterAll(async () => {
    await cleanupDataDir(dataDir)
  })

  it('puts cards on named internal networks, and refuses port forwards there', async () => {
    for (const vm of VMS) {
      await vireoOk(dataDir, [
        'create',
        vm.name,
        '--iso',
        guest.iso,
        '--memory',
        '256',
        '--nic',
        'virtio-net',
      ])
      await vireoOk(dataDir, ['nic', vm.name, 'net0', '--network', vm.network])
    }
    const info = JSON.parse(await vireoOk(dataDir, ['info', 'lab-1', '--json'])) as VmInfo
    expect(info.config.nics[0]!.network).toEqual({ mode: 'internal', name: 'lab' })
    expect(await vireoOk(dataDir, ['info', 'other'])).toMatch(
      /NIC net0: +virtio-net, [0-9a-f:]{17}, internal:other$/m,
    )

    const withForward = await vireo(dataDir, [
      'nic',
      'lab-1',
      'net0',
      '--network',
      'internal:lab',
      '--forward',
      '2222:22',
    ])
    expect(withForward.code).not.toBe(0)
    expect(withForward.stderr).toMatch(
      /"net0" is on the internal network "lab", which the host cannot reach; port forwards need --network nat/,
    )
    const forwardOnly = await vireo(dataDir, ['nic', 'lab-1', 'net0', '--forward', '2222:22'])
    expect(forwardOnly.stderr).toMatch(/port forwards need --network nat/)
    const badName = await vireo(dataDir, ['nic', 'lab-1', 'net0', '--network', 'internal:no spaces'])
    expect(badName.stderr).toMatch(/"no spaces" is not a network name/)
    // Nothing refused was written.
    const still = JSON.parse(await vireoOk(dataDir, ['info', 'lab-1', '--json'])) as VmInfo
    expect(still.config.nics[0]!.network).toEqual({ mode: 'internal', name: 'lab' })
  })

  it('lets the guests on one network reach each other, and nobody else', async () => {
    for (const vm of VMS) await vireoOk(dataDir, ['start', vm.name])
    await Promise.all(
      VMS.map((vm) =>
        vireoOk(dataDir, ['console', vm.name, '--expect', GUEST_MARKER, '--timeout', '120'], 130_000),
      ),
    )
    for (const vm of VMS) {
      // udhcpc (started at boot) would flush a static address when it gives up: stop it first.
      await guestSays(
        dataDir,
        vm.name,
        `killall udhcpc 2>/dev/null; ip addr flush dev eth0; ip addr add ${vm.address}/24 dev eth0; ip link set eth0 up; echo ADDR-$((40+2))`,
        'ADDR-42',
      )
    }
    expect(await pings('lab-1', '10.9.0.2', 20)).toBe(true)
    expect(await pings('lab-2', '10.9.0.1', 20)).toBe(true)
    expect(await pings('other', '10.9.0.1', 4)).toBe(false)
    expect(await pings('lab-1', '10.9.0.3', 4)).toBe(false)
  })

  it('heals after the host is killed: the next host re-plugs the cards', async () => {
    const pids = await Promise.all(VMS.map((vm) => qemuPid(vm.name)))
    const host = hostPid(dataDir)
    process.kill(host, 'SIGKILL')
    await expect.poll(() => isAlive(host), { timeout: 10_000, interval: 50 }).toBe(false)
    // Forget what was learned: the new switch must learn the guests' addresses from scratch.
    await guestSays(dataDir, 'lab-2', 'ip neigh flush dev eth0; echo FLUSHED-$((40+2))', 'FLUSHED-42')
    // The command above started a new host; it re-attached every QEMU as it was.
    expect(hostPid(dataDir)).not.toBe(host)
    expect(await Promise.all(VMS.map((vm) => qemuPid(vm.name)))).toEqual(pids)
    await expect.poll(() => pings('lab-2', '10.9.0.1', 10), { timeout: 60_000, interval: 1_000 }).toBe(true)
    expect(await pings('lab-1', '10.9.0.2', 10)).toBe(true)
    expect(await pings('other', '10.9.0.2', 4)).toBe(false)
  })
})
