// Paravirtual against emulated, same guest, same run: disk throughput inside the guest for
// virtio-blk against SATA (AHCI), and network throughput from the guest to the host for virtio-net
// against e1000 and rtl8139. The guest measures the disk itself (busybox dd, O_DIRECT so neither the
// guest's page cache nor a short burst flatters a device); the host measures the network, counting
// the bytes a loopback listener receives through the VM's NAT.
import { createServer, type AddressInfo } from 'node:net'
import { cleanupDataDir, tempDataDir, vireo, vireoOk } from '../test/support/cli.ts'
import { GUEST_MARKER, requireTestGuest } from '../test/support/guest.ts'

const DISK_MIB = 96
const NET_MIB = 48

interface DiskFigures {
  bus: string
  writeMBps: number
  readMBps: number
}
interface NetFigures {
  model: string
  sendMBps: number
}

// Markers are computed by the guest's shell ($((40+2))), so the echo of the typed line never matches.
const DONE = 'DD-42-DONE'

async function consoleRun(dataDir: string, vm: string, command: string, expect: string, timeout = 300) {
  const r = await vireo(
    dataDir,
    ['console', vm, '--send', `${command}\n`, '--expect', expect, '--timeout', String(timeout)],
    (timeout + 30) * 1000,
  )
  if (r.code !== 0)
    throw new Error(`"${command}" in ${vm} did not finish: ${r.stderr}${r.stdout.slice(-400)}`)
  return r.stdout
}

/**
 * Debian's busybox dd prints no rate, so the guest times it with /proc/uptime (10 ms resolution
 * against runs of seconds) and prints `DD-T=<start>,<end>`.
 */
function timed(command: string): string {
  return `a=$(cut -d' ' -f1 /proc/uptime); ${command}; b=$(cut -d' ' -f1 /proc/uptime); echo "DD-T=$a,$b"; echo DD-$((40+2))-DONE`
}

function ddRate(out: string, bytes: number): number {
  const m = /DD-T=([\d.]+),([\d.]+)/.exec(out)
  if (!m) throw new Error(`no timing in: ${out.slice(-300)}`)
  return bytes / (Number(m[2]) - Number(m[1])) / 1e6
}

async function boot(dataDir: string, name: string, args: string[]): Promise<void> {
  const guest = requireTestGuest()
  await vireoOk(dataDir, ['create', name, '--iso', guest.iso, '--memory', '256', ...args])
  await vireoOk(dataDir, ['start', name])
  await consoleRun(dataDir, name, '', GUEST_MARKER, 180)
}

async function diskRound(dataDir: string, bus: 'virtio-blk' | 'sata'): Promise<DiskFigures> {
  const name = `disk-${bus}`
  await boot(dataDir, name, ['--disk-size', `${DISK_MIB + 32}M`, '--disk-bus', bus, '--nic', 'none'])
  try {
    const dev = bus === 'virtio-blk' ? '/dev/vda' : '/dev/sda'
    // The first write allocates the qcow2's clusters; measure the second, as a guest's steady state.
    const dd = (dir: 'w' | 'r') =>
      timed(
        dir === 'w'
          ? `dd if=/dev/zero of=${dev} bs=1M count=${DISK_MIB} oflag=direct conv=fsync 2>/dev/null`
          : `dd if=${dev} of=/dev/null bs=1M count=${DISK_MIB} iflag=direct 2>/dev/null`,
      )
    const bytes = DISK_MIB * 1024 * 1024
    await consoleRun(dataDir, name, dd('w'), DONE)
    const writeMBps = ddRate(await consoleRun(dataDir, name, dd('w'), DONE), bytes)
    const readMBps = ddRate(await consoleRun(dataDir, name, dd('r'), DONE), bytes)
    return { bus, writeMBps: round(writeMBps), readMBps: round(readMBps) }
  } finally {
    await vireo(dataDir, ['stop', name, '--force'])
    await vireo(dataDir, ['delete', name, '--yes'])
  }
}

/** A loopback listener that times what one connection sends, from its first byte to its end. */
function sink(): Promise<{
  port: number
  result: Promise<{ bytes: number; seconds: number }>
  close(): void
}> {
  return new Promise((resolvePromise) => {
    let settle: (r: { bytes: number; seconds: number }) => void = () => undefined
    const result = new Promise<{ bytes: number; seconds: number }>((r) => (settle = r))
    const server = createServer((sock) => {
      let bytes = 0
      let t0 = 0
      sock.on('data', (d: Buffer) => {
        if (bytes === 0) t0 = performance.now()
        bytes += d.length
      })
      sock.on('end', () => settle({ bytes, seconds: (performance.now() - t0) / 1000 }))
      sock.on('error', () => undefined)
    })
    server.listen(0, '127.0.0.1', () =>
      resolvePromise({
        port: (server.address() as AddressInfo).port,
        result,
        close: () => server.close(),
      }),
    )
  })
}

async function netRound(dataDir: string, model: 'virtio-net' | 'e1000' | 'rtl8139'): Promise<NetFigures> {
  const name = `net-${model}`
  await boot(dataDir, name, ['--nic', model])
  const s = await sink()
  try {
    // The guest gets its address by DHCP in the background after the marker; wait for it.
    await consoleRun(
      dataDir,
      name,
      'i=0; while ! ip -4 addr show eth0 | grep -q inet && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done; echo NET-$((40+2))-UP',
      'NET-42-UP',
    )
    // 10.0.2.2 is the host as QEMU's user-mode NAT presents it; the connection ends on loopback.
    await consoleRun(
      dataDir,
      name,
      `dd if=/dev/zero bs=64k count=${NET_MIB * 16} 2>/dev/null | nc 10.0.2.2 ${s.port}; echo NC-$((40+2))-DONE`,
      'NC-42-DONE',
    )
    const r = await s.result
    if (r.bytes !== NET_MIB * 1024 * 1024) throw new Error(`the host received ${r.bytes} bytes from ${model}`)
    return { model, sendMBps: round(r.bytes / r.seconds / 1e6) }
  } finally {
    s.close()
    await vireo(dataDir, ['stop', name, '--force'])
    await vireo(dataDir, ['delete', name, '--yes'])
  }
}

const round = (n: number) => Math.round(n * 10) / 10

export async function benchParavirt() {
  const dataDir = tempDataDir('vireo-bench-pv-')
  try {
    const disk = [await diskRound(dataDir, 'virtio-blk'), await diskRound(dataDir, 'sata')]
    const net = [
      await netRound(dataDir, 'virtio-net'),
      await netRound(dataDir, 'e1000'),
      await netRound(dataDir, 'rtl8139'),
    ]
    const [vblk, sata] = disk as [DiskFigures, DiskFigures]
    const [vnet, e1000, rtl] = net as [NetFigures, NetFigures, NetFigures]
    return {
      what: `paravirtual vs emulated in the same test guest (TCG, 256 MiB): dd ${DISK_MIB} MiB O_DIRECT; ${NET_MIB} MiB guest → host through NAT`,
      disk,
      net,
      ratios: {
        diskWrite: round(vblk.writeMBps / sata.writeMBps),
        diskRead: round(vblk.readMBps / sata.readMBps),
        netVsE1000: round(vnet.sendMBps / e1000.sendMBps),
        netVsRtl8139: round(vnet.sendMBps / rtl.sendMBps),
      },
      promise: 'virtio disk and NIC ≥ 3× their emulated counterparts',
    }
  } finally {
    await cleanupDataDir(dataDir)
  }
}
