// A network card's settings through the CLI on a real guest: a NAT port forward reaching a service
// in the guest from the host's loopback, the cable pulled and plugged while it runs, and the
// changes QEMU would refuse (or that need the VM stopped) refused in words.
import { connect, createServer, type AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { VmInfo } from '../../engine/api/rpc.ts'
import { cleanupDataDir, guestSays, tempDataDir, vireo, vireoOk } from '../support/cli.ts'
import { GUEST_MARKER, requireTestGuest } from '../support/guest.ts'

const guest = requireTestGuest()
let dataDir: string

function freePort(): Promise<number> {
  return new Promise((r) => {
    const s = createServer()
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as AddressInfo).port
      s.close(() => r(port))
    })
  })
}

function readFrom(port: number): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const sock = connect(port, '127.0.0.1')
    let text = ''
    sock.setEncoding('utf8')
    sock.on('data', (d: string) => (text += d))
    sock.on('end', () => resolvePromise(text))
    sock.on('error', reject)
    sock.setTimeout(20_000, () => sock.destroy(new Error('no answer from the guest')))
  })
}

describe('vireo nic', () => {
  beforeAll(() => {
    dataDir = tempDataDir()
  })
  afterAll(async () => {
    await cleanupDataDir(dataDir)
  })

  it('forwards a loopback port to a service in the guest', async () => {
    const port = await freePort()
    await vireoOk(dataDir, ['create', 'web', '--iso', guest.iso, '--memory', '256', '--nic', 'virtio-net'])
    const vm = JSON.parse(
      await vireoOk(dataDir, ['nic', 'web', 'net0', '--forward', `${port}:8080`, '--json']),
    ) as VmInfo
    expect(vm.config.nics[0]!.network).toEqual({
      mode: 'nat',
      portForwards: [{ protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: port, guestPort: 8080 }],
    })
    expect(await vireoOk(dataDir, ['info', 'web'])).toContain(`tcp 127.0.0.1:${port} → 8080`)
    await vireoOk(dataDir, ['start', 'web'])
    await vireoOk(dataDir, ['console', 'web', '--expect', GUEST_MARKER, '--timeout', '120'])
    await guestSays(
      dataDir,
      'web',
      'i=0; while ! ip -4 addr show eth0 | grep -q inet && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done; echo UP-$((40+2))',
      'UP-42',
    )
    // A listener that answers every connection: the first may come before nc listens (QEMU accepts
    // on the host at once and finds nobody in the guest yet).
    await guestSays(
      dataDir,
      'web',
      '(while :; do echo FROM-THE-GUEST | nc -l -p 8080; done >/dev/null 2>&1 &); echo LISTEN-$((40+2))',
      'LISTEN-42',
    )
    await expect
      .poll(() => readFrom(port).catch(() => ''), { timeout: 30_000, interval: 500 })
      .toContain('FROM-THE-GUEST')
  })

  it('pulls and plugs the cable of the running guest', async () => {
    await vireoOk(dataDir, ['nic', 'web', 'net0', '--link', 'down'])
    await guestSays(dataDir, 'web', 'echo CARRIER-$(cat /sys/class/net/eth0/carrier)-X', 'CARRIER-0-X')
    await vireoOk(dataDir, ['nic', 'web', 'net0', '--link', 'up'])
    await guestSays(dataDir, 'web', 'echo CARRIER-$(cat /sys/class/net/eth0/carrier)-X', 'CARRIER-1-X')
  })

  it('refuses what needs the VM stopped, a host port forwarded twice, and a taken MAC', async () => {
    const running = await vireo(dataDir, ['nic', 'web', 'net0', '--model', 'e1000'])
    expect(running.stderr).toMatch(/"web" is running: shut it down to change the model of "net0"/)
    await vireoOk(dataDir, ['stop', 'web', '--force'])
    const twice = await vireo(dataDir, ['nic', 'web', 'net0', '--forward', '7000:1', '--forward', '7000:2'])
    expect(twice.stderr).toMatch(
      /port forwards tcp 127\.0\.0\.1:7000 → 1 and tcp 127\.0\.0\.1:7000 → 2 both want tcp port 7000 on the host/,
    )
    const mac = (JSON.parse(await vireoOk(dataDir, ['info', 'web', '--json'])) as VmInfo).config.nics[0]!.mac
    await vireoOk(dataDir, ['create', 'other'])
    const taken = await vireo(dataDir, ['nic', 'other', 'net0', '--mac', mac])
    expect(taken.stderr).toMatch(new RegExp(`${mac} is already used by "web"`))
    const bad = await vireo(dataDir, ['nic', 'web', 'net0', '--forward', 'ssh'])
    expect(bad.stderr).toMatch(/is not \[tcp\|udp:\]/)
  })

  it('starts a VM whose cable is unplugged with the cable unplugged', async () => {
    await vireoOk(dataDir, ['nic', 'web', 'net0', '--link', 'down'])
    await vireoOk(dataDir, ['start', 'web'])
    await vireoOk(dataDir, ['console', 'web', '--expect', GUEST_MARKER, '--timeout', '120'])
    await guestSays(dataDir, 'web', 'echo CARRIER-$(cat /sys/class/net/eth0/carrier)-X', 'CARRIER-0-X')
  })
})
