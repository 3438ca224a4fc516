// The RPC contract between every client (renderer, CLI, another host) and the engine.
// Requests, responses and events are zod schemas; both ends validate at the boundary.
import { z } from 'zod'
import { RpcErrorBody } from './errors.ts'
import { diskSizeProblem } from './disk-size.ts'
import { UserPath } from './user-path.ts'
import { hiddenCharIn } from './visible-text.ts'
import {
  BootOrder,
  CacheMode,
  CpuCount,
  DetectZeroes,
  Disk,
  DiskBus,
  Firmware,
  MachineKind,
  MacAddress,
  MemoryMiB,
  Network,
  Nic,
  NicModel,
  VmConfig,
  VmName,
} from './vm-config.ts'
import {
  CompatibilityReport,
  HostPort,
  IncomingPlan,
  MigrateOptions,
  MigrationId,
  MigrationProgress,
  MigrationResult,
  PairCode,
  PairCodeInfo,
  PeerHello,
  RemoteInfo,
  RemoteName,
  RemoteVms,
} from './migration.ts'

export const VmState = z.enum([
  'stopped',
  'starting',
  'running',
  'paused',
  'stopping',
  'saving',
  'restoring',
  'migrating',
])
export type VmState = z.infer<typeof VmState>

export const Accelerator = z.enum(['kvm', 'hvf', 'whpx', 'tcg'])
export type Accelerator = z.infer<typeof Accelerator>

/**
 * What an instance is: a machine with its own kernel (QEMU), or, next, an OS-level container
 * sharing the host's kernel. The library, states and RPC speak of both; names are unique across them.
 */
export const InstanceKind = z.enum(['vm', 'container'])
export type InstanceKind = z.infer<typeof InstanceKind>

export const VmSummary = z.object({
  id: z.uuid(),
  /** A host of an earlier version sends none: all it had were VMs. */
  kind: InstanceKind.default('vm'),
  name: z.string(),
  state: VmState,
  os: z.string().optional(),
  cpus: z.number().int(),
  memoryMiB: z.number().int(),
  firmware: Firmware,
})
export type VmSummary = z.infer<typeof VmSummary>

export const VmRuntimeInfo = z.object({
  pid: z.number().int(),
  accelerator: Accelerator,
  startedAt: z.iso.datetime(),
  runtimeDir: z.string(),
})
export type VmRuntimeInfo = z.infer<typeof VmRuntimeInfo>

export const VmInfo = VmSummary.extend({
  config: VmConfig,
  dir: z.string(),
  runtime: VmRuntimeInfo.nullable(),
  /** Why the VM last failed (QEMU's exit or a failed start, in plain words), if it did. */
  lastError: z.string().nullable(),
  /** How the VM last stopped: the guest powered off, the host stopped it, or QEMU crashed. */
  lastExit: z
    .object({
      kind: z.enum(['guest', 'host', 'crash']),
      at: z.iso.datetime(),
      message: z.string().optional(),
    })
    .nullable(),
})
export type VmInfo = z.infer<typeof VmInfo>

export const AcceleratorVerdict = z.object({
  chosen: Accelerator,
  /** Plain words: why this accelerator, and why not a faster one. */
  reason: z.string(),
  probedAt: z.iso.datetime(),
})
export type AcceleratorVerdict = z.infer<typeof AcceleratorVerdict>

/**
 * The accelerator probe, which every host starts with: still running (its verdict not in yet), done
 * (the verdict is HostInfo.accelerator), or failed without a verdict (why, e.g. QEMU is missing).
 */
export const AcceleratorProbe = z.discriminatedUnion('state', [
  z.object({ state: z.literal('probing') }),
  z.object({ state: z.literal('done') }),
  z.object({ state: z.literal('failed'), reason: z.string() }),
])
export type AcceleratorProbe = z.infer<typeof AcceleratorProbe>

export const HostInfo = z.object({
  version: z.string(),
  pid: z.number().int(),
  dataDir: z.string(),
  socketPath: z.string(),
  url: z.string().nullable(),
  qemu: z.object({ binary: z.string(), version: z.string() }).nullable(),
  /** The probe's verdict once it is in; null while it runs, or when it failed. */
  accelerator: AcceleratorVerdict.nullable(),
  /** Optional: a background host an older Vireo started does not send it (the app may meet one). */
  acceleratorProbe: AcceleratorProbe.optional(),
  vms: z.object({ total: z.number().int(), running: z.number().int() }),
  /** A small guest this host can boot as a demo (an ISO path on the host), when it has one. */
  demo: z.object({ name: z.string(), iso: z.string() }).nullable(),
})
export type HostInfo = z.infer<typeof HostInfo>

