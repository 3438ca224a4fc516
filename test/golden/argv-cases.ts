// The VMs whose command lines are kept as golden files (<name>.argv.json beside this file). The
// unit test compares the builder's output with them; the integration test starts each one on the
// real QEMU to prove stock QEMU 7.2 accepts it. Paths are fixed so the goldens never change.
import { VmConfig, type VmConfigInput } from '../../engine/api/vm-config.ts'
import { assignPlacements } from '../../engine/qemu/argv/placement.ts'
import type { LaunchContext } from '../../engine/qemu/argv/index.ts'

export interface ArgvCase {
  name: string
  config: VmConfig
  ctx: LaunchContext
}

export const GOLDEN_RUNTIME_DIR = '/run/vireo/abc'
export const GOLDEN_OVMF_CODE = '/usr/share/OVMF/OVMF_CODE_4M.fd'

function vm(input: Omit<VmConfigInput, 'schemaVersion' | 'createdAt'>): VmConfig {
  return assignPlacements(VmConfig.parse({ schemaVersion: 1, createdAt: '2025-01-01T00:00:00.000Z', ...input }))
}

function ctxFor(config: VmConfig, over: Partial<LaunchContext> = {}): LaunchContext {
  const vmDir = `/var/vireo/vms/${config.id}`
  return {
    qemuBinary: '/usr/bin/qemu-system-x86_64',
    vmDir,
    runtimeDir: GOLDEN_RUNTIME_DIR,
    accelerator: 'tcg',
    sandbox: true,
    ...(config.firmware === 'uefi' ? { firmware: { code: GOLDEN_OVMF_CODE, vars: `${vmDir}/nvram.qcow2` } } : {}),
    ...over,
  }
}

function argvCase(name: string, config: VmConfig, over: Partial<LaunchContext> = {}): ArgvCase {
  return { name, config, ctx: ctxFor(config, over) }
}

