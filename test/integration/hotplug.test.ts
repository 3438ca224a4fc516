// Disks and network cards attached to and detached from the running test guest through the CLI, seen
// (and then missed) by the guest's own /sys; SATA refused live; every change in vm.json, and still
// there after a restart of the VM and after the background host is killed and a new one adopts it.
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AttachedDevice, AttachResult, DeviceKind, VmInfo } from '../../engine/api/rpc.ts'
import type { VmConfig } from '../../engine/api/vm-config.ts'
import { isAlive } from '../../engine/util/process-alive.ts'
import { cleanupDataDir, guestSays, hostPid, tempDataDir, vireo, vireoOk, vmInfo } from '../support/cli.ts'
import { GUEST_MARKER, requireTestGuest } from '../support/guest.ts'

const guest = requireTestGuest()
let dataDir: string
let vm: VmInfo

const info = (name = 'box') => vmInfo(dataDir, name)
const vmJson = () => JSON.parse(readFileSync(join(vm.dir, 'vm.json'), 'utf8')) as VmConfig
const rootPorts = async (name = 'box') =>
  (await vireoOk(dataDir, ['info', name, '--qemu-argv'])).match(/pcie-root-port/g)?.length ?? 0
const booted = () => vireoOk(dataDir, ['console', 'box', '--expect', GUEST_MARKER, '--timeout', '120'])
/** `vireo attach … --json`: the device it added, which the VM in the same answer holds. */
async function attached<K extends DeviceKind>(kind: K, ...args: string[]) {
  const r = JSON.parse(await vireoOk(dataDir, ['attach', 'box', kind, ...args, '--json'])) as AttachResult
  const { kind: said, ...device } = r.device
  expect(said).toBe(kind)
  expect(r.vm.name).toBe('box')
  expect(said === 'disk' ? r.vm.config.disks : r.vm.config.nics).toContainEqual(device)
  return r.device as Extract<AttachedDevice, { kind: K }>
}
/** Waits in the guest until `test` holds, then prints a marker the shell computes. */
const guestWaits = (test: string, marker: string) =>
  guestSays(
    dataDir,
    'box',
    `while ! ${test}; do usleep 200000; done; echo ${marker}-$((40+2))`,
    `${marker}-42`,
  )