/** A reference to something by name or id: a VM, one of its devices, a snapshot. */
export const Ref = z
  .string()
  .min(1, 'a name or id cannot be empty')
  .max(256, 'a name or id is at most 256 characters; no VM, device or snapshot has a longer one')

/** A VM argument: its name or its UUID. */
const VmRef = z.object({ vm: Ref })

/** A disk size such as 8G or 512M, from 1 MiB to 64 TiB (engine/api/disk-size.ts). */
export const SizeString = z
  .string()
  .max(64, 'a size is a number with an optional unit, e.g. 8G or 512M')
  .superRefine((s, ctx) => {
    const problem = diskSizeProblem(s)
    if (problem) ctx.addIssue({ code: 'custom', message: problem })
  })

/** A long operation's id, chosen by the caller so that it can follow the job's progress events. */
export const JobId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a job id is 1-64 letters, digits, - or _')
export type JobId = z.infer<typeof JobId>

export const JobProgress = z.object({
  job: JobId,
  /** What is happening now, in a few words: "converting disk.vmdk to qcow2". */
  phase: z.string(),
  done: z.number().nonnegative(),
  /** null while the size of the work is unknown. */
  total: z.number().nonnegative().nullable(),
  unit: z.enum(['bytes', 'percent', 'items']),
})
export type JobProgress = z.infer<typeof JobProgress>

/**
 * What to do with an existing disk image: `use` it where it is (qcow2 and raw only), put a new qcow2
 * `overlay` on top (the image is only read, never written), or `convert` a copy into the VM's folder.
 */
export const DiskMode = z.enum(['use', 'overlay', 'convert'])

/**
 * The files besides the image itself that the user allows a disk to read: a backing file named in
 * the image (a virt-manager overlay on its base), a qcow2's data file, a VMDK's extents.
 */
export const AllowBacking = z.array(UserPath).max(64)
export type DiskMode = z.infer<typeof DiskMode>

export const CreateVmParams = z.object({
  name: VmName,
  iso: UserPath.optional(),
  /** An existing disk image (qcow2, raw, vmdk, vdi, vhdx, vpc). */
  disk: UserPath.optional(),
  /** Default: `use` for qcow2 and raw, `convert` for the other formats. */
  diskMode: DiskMode.optional(),
  /** Files outside the VM's folder the disk image may read (its backing files, data file, extents). */
  allowBacking: AllowBacking.optional(),
  /** Progress events of this creation (a conversion can take minutes) carry this id. */
  job: JobId.optional(),
  /** A new, empty qcow2 disk of this size. */
  diskSize: SizeString.optional(),
  memoryMiB: MemoryMiB.optional(),
  cpus: CpuCount.optional(),
  /** The first NIC's model, or `none` for a VM without network. */
  nic: z.union([NicModel, z.literal('none')]).optional(),
  diskBus: DiskBus.optional(),
  firmware: Firmware.optional(),
  machine: MachineKind.optional(),
  bootOrder: BootOrder.optional(),
  /** Force software emulation for this VM. */
  accelerator: z.enum(['auto', 'tcg']).optional(),
  /** Boot this kernel directly (with an optional initrd and command line) instead of a disk or CD. */
  kernel: UserPath.optional(),
  initrd: UserPath.optional(),
  cmdline: z.string().max(4096).optional(),
  /** The guest OS (an osinfo-db short id such as debian12, or a built-in one); detected when absent. */
  os: z.string().max(64).optional(),
})
export type CreateVmParams = z.infer<typeof CreateVmParams>

/**
 * Settings changed on an existing VM. The name can change at any time; hardware (CPUs, memory,
 * firmware, boot order) only while the VM is stopped, as on a real machine.
 */
export const UpdateVmParams = z
  .object({
    vm: Ref,
    name: VmName.optional(),
    cpus: CpuCount.optional(),
    memoryMiB: MemoryMiB.optional(),
    firmware: Firmware.optional(),
    bootOrder: BootOrder.optional(),
  })
  .strict()
export type UpdateVmParams = z.infer<typeof UpdateVmParams>

/** One of a VM's disks: the VM by name or UUID, the disk by its device id (see `vireo info`). */
const DiskRef = z.object({ vm: Ref, disk: Ref })

