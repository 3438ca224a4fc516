// Configs the builder must refuse (in words a user can act on), the escaping helpers, and the
// promise that the objects exported for hot-plug are the very ones on the command line.
import { execFileSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { VmConfig, type VmConfigInput } from '../../engine/api/vm-config.ts'
import { assignPlacements } from '../../engine/qemu/argv/placement.ts'
import {
  ArgvError,
  buildQemuArgv,
  cdromDevices,
  diskDevices,
  nicDevices,
  nicsWithLinkDown,
  qemuOptValue,
  shellQuote,
  type LaunchContext,
} from '../../engine/qemu/argv/index.ts'
import { ARGV_CASES } from '../golden/argv-cases.ts'

const ID = '77777777-7777-4777-8777-777777777777'

function config(over: Partial<VmConfigInput> = {}, place = true): VmConfig {
  const c = VmConfig.parse({
    schemaVersion: 1,
    id: ID,
    name: 'test',
    createdAt: '2025-01-01T00:00:00.000Z',
    machine: { type: 'q35', version: 'pc-q35-7.2' },
    firmware: 'bios',
    cpus: 1,
    memoryMiB: 256,
    ...over,
  })
  return place ? assignPlacements(c) : c
}

const ctx: LaunchContext = {
  qemuBinary: '/usr/bin/qemu-system-x86_64',
  vmDir: `/var/vireo/vms/${ID}`,
  runtimeDir: '/run/vireo/abc',
  accelerator: 'tcg',
  sandbox: true,
}

type DiskInput = NonNullable<VmConfigInput['disks']>[number]
type NicInput = NonNullable<VmConfigInput['nics']>[number]
const disk = (id: string, bus: DiskInput['bus']): DiskInput => ({
  id,
  path: `${id}.qcow2`,
  format: 'qcow2',
  bus,
  serial: 'S1',
})
const nic = (id: string): NicInput => ({
  id,
  model: 'e1000',
  mac: '52:54:00:00:00:01',
  network: { mode: 'nat', portForwards: [] },
})

function refusal(c: VmConfig, context: LaunchContext = ctx): string {
  try {
    buildQemuArgv(c, context)
  } catch (err) {
    expect(err).toBeInstanceOf(ArgvError)
    expect(err).toBeInstanceOf(Error)
    return (err as Error).message
  }
  throw new Error('the config was accepted')
}

describe('configs the builder refuses', () => {
  it('IDE on q35', () => {
    const c = config({ disks: [{ ...disk('hd', 'virtio-blk'), bus: 'ide' }] })
    expect(refusal(c)).toMatch(/IDE disks need the pc machine type; on q35 choose SATA/)
    expect(refusal(config({ cdroms: [{ id: 'cd0', path: null, bus: 'ide' }] }))).toMatch(
      /IDE CD drives need the pc machine type; on q35 choose SATA/,
    )
  })

  it('an I/O thread on a bus that has none, and zero detection by discard with discard off', () => {
    expect(refusal(config({ disks: [{ ...disk('hd', 'nvme'), iothread: true }] }))).toMatch(
      /the disk "hd" is on nvme, which cannot use an I\/O thread; choose virtio-blk or virtio-scsi/,
    )
    expect(
      refusal(config({ disks: [{ ...disk('hd', 'virtio-blk'), discard: false, detectZeroes: 'unmap' }] })),
    ).toMatch(/has discard off; turn discard on or choose detect-zeroes on/)
  })

  it('UEFI without firmware files', () => {
    expect(refusal(config({ firmware: 'uefi' }))).toMatch(/UEFI, but no OVMF firmware files/)
  })

  it('two devices with one id', () => {
    const c = config({ disks: [disk('same', 'virtio-blk')], nics: [nic('same')] })
    expect(refusal(c)).toMatch(
      /the disk "same" and the network card "same" would have the same device id "same"/,
    )
  })

  it('a user id that clashes with one Vireo derives', () => {
    expect(refusal(config({ disks: [disk('rp0', 'virtio-blk')] }))).toMatch(
      /PCIe root port 0 .*device id "rp0"/,
    )
    const scsi = config({ disks: [disk('a', 'virtio-scsi'), disk('a-scsi', 'virtio-blk')] })
    expect(refusal(scsi)).toMatch(/the SCSI controller of the disk "a" and the disk "a-scsi"/)
    const nodes = config({ disks: [disk('a', 'virtio-blk'), disk('a-file', 'virtio-blk')] })
    expect(refusal(nodes)).toMatch(/block node name "a-file"/)
  })

  it('two devices in one PCI slot, and reserved slots on pc', () => {
    const c = config({
      disks: [{ ...disk('d0', 'virtio-blk'), pci: { slot: 3 } }],
      nics: [{ ...nic('n0'), pci: { slot: 3 } }],
    })
    expect(refusal(c)).toMatch(/the disk "d0" and the network card "n0" are both placed in PCI slot 3/)
    const pc = config({
      machine: { type: 'pc', version: 'pc-i440fx-7.2' },
      nics: [{ ...nic('n0'), pci: { slot: 2 } }],
    })
    expect(refusal(pc)).toMatch(/PCI slot 2, which the pc machine keeps for built-in devices/)
  })

  it('a PCI device without a recorded slot', () => {
    expect(refusal(config({ nics: [nic('n0')] }, false))).toMatch(/"n0" has no PCI slot recorded yet/)
  })

  it('read-only SATA and IDE disks', () => {
    const c = config({ disks: [{ ...disk('ro', 'sata'), readOnly: true }] })
    expect(refusal(c)).toMatch(
      /read-only, which SATA disks cannot be; choose virtio-blk, virtio-scsi or NVMe/,
    )
  })

  it('more SATA or IDE devices than ports', () => {
    const sata = config({
      disks: Array.from({ length: 6 }, (_, i) => disk(`s${i}`, 'sata')),
      cdroms: [{ id: 'cd0', path: null, bus: 'sata' }],
    })
    expect(refusal(sata)).toMatch(/SATA has 6 ports; "cd0" is one device too many/)
    const ide = config({
      machine: { type: 'pc', version: 'pc-i440fx-7.2' },
      disks: Array.from({ length: 5 }, (_, i) => disk(`h${i}`, 'ide')),
    })
    expect(refusal(ide)).toMatch(/room for 4 IDE disks and CD drives; "h4" is one too many/)
  })

  it('a machine version of the other chipset', () => {
    expect(refusal(config({ machine: { type: 'q35', version: 'pc-i440fx-7.2' } }))).toMatch(
      /pc-i440fx-7.2 does not match the chosen chipset q35/,
    )
  })

  it('software emulation asked for, KVM given', () => {
    expect(refusal(config({ accelerator: 'tcg' }), { ...ctx, accelerator: 'kvm' })).toMatch(
      /software emulation/,
    )
  })

  it('one host port forwarded twice', () => {
    const f = { hostPort: 2222, guestPort: 22 }
    const c = config({
      nics: [{ ...nic('n0'), network: { mode: 'nat', portForwards: [f, { ...f, guestPort: 23 }] } }],
    })
    expect(refusal(c)).toMatch(/forwards tcp 127.0.0.1:2222 twice/)
  })

  it('relative folders and socket paths too long for sun_path', () => {
    expect(refusal(config(), { ...ctx, vmDir: 'vms/x' })).toMatch(/VM folder must be an absolute path/)
    expect(refusal(config(), { ...ctx, runtimeDir: `/run/${'x'.repeat(100)}` })).toMatch(
      /too long for a unix socket/,
    )
  })
})

describe('legacy option values', () => {
  it('doubles commas and nothing else', () => {
    expect(qemuOptValue('a,b,,c')).toBe('a,,b,,,,c')
    expect(qemuOptValue(`l'été "x"=y`)).toBe(`l'été "x"=y`)
  })

  it('escapes paths in -chardev, -vnc and -name', () => {
    const argv = buildQemuArgv(config({ name: 'a, b' }), { ...ctx, vmDir: '/v,m', runtimeDir: '/r,un' })
    expect(argv).toContain('guest=a,, b,process=vireo-77777777')
    expect(argv).toContain('socket,id=qmp,path=/r,,un/qmp.sock,server=on,wait=off')
    expect(argv).toContain(
      'socket,id=serial0,path=/r,,un/serial.sock,server=on,wait=off,logfile=/v,,m/logs/serial.log,logappend=off',
    )
    expect(argv).toContain('unix:/r,,un/vnc.sock')
  })
})

describe('shellQuote', () => {
  // printf repeats its format for every argument; NUL separates them even if one holds a newline.
  const throughShell = (argv: string[]) =>
    execFileSync('sh', ['-c', `printf '%s\\0' ${shellQuote(argv)}`], { encoding: 'utf8' })
      .split('\0')
      .slice(0, -1)

  it('gives the same argv back through sh', () => {
    const tricky = [
      'plain',
      '',
      ' ',
      "it's",
      `"dq" $HOME \`x\` \\ ! * ? ~ # & ; | < > ( ) { }`,
      'tab\there',
      'new\nline',
    ]
    expect(throughShell(tricky)).toEqual(tricky)
    expect(throughShell(['ü ☃', "'", "''", '-device', '{"a":"b c"}'])).toEqual([
      'ü ☃',
      "'",
      "''",
      '-device',
      '{"a":"b c"}',
    ])
  })

  it('round-trips every golden command line and keeps plain words bare', () => {
    for (const c of ARGV_CASES) {
      const argv = [c.ctx.qemuBinary, ...buildQemuArgv(c.config, c.ctx)]
      expect(throughShell(argv)).toEqual(argv)
      expect(shellQuote(argv)).toMatch(/^\/usr\/bin\/qemu-system-x86_64 -name /)
      expect(shellQuote(argv)).not.toContain('\n')
    }
  })

  it('never lets the command word be read as a variable assignment', () => {
    expect(shellQuote(['FOO=bar', 'x=y'])).toBe("'FOO=bar' x=y")
  })
})

describe('one device model, two renderings', () => {
  it('puts on the command line exactly the objects hot-plug would send over QMP', () => {
    for (const c of ARGV_CASES) {
      const argv = buildQemuArgv(c.config, c.ctx)
      const rendered = argv.flatMap((a, i) =>
        ['-device', '-blockdev', '-netdev'].includes(argv[i - 1] ?? '') ? [JSON.parse(a) as unknown] : [],
      )
      for (const d of c.config.disks) {
        const parts = diskDevices(c.config, d, c.ctx)
        for (const o of [...parts.blockdevs, parts.device, ...(parts.controller ? [parts.controller] : [])]) {
          expect(rendered).toContainEqual(o)
        }
      }
      for (const cd of c.config.cdroms) {
        const parts = cdromDevices(c.config, cd, c.ctx)
        for (const o of [...parts.blockdevs, parts.device]) expect(rendered).toContainEqual(o)
      }
      for (const n of c.config.nics) {
        const parts = nicDevices(c.config, n, c.ctx)
        expect(rendered).toContainEqual(parts.device)
        if (parts.netdev) expect(rendered).toContainEqual(parts.netdev)
        else expect(parts.device.netdev).toBeUndefined()
      }
    }
  })

  it('names the cards whose link the launcher must take down over QMP', () => {
    const c = config({ nics: [nic('up'), { ...nic('down'), linkUp: false }] })
    expect(nicsWithLinkDown(c)).toEqual(['down'])
  })
})