describe('attaching and detaching devices', () => {
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
    await vireoOk(dataDir, ['start', 'box'])
    await booted()
  })
  afterAll(async () => {
    await cleanupDataDir(dataDir)
  })

  it('hot-plugs a virtio disk and a network card that the guest sees, and takes both out again', async () => {
    const ports = await rootPorts()
    const disk = await attached('disk', '--size', '32M')
    expect(disk).toMatchObject({
      kind: 'disk',
      bus: 'virtio-blk',
      format: 'qcow2',
      path: `disks/${disk.id}.qcow2`,
    })
    // 32 MiB in 512-byte sectors, and the serial Vireo gave it: this is the disk just attached.
    await guestWaits('[ -e /sys/block/vdb ]', 'VDB')
    await guestSays(dataDir, 'box', 'echo SZ-$(cat /sys/block/vdb/size)', 'SZ-65536\\r?\\n')
    await guestSays(dataDir, 'box', 'echo SER-$(cat /sys/block/vdb/serial)', `SER-${disk.serial}\\r?\\n`)

    const nic = await attached('nic')
    expect(nic).toMatchObject({ kind: 'nic', model: 'virtio-net', network: { mode: 'nat' } })
    await guestWaits('[ -e /sys/class/net/eth1 ]', 'ETH1')
    await guestSays(
      dataDir,
      'box',
      'echo DRV-$(basename $(readlink /sys/class/net/eth1/device/driver))',
      'DRV-virtio_net\\r?\\n',
    )
    await guestSays(dataDir, 'box', 'echo MAC-$(cat /sys/class/net/eth1/address)', `MAC-${nic.mac}\\r?\\n`)
    expect(vmJson().disks.map((d) => d.id)).toContain(disk.id)
    expect(vmJson().nics.map((n) => n.id)).toContain(nic.id)
    // The spare ports were there from the start: the machine did not change shape.
    expect(await rootPorts()).toBe(ports)

    const out = await vireoOk(dataDir, ['detach', 'box', disk.id])
    expect(out).toMatch(
      new RegExp(`Detached ${disk.id} from "box"\\. Its image stays at .*${disk.id}\\.qcow2`),
    )
    await vireoOk(dataDir, ['detach', 'box', nic.id])
    await guestWaits('[ ! -e /sys/block/vdb ] && [ ! -e /sys/class/net/eth1 ]', 'GONE')
    expect(vmJson().disks.map((d) => d.id)).toEqual(['disk0'])
    expect(vmJson().nics.map((n) => n.id)).toEqual(['net0'])
    expect(existsSync(join(vm.dir, 'disks', `${disk.id}.qcow2`))).toBe(true)
    expect(await rootPorts()).toBe(ports)
  })

  it('hot-plugs a virtio-scsi disk on its own controller and an NVMe disk, and unplugs both', async () => {
    const ports = await rootPorts()
    // Without --json the CLI names the device it added, from the engine's answer.
    expect(await vireoOk(dataDir, ['attach', 'box', 'disk', '--size', '16M', '--bus', 'scsi'])).toMatch(
      /^Attached the disk (disk\d+) \(virtio-scsi, disks\/\1\.qcow2\) to "box"\.\n$/,
    )
    await vireoOk(dataDir, ['attach', 'box', 'disk', '--size', '24M', '--bus', 'nvme'])
    await guestWaits('[ -e /sys/block/sda ] && [ -e /sys/block/nvme0n1 ]', 'SCSI-NVME')
    await guestSays(
      dataDir,
      'box',
      'echo SZ-$(cat /sys/block/sda/size)-$(cat /sys/block/nvme0n1/size)',
      'SZ-32768-49152\\r?\\n',
    )
    const added = vmJson().disks.filter((d) => d.id !== 'disk0')
    expect(added.map((d) => d.bus)).toEqual(['virtio-scsi', 'nvme'])
    for (const d of added) await vireoOk(dataDir, ['detach', 'box', d.id])
    await guestWaits('[ ! -e /sys/block/sda ] && [ ! -e /sys/block/nvme0n1 ]', 'NO-SCSI-NVME')
    expect(vmJson().disks.map((d) => d.id)).toEqual(['disk0'])
    expect(await rootPorts()).toBe(ports)
  })

  it("plugs a card hot-plugged on an internal network into the engine's switch", async () => {
    const nic = await attached('nic', '--network', 'internal:lab', '--dhcp', '10.9.0.0/24')
    await guestWaits('[ -e /sys/class/net/eth1 ]', 'LAB')
    // Only the engine's switch answers DHCP on this network: a lease means the card is plugged in.
    await guestSays(
      dataDir,
      'box',
      'udhcpc -i eth1 -q -n -t 5 -T 2 -s /etc/udhcpc.script >/dev/null 2>&1; echo IP-$(ip -4 -o addr show eth1 | grep -o "inet [0-9.]*")',
      'IP-inet 10\\.9\\.0\\.\\d+',
    )
    await vireoOk(dataDir, ['detach', 'box', nic.id])
    await guestWaits('[ ! -e /sys/class/net/eth1 ]', 'LABGONE')
    expect(vmJson().nics.map((n) => n.id)).toEqual(['net0'])
  })

  it('refuses SATA while the VM runs, and the CD drive as a device to detach', async () => {
    const sata = await vireo(dataDir, ['attach', 'box', 'disk', '--size', '8M', '--bus', 'sata'])
    expect(sata.code).not.toBe(0)
    expect(sata.stderr).toMatch(/SATA cannot be hot-plugged; shut the VM down or choose virtio/)
    const cd = await vireo(dataDir, ['detach', 'box', 'cd0'])
    expect(cd.stderr).toMatch(/"cd0" is the CD drive of "box"/)
    const none = await vireo(dataDir, ['detach', 'box', 'disk9'])
    expect(none.stderr).toMatch(
      /"box" has no disk or network card "disk9" \(its disks and cards: disk0, net0\)/,
    )
    expect(vmJson().disks.map((d) => d.id)).toEqual(['disk0'])
  })

  it('keeps a hot-plugged disk across a restart of the VM and of the host, and detaches it after', async () => {
    const disk = await attached('disk', '--size', '16M', '--bus', 'virtio')
    await guestWaits('[ -e /sys/block/vdb ]', 'PLUGGED')
    await guestSays(dataDir, 'box', 'echo FILE-data >/dev/vdb; sync; echo W-$((40+2))', 'W-42')

    await vireoOk(dataDir, ['stop', 'box', '--force'])
    await vireoOk(dataDir, ['start', 'box'])
    await booted()
    await guestSays(dataDir, 'box', 'echo SZ-$(cat /sys/block/vdb/size)', 'SZ-32768\\r?\\n')
    await guestSays(dataDir, 'box', 'echo SER-$(cat /sys/block/vdb/serial)', `SER-${disk.serial}\\r?\\n`)
    await guestSays(dataDir, 'box', 'echo READ-$(head -c 9 /dev/vdb)', 'READ-FILE-data')

    const before = await info()
    const host = hostPid(dataDir)
    process.kill(host, 'SIGKILL')
    while (isAlive(host)) await new Promise((r) => setTimeout(r, 50))
    // The next command starts a new host, which adopts the running QEMU.
    const after = await info()
    expect(hostPid(dataDir)).not.toBe(host)
    expect(after.runtime?.pid).toBe(before.runtime?.pid)
    expect(after.config.disks.find((d) => d.id === disk.id)).toMatchObject({ pci: disk.pci })
    await vireoOk(dataDir, ['detach', 'box', disk.id])
    await guestWaits('[ ! -e /sys/block/vdb ]', 'UNPLUGGED')
    expect((await info()).config.disks.map((d) => d.id)).toEqual(['disk0'])
  })

  it('changes a stopped VM: a SATA disk and an internal card go into vm.json and its command line', async () => {
    await vireoOk(dataDir, ['stop', 'box', '--force'])
    const ports = await rootPorts()
    const disk = await attached('disk', '--size', '8M', '--bus', 'sata')
    expect(disk).toMatchObject({ kind: 'disk', bus: 'sata' })
    expect(disk.pci).toBeUndefined()
    const nic = await attached('nic', '--model', 'e1000', '--network', 'internal:lab')
    expect(nic).toMatchObject({ kind: 'nic', model: 'e1000', network: { mode: 'internal', name: 'lab' } })
    const argv = await vireoOk(dataDir, ['info', 'box', '--qemu-argv'])
    expect(argv).toContain(`"driver":"ide-hd","id":"${disk.id}"`)
    expect(argv).toContain(`"driver":"e1000","id":"${nic.id}"`)
    expect(await rootPorts()).toBe(ports)
    const plain = await vireoOk(dataDir, ['info', 'box'])
    expect(plain).toMatch(new RegExp(`Disk ${disk.id}: .*sata`))
    expect(plain).toMatch(new RegExp(`NIC ${nic.id}: .*e1000.*internal:lab`))
    await vireoOk(dataDir, ['detach', 'box', disk.id])
    await vireoOk(dataDir, ['detach', 'box', nic.id])
    expect(vmJson().disks.map((d) => d.id)).toEqual(['disk0'])
    expect(vmJson().nics.map((n) => n.id)).toEqual(['net0'])
    expect(await rootPorts()).toBe(ports)
  })

  it('attaches an existing image in place, and refuses one that another VM has', async () => {
    const image = join(dataDir, 'shared.qcow2')
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', image, '16M'])
    const inPlace = await attached('disk', '--image', image, '--bus', 'scsi')
    expect(inPlace).toMatchObject({ kind: 'disk', path: image, format: 'qcow2', bus: 'virtio-scsi' })
    await vireoOk(dataDir, ['create', 'other', '--memory', '256'])
    const taken = await vireo(dataDir, ['attach', 'other', 'disk', '--image', image])
    expect(taken.code).not.toBe(0)
    expect(taken.stderr).toMatch(/the disk .*shared\.qcow2 already belongs to the VM "box"/)
    const missing = await vireo(dataDir, ['attach', 'other', 'disk', '--image', join(dataDir, 'nope.qcow2')])
    expect(missing.stderr).toMatch(/the disk image .*nope\.qcow2 does not exist/)
    const both = await vireo(dataDir, ['attach', 'other', 'disk'])
    expect(both.stderr).toMatch(/needs --size SIZE \(a new disk\) or --image PATH/)
    expect(await vireoOk(dataDir, ['detach', 'box', inPlace.id])).toMatch(`Its image stays at ${image}.`)
    expect(existsSync(image)).toBe(true)
  })
})