export const DiskCheckResult = z.object({
  disk: z.string(),
  path: z.string(),
  verdict: z.enum(['clean', 'leaks', 'corrupt', 'unreadable']),
  leaks: z.number().int(),
  leaksFixed: z.number().int(),
  corruptions: z.number().int(),
  report: z.string(),
})
export type DiskCheckResult = z.infer<typeof DiskCheckResult>

/**
 * A network card's settings. Model, MAC and network change while the VM is stopped; the cable
 * (linkUp) also while it runs, as pulling a real one would.
 */
export const UpdateNicParams = z
  .object({
    vm: Ref,
    nic: Ref,
    model: NicModel.optional(),
    mac: MacAddress.optional(),
    network: Network.optional(),
    linkUp: z.boolean().optional(),
  })
  .strict()
export type UpdateNicParams = z.infer<typeof UpdateNicParams>

/** A disk's settings; bus and read-only while the VM is stopped, like moving a real disk's cable. */
export const UpdateDiskParams = z
  .object({
    vm: Ref,
    disk: Ref,
    bus: DiskBus.optional(),
    cache: CacheMode.optional(),
    discard: z.boolean().optional(),
    detectZeroes: DetectZeroes.optional(),
    readOnly: z.boolean().optional(),
    iothread: z.boolean().optional(),
  })
  .strict()
export type UpdateDiskParams = z.infer<typeof UpdateDiskParams>

/** A guest OS as Vireo recognised it, and from what. */
export const DetectedOs = z.object({
  /** osinfo-db's short id (debian12, win10, …) or a built-in one. */
  id: z.string(),
  name: z.string(),
  source: z.enum(['osinfo-db', 'built-in']),
  /** What matched, in words: `volume id "Debian 12.5.0 amd64 n"`. */
  evidence: z.string(),
})
export type DetectedOs = z.infer<typeof DetectedOs>

const Recommend = <T extends z.ZodType>(value: T) => z.object({ value, reason: z.string() })

/** Defaults for a new VM from what an image holds, each with the reason a user is shown. */
export const Recommended = z.object({
  memoryMiB: Recommend(MemoryMiB),
  diskSize: Recommend(SizeString.nullable()),
  firmware: Recommend(Firmware),
  nic: Recommend(NicModel),
  diskBus: Recommend(DiskBus),
  cpus: Recommend(CpuCount),
})
export type Recommended = z.infer<typeof Recommended>

/** An appliance's hardware as its OVF descriptor states it. */
export const ApplianceSummary = z.object({
  name: z.string(),
  cpus: z.number().int(),
  memoryMiB: z.number().int(),
  firmware: Firmware,
  disks: z.array(z.object({ file: z.string(), capacityBytes: z.number(), bus: DiskBus })),
  nics: z.array(z.object({ model: NicModel, mac: z.string().optional() })),
  os: z.string().optional(),
})
export type ApplianceSummary = z.infer<typeof ApplianceSummary>

/** What a file on the host is, what it likely holds, and what a VM made from it should have. */
export const ImageInspection = z.object({
  path: z.string(),
  kind: z.enum(['iso', 'disk', 'appliance', 'kernel']),
  sizeBytes: z.number().int().nonnegative(),
  iso: z
    .object({
      volumeId: z.string(),
      /** El Torito boot entries: which firmware can start this CD. */
      bootable: z.object({ bios: z.boolean(), uefi: z.boolean() }),
      /** An MBR as well: the same file boots as a hard disk or USB stick. */
      hybrid: z.boolean(),
    })
    .nullable(),
  disk: z
    .object({
      format: z.string(),
      virtualSize: z.number(),
      backingFile: z.string().nullable(),
      /**
       * Every file the image makes QEMU open, the image first: what `--allow-backing` must name
       * (all but the image itself) for Vireo to use it.
       */
      chain: z.array(
        z.object({
          path: z.string(),
          role: z.enum(['image', 'backing file', 'external data file', 'extent']),
          format: z.string().nullable(),
        }),
      ),
    })
    .nullable(),
  appliance: ApplianceSummary.nullable(),
  os: DetectedOs.nullable(),
  recommended: Recommended,
  /** Things the user should know before going on, in words. */
  warnings: z.array(z.string()),
})
export type ImageInspection = z.infer<typeof ImageInspection>

