// The persisted VM configuration (vm.json) — the one source of the VM model's types.
// Every device carries a stable id and, where it sits on PCI, an explicit bus/slot recorded here,
// so that a snapshot load or a migration after a hot-plug finds each device where it was.
import { z } from 'zod'
import {
  dhcpSubnetProblem,
  forwardAddressProblem,
  forwardClash,
  forwardClashSentence,
} from './network-rules.ts'
import { controlCharIn, hiddenCharIn, quoted } from './visible-text.ts'

export const VM_CONFIG_SCHEMA_VERSION = 1

/**
 * A VM's name as vm.json holds it: trimmed and in Unicode NFC, so that names typed on different
 * systems ("é" as one code point or as e + accent) are one name. Older files may hold invisible or
 * text-direction characters that new names may not (see VmName); they still load, and are shown
 * escaped.
 */
export const StoredVmName = z
  .string()
  .trim()
  .normalize('NFC')
  .min(1, 'a VM name cannot be empty')
  .max(128, 'a VM name is at most 128 characters')
  .refine((s) => controlCharIn(s) === null, {
    error: (iss) =>
      `a VM name cannot hold control characters, and this one holds ${controlCharIn(String(iss.input))}; type the name without it`,
  })

/**
 * A new name, as a user gives it to create, rename, import or clone: any visible text. Control,
 * format (zero-width, bidi overrides and isolates, BOM, soft hyphen …) and line-separator characters
 * are refused, since they make two different names look alike or reorder what is shown around them.
 */
export const VmName = StoredVmName.superRefine((s, ctx) => {
  const hidden = hiddenCharIn(s)
  if (hidden)
    ctx.addIssue({
      code: 'custom',
      message: `a VM name cannot hold invisible or text-direction characters, and this one holds ${hidden}; type the name without it`,
    })
})

/** The form under which two names count as one: NFC, case folded, invisible characters dropped. */
export function nameKey(name: string): string {
  return name
    .normalize('NFC')
    .replace(/[\p{Cf}\p{Zl}\p{Zp}]/gu, '')
    .trim()
    .toLowerCase()
}

export const DeviceId = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,30}$/, 'a device id is lower-case letters, digits and dashes')

export const DiskBus = z.enum(['virtio-blk', 'virtio-scsi', 'nvme', 'sata', 'ide'])
export type DiskBus = z.infer<typeof DiskBus>

export const CacheMode = z.enum(['none', 'writeback', 'writethrough', 'unsafe'])
export type CacheMode = z.infer<typeof CacheMode>

/** Guest writes of zeroes kept as written, as zero-flagged clusters (`on`) or as holes (`unmap`). */
export const DetectZeroes = z.enum(['off', 'on', 'unmap'])
export type DetectZeroes = z.infer<typeof DetectZeroes>

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
  detectZeroes: DetectZeroes.default('off'),
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

export const StoredPortForward = z.object({
  protocol: z.enum(['tcp', 'udp']).default('tcp'),
  /** Loopback unless the user names another address (a forward binds exactly where it says). */
  hostAddress: z.ipv4().default('127.0.0.1'),
  hostPort: z.number().int().min(1).max(65535),
  guestPort: z.number().int().min(1).max(65535),
})

/** A forward a user asks for: on an address a socket can listen on. */
export const PortForward = StoredPortForward.superRefine((f, ctx) => {
  const problem = forwardAddressProblem(f.hostAddress)
  if (problem) ctx.addIssue({ code: 'custom', path: ['hostAddress'], message: problem })
})
export type PortForward = z.infer<typeof StoredPortForward>

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

const StoredSubnet = z
  .cidrv4('a DHCP subnet is an IPv4 network such as 10.9.0.0/24')
  .refine((s) => {
    const bits = Number(s.split('/')[1])
    return bits >= 8 && bits <= 30
  }, 'a DHCP subnet is a /8 to a /30')
  .refine(hostBitsZero, 'a DHCP subnet is written with its network address (host bits zero)')

export const StoredInternalDhcp = z.object({ subnet: StoredSubnet })

