// The persisted VM configuration (vm.json) — the one source of the VM model's types.
// Every device carries a stable id and, where it sits on PCI, an explicit bus/slot recorded here,
// so that a snapshot load or a migration after a hot-plug finds each device where it was.
import { z } from 'zod'

export const VM_CONFIG_SCHEMA_VERSION = 1

/** A display name: any text a user types, but no control characters, and not blank. */
export const VmName = z
  .string()
  .trim()
  .min(1, 'a VM name cannot be empty')
  .max(128, 'a VM name is at most 128 characters')
  .refine((s) => !/\p{Cc}/u.test(s), 'a VM name cannot contain control characters')

export const DeviceId = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,30}$/, 'a device id is lower-case letters, digits and dashes')

export const DiskBus = z.enum(['virtio-blk', 'virtio-scsi', 'nvme', 'sata', 'ide'])
export type DiskBus = z.infer<typeof DiskBus>

export const CacheMode = z.enum(['none', 'writeback', 'writethrough', 'unsafe'])
export type CacheMode = z.infer<typeof CacheMode>

/** Where a PCI device sits: a pcie-root-port (q35) or a slot on the pc machine's bus. */
export const PciPlacement = z.object({
  /** 0-based index of the root port on q35 (port id `rp<N>`), or the slot number on pc's pci.0. */
  slot: z.number().int().min(0).max(31),
})
export type PciPlacement = z.infer<typeof PciPlacement>

export const Disk = z.object({
  id: DeviceId,
  /** Absolute, or relative to the VM's folder. */
  path: z.string().min(1),
  format: z.enum(['qcow2', 'raw']),
  bus: DiskBus,
  cache: CacheMode.default('writeback'),
  discard: z.boolean().default(true),
  /** Turn guest writes of zeroes into sparse (`unmap`, needs discard) or zero-flagged (`on`) clusters. */
  detectZeroes: z.enum(['off', 'on', 'unmap']).default('off'),
  readOnly: z.boolean().default(false),
  /** Serve the disk's I/O on its own thread instead of QEMU's main loop (virtio-blk, virtio-scsi). */
  iothread: z.boolean().default(false),
  /** Serial number the guest sees (stable across migration). */
  serial: z.string().regex(/^[A-Za-z0-9-]{1,20}$/),
  pci: PciPlacement.optional(),
  /**
   * Files outside the VM's folder that the user gave for this disk: the image used in place or
   * under an overlay, and each backing file they allowed. Every start checks the disk's chain
   * against them. Absent in VMs made before chains were checked: their outside files stay trusted.
   */
  trusted: z.array(z.string()).optional(),
})
export type Disk = z.infer<typeof Disk>

export const Cdrom = z.object({
  id: DeviceId,
  /** The inserted medium (absolute or relative to the VM's folder); null when the tray is empty. */
  path: z.string().min(1).nullable(),
  bus: z.enum(['sata', 'ide']),
})
export type Cdrom = z.infer<typeof Cdrom>

export const NicModel = z.enum(['virtio-net', 'e1000', 'e1000e', 'rtl8139', 'vmxnet3'])
export type NicModel = z.infer<typeof NicModel>

export const PortForward = z.object({
  protocol: z.enum(['tcp', 'udp']).default('tcp'),
  /** Loopback unless the user names another address (a forward binds exactly where it says). */
  hostAddress: z.ipv4().default('127.0.0.1'),
  hostPort: z.number().int().min(1).max(65535),
  guestPort: z.number().int().min(1).max(65535),
})
export type PortForward = z.infer<typeof PortForward>

/** The name of an internal network: VMs whose cards name the same network share one switch. */
export const InternalNetworkName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/, 'an internal network name is 1-32 letters, digits, ., _ or -')

/**
 * DHCP on an internal network, answered by the engine's switch from this subnet (its first address
 * is the server's; no router, since the network has no way out). Kept on the card, not in a host
 * store: the VM's folder stays all there is to a VM, and two running cards that ask one network
 * for different subnets are refused at start.
 */