/** A snapshot's display name: visible text (in NFC), not blank; the same rule as a VM name's. */
export const SnapshotName = z
  .string()
  .trim()
  .normalize('NFC')
  .min(1, 'a snapshot name cannot be empty')
  .max(128, 'a snapshot name is at most 128 characters')
  .superRefine((s, ctx) => {
    const hidden = hiddenCharIn(s)
    if (hidden)
      ctx.addIssue({
        code: 'custom',
        message: `a snapshot name cannot hold control, invisible or text-direction characters, and this one holds ${hidden}; type the name without it`,
      })
  })

/** One point in a VM's snapshot tree. */
export const SnapshotInfo = z.object({
  id: z.string().regex(/^[a-z0-9-]{1,40}$/),
  name: z.string(),
  description: z.string(),
  createdAt: z.iso.datetime(),
  /** The snapshot this one was taken after; null for the first. */
  parent: z.string().nullable(),
  /** `live`: memory and disks (reverting resumes the running guest); `disk`: disks only. */
  kind: z.enum(['live', 'disk']),
  /** The VM's settings when it was taken: reverting restores them. */
  config: VmConfig,
  /** A small PNG of the screen (base64) when the VM was running; null otherwise. */
  thumbnail: z.string().nullable(),
})
export type SnapshotInfo = z.infer<typeof SnapshotInfo>

export const SnapshotTree = z.object({
  snapshots: z.array(SnapshotInfo),
  /** Where the VM now stands: the snapshot its current state grew from; null before the first. */
  current: z.string().nullable(),
  /** Why a snapshot cannot be taken now (a raw disk, say), each with what to do; empty when it can. */
  blockers: z.array(z.string()),
})
export type SnapshotTree = z.infer<typeof SnapshotTree>

/** What device.attach adds: a disk or a network card. */
export const DeviceKind = z.enum(['disk', 'nic'])
export type DeviceKind = z.infer<typeof DeviceKind>

/** A device added to a VM, running (hot-plug) or stopped. */
export const AttachParams = z.discriminatedUnion('kind', [
  z.object({
    vm: Ref,
    kind: z.literal(DeviceKind.enum.disk),
    /** A new empty qcow2 of this size, or an existing image (used in place). */
    size: SizeString.optional(),
    image: UserPath.optional(),
    /** Files outside the VM's folder the image may read (its backing files, data file, extents). */
    allowBacking: AllowBacking.optional(),
    bus: DiskBus.optional(),
  }),
  z.object({
    vm: Ref,
    kind: z.literal(DeviceKind.enum.nic),
    model: NicModel.optional(),
    network: Network.optional(),
  }),
])
export type AttachParams = z.infer<typeof AttachParams>

/** The device an attach added, as the VM's config now holds it (its id, bus or model, PCI slot …). */
export const AttachedDevice = z.discriminatedUnion('kind', [
  Disk.extend({ kind: z.literal(DeviceKind.enum.disk) }),
  Nic.extend({ kind: z.literal(DeviceKind.enum.nic) }),
])
export type AttachedDevice = z.infer<typeof AttachedDevice>

/** What device.attach answers: the new device, so that no caller has to diff configs, and the VM. */
export const AttachResult = z.object({ device: AttachedDevice, vm: VmInfo })
export type AttachResult = z.infer<typeof AttachResult>

const Empty = z.object({}).strict()