export const ARGV_CASES: ArgvCase[] = [
  argvCase(
    'q35-bios-cdrom',
    vm({
      id: '11111111-1111-4111-8111-111111111111',
      name: 'minimal',
      machine: { type: 'q35', version: 'pc-q35-7.2' },
      firmware: 'bios',
      cpus: 1,
      memoryMiB: 256,
      cdroms: [{ id: 'cd0', path: '/srv/iso/installer.iso', bus: 'sata' }],
      bootOrder: ['cdrom'],
    }),
  ),
  argvCase(
    'bios-virtio-portforward',
    vm({
      id: '22222222-2222-4222-8222-222222222222',
      name: 'web server',
      machine: { type: 'q35', version: 'pc-q35-7.2' },
      firmware: 'bios',
      cpus: 2,
      memoryMiB: 1024,
      disks: [
        {
          id: 'disk0',
          path: 'disks/disk0.qcow2',
          format: 'qcow2',
          bus: 'virtio-blk',
          serial: 'VIREO-D0',
          iothread: true,
          detectZeroes: 'on',
        },
      ],
      cdroms: [{ id: 'cd0', path: null, bus: 'sata' }],
      nics: [
        {
          id: 'net0',
          model: 'virtio-net',
          mac: '52:54:00:12:34:56',
          network: {
            mode: 'nat',
            portForwards: [
              { protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: 2222, guestPort: 22 },
              { protocol: 'udp', hostAddress: '127.0.0.1', hostPort: 5353, guestPort: 53 },
            ],
          },
        },
      ],
    }),
  ),
  argvCase(
    'uefi-nvme-e1000',
    vm({
      id: '33333333-3333-4333-8333-333333333333',
      name: 'uefi guest',
      machine: { type: 'q35', version: 'pc-q35-7.2' },
      firmware: 'uefi',
      cpus: 2,
      memoryMiB: 512,
      disks: [
        { id: 'nvme0', path: 'disks/system.qcow2', format: 'qcow2', bus: 'nvme', cache: 'none', serial: 'NVME0001' },
      ],
      cdroms: [{ id: 'cd0', path: 'media/boot.iso', bus: 'sata' }],
      nics: [{ id: 'net0', model: 'e1000', mac: '52:54:00:00:00:33', network: { mode: 'nat', portForwards: [] } }],
      display: { adapter: 'qxl' },
      hotplugSlots: 2,
    }),
  ),
  argvCase(
    'pc-ide-rtl8139-sata',
    vm({
      id: '44444444-4444-4444-8444-444444444444',
      name: 'legacy pc',
      machine: { type: 'pc', version: 'pc-i440fx-7.2' },
      firmware: 'bios',
      cpus: 1,
      memoryMiB: 256,
      disks: [
        { id: 'hda', path: 'disks/hda.qcow2', format: 'qcow2', bus: 'ide', serial: 'IDE-HDA' },
        { id: 'sda', path: 'disks/sda.raw', format: 'raw', bus: 'sata', cache: 'unsafe', discard: false, serial: 'SATA-A' },
      ],
      cdroms: [{ id: 'cd0', path: 'media/drivers.iso', bus: 'ide' }],
      nics: [{ id: 'lan', model: 'rtl8139', mac: '52:54:00:00:00:44', network: { mode: 'nat', portForwards: [] } }],
      bootOrder: ['disk', 'cdrom', 'network'],
    }),
  ),
  argvCase(
    'virtio-scsi-vmxnet3-e1000e',
    vm({
      id: '55555555-5555-4555-8555-555555555555',
      name: 'scsi server',
      machine: { type: 'q35', version: 'pc-q35-7.2' },
      firmware: 'bios',
      cpus: 4,
      memoryMiB: 2048,
      disks: [
        {
          id: 'sys',
          path: 'disks/sys.raw',
          format: 'raw',
          bus: 'virtio-scsi',
          cache: 'writethrough',
          serial: 'SCSI-SYS',
          iothread: true,
          detectZeroes: 'unmap',
        },
        { id: 'data', path: '/srv/shared/data.qcow2', format: 'qcow2', bus: 'virtio-scsi', readOnly: true, serial: 'SCSI-DATA' },
      ],
      nics: [
        { id: 'uplink', model: 'vmxnet3', mac: '52:54:00:00:00:55', network: { mode: 'none' }, linkUp: false },
        {
          id: 'mgmt',
          model: 'e1000e',
          mac: '52:54:00:00:00:56',
          network: { mode: 'nat', portForwards: [{ hostAddress: '127.0.0.1', hostPort: 8443, guestPort: 443 }] },
        },
      ],
      display: { adapter: 'none' },
      bootOrder: ['network', 'disk'],
      rng: false,
      hotplugSlots: 1,
    }),
    { accelerator: 'kvm', sandbox: false },
  ),
  argvCase(
    'odd-names',
    vm({
      id: '66666666-6666-4666-8666-666666666666',
      name: `Büro-PC, "Haupt" l'été ☃`,
      machine: { type: 'q35', version: 'pc-q35-7.2' },
      firmware: 'bios',
      cpus: 1,
      memoryMiB: 256,
      disks: [
        {
          id: 'disk0',
          path: `disks/my disk, "eins" l'été ü.qcow2`,
          format: 'qcow2',
          bus: 'virtio-blk',
          serial: 'ODD-1',
        },
      ],
      cdroms: [{ id: 'cd0', path: `media/Ubuntu, 24.04 "LTS" ☃.iso`, bus: 'sata' }],
      display: { adapter: 'virtio' },
      hotplugSlots: 0,
    }),
  ),
  argvCase(
    'internal-network',
    vm({
      id: '88888888-8888-4888-8888-888888888888',
      name: 'lab node',
      machine: { type: 'q35', version: 'pc-q35-7.2' },
      firmware: 'bios',
      cpus: 1,
      memoryMiB: 256,
      cdroms: [{ id: 'cd0', path: null, bus: 'sata' }],
      nics: [
        { id: 'net0', model: 'virtio-net', mac: '52:54:00:88:00:01', network: { mode: 'internal', name: 'lab' } },
        { id: 'lab-b', model: 'e1000', mac: '52:54:00:88:00:02', network: { mode: 'internal', name: 'lab.2' } },
        { id: 'wan', model: 'rtl8139', mac: '52:54:00:88:00:03', network: { mode: 'nat', portForwards: [] } },
      ],
    }),
  ),
  argvCase(
    'direct-kernel-boot',
    vm({
      id: '77777777-7777-4777-8777-777777777777',
      name: 'netboot installer',
      machine: { type: 'q35', version: 'pc-q35-7.2' },
      firmware: 'bios',
      cpus: 1,
      memoryMiB: 512,
      disks: [{ id: 'disk0', path: 'disks/disk0.qcow2', format: 'qcow2', bus: 'virtio-blk', serial: 'NETBOOT-0' }],
      cdroms: [{ id: 'cd0', path: null, bus: 'sata' }],
      nics: [{ id: 'net0', model: 'virtio-net', mac: '52:54:00:00:00:77', network: { mode: 'nat', portForwards: [] } }],
      // A kernel used where it is (absolute), an initrd beside the VM (relative), a command line
      // with the commas and spaces real ones have.
      directBoot: {
        kernel: '/usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64/linux',
        initrd: 'boot/initrd.gz',
        cmdline: 'console=ttyS0,115200n8 priority=low ---',
      },
    }),
  ),
]
