// Internal networks on real guests: two VMs on "lab" reach each other, a third on "other" with an
// address in the same subnet reaches neither, and after the background host is killed the next
// host re-plugs every card into its switch, so lab's guests still reach each other. Then lab gets
// DHCP from the engine, and the guests' own udhcpc leases addresses they reach each other on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { VmInfo } from '../../engine/api/rpc.ts'
import { isAlive } from '../../engine/util/process-alive.ts'
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

  it('leases addresses on an internal network with DHCP, and the guests reach each other', async () => {
    for (const vm of VMS) await vireoOk(dataDir, ['stop', vm.name, '--force'])
    await vireoOk(dataDir, ['nic', 'lab-1', 'net0', '--dhcp', '10.9.0.0/24'])
    await vireoOk(dataDir, ['nic', 'lab-2', 'net0', '--network', 'internal:lab', '--dhcp', '10.9.0.0/24'])
    expect(await vireoOk(dataDir, ['info', 'lab-1'])).toMatch(/internal:lab \(DHCP 10\.9\.0\.0\/24\)$/m)
    const onNat = await vireo(dataDir, ['nic', 'other', 'net0', '--network', 'nat', '--dhcp', '10.9.0.0/24'])
    expect(onNat.stderr).toMatch(/DHCP is served on internal networks, and the card "net0" is on NAT/)
    const notNetwork = await vireo(dataDir, ['nic', 'lab-1', 'net0', '--dhcp', '10.9.0.7/24'])
    expect(notNetwork.stderr).toMatch(/host bits zero/)

    await vireoOk(dataDir, ['start', 'lab-1'])
    await vireoOk(dataDir, ['start', 'lab-2'])
    // A third card asking the same network for another subnet is refused before QEMU starts.
    await vireoOk(dataDir, ['nic', 'other', 'net0', '--network', 'internal:lab', '--dhcp', '10.8.0.0/24'])
    const conflict = await vireo(dataDir, ['start', 'other'])
    expect(conflict.code).not.toBe(0)
    expect(conflict.stderr).toMatch(
      /"lab" already leases addresses from 10\.9\.0\.0\/24, not 10\.8\.0\.0\/24/,
    )

    const leases: string[] = []
    for (const name of ['lab-1', 'lab-2']) {
      await vireoOk(dataDir, ['console', name, '--expect', GUEST_MARKER, '--timeout', '120'], 130_000)
      // udhcpc started at boot; its lease lands on eth0.
      const out = await guestSays(
        dataDir,
        name,
        "i=0; while ! ip -4 addr show eth0 | grep -q inet && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done; ip -4 addr show eth0 | sed -n 's/.*inet \\([0-9.]*\\).*/LEASE=\\1=/p'; echo DONE-$((40+2))",
        'DONE-42',
      )
      const m = /LEASE=(10\.9\.0\.\d+)=/.exec(out)
      expect(m, `no lease in ${name}: ${out.slice(-300)}`).not.toBeNull()
      leases.push(m![1]!)
    }
    expect(leases[0]).not.toBe(leases[1])
    expect(leases).not.toContain('10.9.0.1')
    expect(await pings('lab-1', leases[1]!, 20)).toBe(true)
    expect(await pings('lab-2', leases[0]!, 20)).toBe(true)
  })
})