/** Every method: its params and its result. */
export const Methods = {
  'host.info': { params: Empty, result: HostInfo },
  'host.stop': { params: z.object({ stopVms: z.boolean().default(false) }), result: Empty },
  'vm.list': { params: Empty, result: z.array(VmSummary) },
  'vm.info': { params: VmRef, result: VmInfo },
  'vm.create': { params: CreateVmParams, result: VmInfo },
  'vm.update': { params: UpdateVmParams, result: VmInfo },
  /** qemu-img check with a plain report; with repair, leaked clusters are freed (VM stopped). */
  'nic.update': { params: UpdateNicParams, result: VmInfo },
  'disk.check': { params: DiskRef.extend({ repair: z.boolean().default(false) }), result: DiskCheckResult },
  /** Grows a disk, running (QMP block_resize) or stopped (qemu-img resize). */
  'disk.resize': { params: DiskRef.extend({ size: SizeString }), result: VmInfo },
  /** Rewrites a stopped VM's qcow2 without unused clusters, or turns a raw disk into qcow2. */
  'disk.compact': { params: DiskRef.extend({ job: JobId.optional() }), result: VmInfo },
  'disk.convert': {
    params: DiskRef.extend({ to: z.literal('qcow2'), job: JobId.optional() }),
    result: VmInfo,
  },
  /** A disk's bus, cache mode, discard, detect-zeroes, read-only and I/O thread. */
  'disk.update': { params: UpdateDiskParams, result: VmInfo },
  /** Inserts a medium into a CD drive (path) or ejects it (null); running or stopped. */
  'cdrom.change': {
    params: VmRef.extend({ cdrom: Ref.optional(), path: UserPath.nullable() }),
    result: VmInfo,
  },
  /** Looks into an ISO, disk image, appliance or kernel on the host: what it is, its OS, good defaults. */
  'image.inspect': { params: z.object({ path: UserPath }), result: ImageInspection },
  /** A VM from an OVA or OVF appliance: hardware mapped, disks converted to qcow2 (with progress). */
  'vm.import': {
    params: z.object({ path: UserPath, name: VmName.optional(), job: JobId.optional() }),
    result: VmInfo,
  },
  /** Writes a stopped VM as an OVA (OVF 1.x descriptor, streamOptimized VMDK disks, SHA-256 manifest). */
  'vm.export': {
    params: VmRef.extend({ path: UserPath, job: JobId.optional() }),
    result: z.object({ path: z.string(), bytes: z.number().int() }),
  },
  'snapshot.list': { params: VmRef, result: SnapshotTree },
  /** Live (memory and disks) when the VM runs, disks only when it is stopped. */
  'snapshot.take': {
    params: VmRef.extend({
      name: SnapshotName,
      description: z.string().max(4096).default(''),
      job: JobId.optional(),
    }),
    result: SnapshotInfo,
  },
  /** Back to a snapshot: its disks, its settings, and (a live one) its running memory. */
  'snapshot.revert': {
    params: VmRef.extend({ snapshot: Ref, job: JobId.optional() }),
    result: VmInfo,
  },
  /** Removes a snapshot; its data is merged so that no other snapshot and no current state changes. */
  'snapshot.delete': {
    params: VmRef.extend({ snapshot: Ref, job: JobId.optional() }),
    result: SnapshotTree,
  },
  /** A new VM from this one (or one of its snapshots): a full copy, or linked (qcow2 backing files). */
  'vm.clone': {
    params: VmRef.extend({
      name: VmName,
      from: Ref.optional(),
      linked: z.boolean().default(false),
      job: JobId.optional(),
    }),
    result: VmInfo,
  },
  /** Adds a disk or a network card, running (hot-plug) or stopped; recorded in vm.json. */
  'device.attach': { params: AttachParams, result: AttachResult },
  /** Removes a disk or a network card by id; a running guest must release it (DEVICE_DELETED). */
  'device.detach': { params: VmRef.extend({ device: Ref }), result: VmInfo },
  'vm.start': { params: VmRef, result: VmInfo },
  'vm.pause': { params: VmRef, result: VmInfo },
  'vm.resume': { params: VmRef, result: VmInfo },
  'vm.reset': { params: VmRef, result: VmInfo },
  'vm.stop': {
    params: VmRef.extend({
      force: z.boolean().default(false),
      /** How long the guest gets to shut down after the ACPI request before power-off. */
      timeoutMs: z.number().int().min(0).max(3_600_000).default(60_000),
    }),
    result: VmInfo,
  },
  'vm.delete': { params: VmRef.extend({ keepDisks: z.boolean().default(false) }), result: Empty },
  'vm.qemuArgv': { params: VmRef, result: z.object({ argv: z.array(z.string()) }) },
  'vm.screenshot': {
    params: VmRef,
    result: z.object({ png: z.string(), width: z.number(), height: z.number() }),
  },
  /** Opens a byte stream (serial console or RFB display); its data travels in binary frames. */
  'stream.open': {
    params: VmRef.extend({ kind: z.enum(['console', 'display']) }),
    result: z.object({ channel: z.number().int().min(1) }),
  },
  'stream.close': { params: z.object({ channel: z.number().int().min(1) }), result: Empty },

  /**
   * Accept other hosts (and browsers, with the token) on TCP, or stop; remembered for the next start.
   * Loopback unless an address is given.
   */
  'host.accept': {
    params: z.object({
      enabled: z.boolean(),
      address: z.string().min(1).default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(0),
    }),
    result: z.object({
      listening: z.object({ address: z.string(), port: z.number().int() }).nullable(),
      url: z.string().nullable(),
    }),
  },
  /** A one-time code another host pairs with (this host must accept other hosts: `vireo serve`). */
  'host.pairCode': { params: Empty, result: PairCodeInfo },
  /** Pairs with another host by its code (a PAKE; the code never leaves this host) and remembers it. */
  'remote.add': {
    params: z.object({ name: RemoteName, address: HostPort, code: PairCode }),
    result: RemoteInfo,
  },
  'remote.list': { params: Empty, result: z.array(RemoteInfo) },
  /** Forgets a remote host and its key. */
  'remote.remove': { params: z.object({ name: RemoteName }), result: Empty },
  /** A remote host's VMs and their state, over the paired channel. */
  'remote.vms': { params: z.object({ remote: RemoteName }), result: RemoteVms },
  /** What would stop this VM moving to that host, each in plain words; nothing is changed. */
  'migration.check': { params: MigrateOptions, result: CompatibilityReport },
  /** Moves (or copies) a VM to a remote host: live while it runs, else offline. Progress as events. */
  'vm.migrate': { params: MigrateOptions.extend({ job: JobId.optional() }), result: MigrationResult },
  /** Stops a migration under way; the VM keeps running here as it was. */
  'migration.cancel': { params: VmRef, result: Empty },

  // Peer-only: answered on the paired TLS-PSK channel alone, refused anywhere else.
  'peer.hello': { params: Empty, result: PeerHello },
  /** Makes the VM's folder (hidden from the library); its files follow by upload. */
  'peer.incoming.prepare': { params: IncomingPlan, result: Empty },
  /** Live: starts QEMU waiting for the guest, its disks exported over NBD (TLS) for the mirror. */
  'peer.incoming.start': {
    params: z.object({ migration: MigrationId }),
    result: z.object({ nbdPort: z.number().int().nullable() }),
  },
  /** Opens the migration port for this migration only. */
  'peer.incoming.listen': {
    params: z.object({ migration: MigrationId }),
    result: z.object({ port: z.number().int() }),
  },
  /** The source has switched over: the guest runs here from now on (or, offline, the VM is registered). */
  'peer.incoming.commit': {
    params: z.object({ migration: MigrationId }),
    result: z.object({
      vm: VmSummary,
      /** From the commit's arrival to the guest's CPUs running (live), on the destination's clock. */
      resumeMs: z.number().nonnegative(),
      /** From its arrival to this answer. */
      handledMs: z.number().nonnegative(),
    }),
  },
  /** Anything made for this migration is removed. */
  'peer.incoming.abort': {
    params: z.object({ migration: MigrationId, reason: z.string().max(1000) }),
    result: Empty,
  },
} as const