/** DHCP a user asks for: from a subnet a guest can take addresses in (not loopback, multicast, …). */
export const InternalDhcp = z.object({
  subnet: StoredSubnet.superRefine((s, ctx) => {
    const problem = dhcpSubnetProblem(s)
    if (problem) ctx.addIssue({ code: 'custom', message: problem })
  }),
})
export type InternalDhcp = z.infer<typeof InternalDhcp>

function networkOf<F extends z.ZodType, D extends z.ZodType>(forward: F, dhcp: D) {
  return z.discriminatedUnion('mode', [
    z.object({ mode: z.literal('nat'), portForwards: z.array(forward).max(256).default([]) }),
    /** A host-only segment shared by the VMs that name it, switched by the engine; no way out. */
    z.object({ mode: z.literal('internal'), name: InternalNetworkName, dhcp: dhcp.optional() }),
    z.object({ mode: z.literal('none') }),
  ])
}

/** A card's network as vm.json holds it. */
export const StoredNetwork = networkOf(StoredPortForward, StoredInternalDhcp)

/** A network a user gives a card: what QEMU would refuse (two forwards of one host port) is refused. */
export const Network = networkOf(PortForward, InternalDhcp).superRefine((n, ctx) => {
  if (n.mode !== 'nat') return
  const clash = forwardClash(n.portForwards as PortForward[])
  if (clash) ctx.addIssue({ code: 'custom', path: ['portForwards'], message: forwardClashSentence(...clash) })
})
export type Network = z.infer<typeof StoredNetwork>

const MAC_FORM = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/

export const StoredMacAddress = z
  .string()
  .regex(MAC_FORM, 'a MAC address is six lower-case hex pairs separated by colons')
  .refine((m) => (parseInt(m.slice(0, 2), 16) & 1) === 0, 'a MAC address must be unicast')

/** A MAC a user gives a card: unicast (low bit of the first octet clear) and not all zero. */
export const MacAddress = z
  .string()
  .regex(MAC_FORM, {
    error: (iss) =>
      `a MAC address is six lower-case hex pairs separated by colons, such as 52:54:00:12:34:56, not ${quoted(String(iss.input))}`,
  })
  .refine((m) => (parseInt(m.slice(0, 2), 16) & 1) === 0, {
    error: (iss) =>
      `${String(iss.input)} is a multicast MAC address (the low bit of its first octet is set); a card needs a unicast one such as 52:54:00:12:34:56`,
  })
  .refine(
    (m) => m !== '00:00:00:00:00:00',
    'the MAC address 00:00:00:00:00:00 means "none" to QEMU, which would make up another; give a real one such as 52:54:00:12:34:56',
  )

export const Nic = z.object({
  id: DeviceId,
  model: NicModel,
  mac: StoredMacAddress,
  network: StoredNetwork,
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

/** A boot order a user gives, at create and update alike: each device at most once. */
export const BootOrder = z
  .array(BootDevice)
  .min(1, 'a boot order names at least one device: disk, cdrom or network')
  .max(3, 'a boot order names each of disk, cdrom and network at most once')
  .refine((o) => new Set(o).size === o.length, {
    error: (iss) => {
      const order = iss.input as string[]
      const twice = order.find((d, i) => order.indexOf(d) !== i)
      return `the boot order names ${twice} twice; name each device once, e.g. disk,cdrom`
    },
  })

export const Firmware = z.enum(['bios', 'uefi'])
export type Firmware = z.infer<typeof Firmware>

/** The machine a VM is built on: q35 (PCIe, the default) or pc (i440FX, for old guests). */
export const MachineKind = z.enum(['q35', 'pc'])
export type MachineKind = z.infer<typeof MachineKind>

export const VmConfig = z.object({
  schemaVersion: z.literal(VM_CONFIG_SCHEMA_VERSION),
  id: z.uuid(),
  name: StoredVmName,
  /** The runtime driver; QEMU virtual machines now, OS-level containers later. */
  kind: z.literal('qemu').default('qemu'),
  createdAt: z.iso.datetime(),
  os: z.string().max(64).optional(),
  machine: z.object({
    type: MachineKind,
    /** Versioned machine type pinned at creation (e.g. pc-q35-7.2) so a newer QEMU keeps the guest's hardware. */
    version: z.string().regex(/^pc-(q35|i440fx)-\d+\.\d+$/),
  }),
  firmware: Firmware,
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