function hostBitsZero(cidr: string): boolean {
  const [ip = '', bits] = cidr.split('/')
  const n = ip.split('.').reduce((acc, part) => acc * 256 + Number(part), 0)
  return n % 2 ** (32 - Number(bits)) === 0
}

export const InternalDhcp = z.object({
  subnet: z
    .cidrv4('a DHCP subnet is an IPv4 network such as 10.9.0.0/24')
    .refine((s) => {
      const bits = Number(s.split('/')[1])
      return bits >= 8 && bits <= 30
    }, 'a DHCP subnet is a /8 to a /30')
    .refine(hostBitsZero, 'a DHCP subnet is written with its network address (host bits zero)'),
})
export type InternalDhcp = z.infer<typeof InternalDhcp>

export const Network = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('nat'), portForwards: z.array(PortForward).default([]) }),
  /** A host-only segment shared by the VMs that name it, switched by the engine; no way out. */
  z.object({ mode: z.literal('internal'), name: InternalNetworkName, dhcp: InternalDhcp.optional() }),
  z.object({ mode: z.literal('none') }),
])
export type Network = z.infer<typeof Network>

export const MacAddress = z
  .string()
  .regex(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/, 'a MAC address is six lower-case hex pairs separated by colons')
  .refine((m) => (parseInt(m.slice(0, 2), 16) & 1) === 0, 'a MAC address must be unicast')

export const Nic = z.object({
  id: DeviceId,
  model: NicModel,
  mac: MacAddress,
  network: Network,
  linkUp: z.boolean().default(true),
  pci: PciPlacement.optional(),
})
export type Nic = z.infer<typeof Nic>

export const MemoryMiB = z
  .number()
  .int()
  .min(16)
  .max(1024 * 1024)
export const CpuCount = z.number().int().min(1).max(64)

export const BootDevice = z.enum(['disk', 'cdrom', 'network'])
export type BootDevice = z.infer<typeof BootDevice>

export const VmConfig = z.object({
  schemaVersion: z.literal(VM_CONFIG_SCHEMA_VERSION),
  id: z.uuid(),
  name: VmName,
  /** The runtime driver; QEMU virtual machines now, OS-level containers later. */
  kind: z.literal('qemu').default('qemu'),
  createdAt: z.iso.datetime(),
  os: z.string().max(64).optional(),
  machine: z.object({
    type: z.enum(['q35', 'pc']),
    /** Versioned machine type pinned at creation (e.g. pc-q35-7.2) so a newer QEMU keeps the guest's hardware. */
    version: z.string().regex(/^pc-(q35|i440fx)-\d+\.\d+$/),
  }),
  firmware: z.enum(['bios', 'uefi']),
  /** `auto` uses the accelerator the host probe verified; `tcg` forces software emulation. */
  accelerator: z.enum(['auto', 'tcg']).default('auto'),
  cpus: CpuCount,
  memoryMiB: MemoryMiB,
  disks: z.array(Disk).default([]),
  cdroms: z.array(Cdrom).default([]),
  nics: z.array(Nic).default([]),
  display: z
    .object({ adapter: z.enum(['std', 'virtio', 'qxl', 'none']).default('std') })
    .default({ adapter: 'std' }),
  bootOrder: z.array(BootDevice).min(1).default(['disk', 'cdrom']),
  /**
   * Boot a kernel directly (QEMU's -kernel/-initrd/-append) instead of through the firmware's boot
   * order, as a netboot installer is started. Paths absolute or relative to the VM's folder.
   */
  directBoot: z
    .object({
      kernel: z.string().min(1),
      initrd: z.string().min(1).optional(),
      cmdline: z.string().max(4096).default(''),
    })
    .optional(),
  rng: z.boolean().default(true),
  /** pcie-root-ports created up front on q35 so that disks and NICs can be hot-plugged later. */
  hotplugSlots: z.number().int().min(0).max(16).default(4),
})
export type VmConfig = z.infer<typeof VmConfig>
/** What callers may write before defaults are applied. */
export type VmConfigInput = z.input<typeof VmConfig>