export type Methods = typeof Methods
export type MethodName = keyof Methods
export type ParamsIn<M extends MethodName> = z.input<Methods[M]['params']>
export type Params<M extends MethodName> = z.output<Methods[M]['params']>
export type Result<M extends MethodName> = z.output<Methods[M]['result']>

export const Events = {
  'vm.state': z.object({ id: z.uuid(), name: z.string(), state: VmState, reason: z.string().optional() }),
  'vm.added': VmSummary,
  'vm.removed': z.object({ id: z.uuid() }),
  'vm.updated': VmSummary,
  'job.progress': JobProgress,
  'migration.progress': MigrationProgress,
  /** A stream ended on the engine's side (VM stopped). */
  'stream.closed': z.object({ channel: z.number().int(), reason: z.string() }),
} as const
export type Events = typeof Events
export type EventName = keyof Events
export type EventData<E extends EventName> = z.output<Events[E]>

// Envelopes on the wire.
export const RequestEnvelope = z.object({
  type: z.literal('request'),
  id: z.number().int(),
  method: z.string(),
  params: z.unknown().optional(),
})
export const ResponseEnvelope = z.union([
  z.object({ type: z.literal('response'), id: z.number().int(), result: z.unknown() }),
  z.object({ type: z.literal('response'), id: z.number().int(), error: RpcErrorBody }),
])
export const EventEnvelope = z.object({ type: z.literal('event'), event: z.string(), data: z.unknown() })
export const Envelope = z.union([RequestEnvelope, ResponseEnvelope, EventEnvelope])
export type RequestEnvelope = z.infer<typeof RequestEnvelope>
export type ResponseEnvelope = z.infer<typeof ResponseEnvelope>
export type EventEnvelope = z.infer<typeof EventEnvelope>

export function isMethodName(name: string): name is MethodName {
  return Object.hasOwn(Methods, name)
}
export function isEventName(name: string): name is EventName {
  return Object.hasOwn(Events, name)
}
