// Hosts that trust each other and machines that move between them: the schemas of pairing, remote
// hosts, the compatibility check, migration progress and its result, and the peer-only calls one
// engine makes on another over the paired TLS-PSK channel.
import { z } from 'zod'
import { VmConfig } from './vm-config.ts'

/** A remote host's local name: what the user types after --to. */
export const RemoteName = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/,
    'a remote name is up to 63 letters, digits, dots, dashes or underscores, starting with a letter or digit',
  )
export type RemoteName = z.infer<typeof RemoteName>

/** The alphabet of pairing codes: no 0/O, 1/I/L or U, so a code read aloud is typed right. */
export const PAIR_CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTVWXYZ23456789'

/** A pairing code as typed: any case, with or without the dash; normalised to 8 symbols. */
export const PairCode = z
  .string()
  .transform((s) => s.replace(/[\s-]/g, '').toUpperCase())
  .pipe(
    z
      .string()
      .regex(
        new RegExp(`^[${PAIR_CODE_ALPHABET}]{8}$`),
        'a pairing code is 8 letters and digits, as shown by `vireo host pair-code` on the other host',
      ),
  )

/** `HOST:PORT`, `[IPv6]:PORT`. */
export const HostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'an address is HOST:PORT, e.g. 192.0.2.7:7300')

export const PairCodeInfo = z.object({
  /** Shown as XXXX-XXXX; valid once, until expiresAt. */
  code: z.string(),
  expiresAt: z.iso.datetime(),
  /** Where other hosts reach this one (the serve port). */
  address: z.string(),
  port: z.number().int(),
})
export type PairCodeInfo = z.infer<typeof PairCodeInfo>

export const RemoteInfo = z.object({
  name: RemoteName,
  address: z.string(),
  port: z.number().int(),
  /** The remote host's own id and name, learnt while pairing. */
  hostId: z.uuid(),
  hostName: z.string(),
  pairedAt: z.iso.datetime(),
})
export type RemoteInfo = z.infer<typeof RemoteInfo>

export const RemoteVmSummary = z.object({
  id: z.uuid(),
  name: z.string(),
  state: z.string(),
  os: z.string().optional(),
  cpus: z.number().int(),
  memoryMiB: z.number().int(),
})

/** A remote host's machines as seen now; `error` in words when it cannot be reached. */
export const RemoteVms = z.object({
  remote: RemoteName,
  reachable: z.boolean(),
  error: z.string().nullable(),
  vms: z.array(RemoteVmSummary),
})
export type RemoteVms = z.infer<typeof RemoteVms>

export const MigrateOptions = z.object({
  vm: z.string().min(1).max(256),
  to: RemoteName,
  /** Move a stopped VM's files. A running VM migrates live unless this is set (then it must be stopped). */
  offline: z.boolean().default(false),
  /** Keep the VM on this host as well (stopped); default: released once the destination has it. */
  copy: z.boolean().default(false),
  /** Limit of the migration stream and the disk copy, in megabits per second. */
  bandwidthMbps: z.number().int().min(1).max(1_000_000).optional(),
  /** The longest pause of the guest allowed at switch-over. */
  maxDowntimeMs: z.number().int().min(1).max(60_000).default(300),
  /** Slow the guest's CPUs down when its memory changes faster than the link carries it. */
  autoConverge: z.boolean().default(true),
  /** Opt-in post-copy: after its switch-over a broken link loses the running guest. */
  postcopy: z.boolean().default(false),
})
export type MigrateOptions = z.infer<typeof MigrateOptions>

export const CompatibilityCheck = z.object({
  /** What was checked, in a few words: "QEMU version", "free disk space". */
  what: z.string(),
  ok: z.boolean(),
  /** The finding, in plain words, with what to do when it fails. */
  detail: z.string(),
})
export type CompatibilityCheck = z.infer<typeof CompatibilityCheck>

export const CompatibilityReport = z.object({
  ok: z.boolean(),
  mode: z.enum(['live', 'offline']),
  checks: z.array(CompatibilityCheck),
  /** Snapshots that travel with the VM, and those that cannot (with why). */
  snapshots: z.object({
    travel: z.array(z.string()),
    cannotTravel: z.array(z.object({ name: z.string(), reason: z.string() })),
  }),
  /** About how many bytes will cross the link (files plus the disks' written data; memory not counted). */
  transferBytes: z.number().nonnegative(),
})
export type CompatibilityReport = z.infer<typeof CompatibilityReport>

export const MigrationPhase = z.enum([
  'checking',
  'copying-files',
  'copying-disks',
  'copying-memory',
  'switching-over',
  'cleaning-up',
])
export type MigrationPhase = z.infer<typeof MigrationPhase>

export const MigrationProgress = z.object({
  job: z.string(),
  vm: z.uuid(),
  phase: MigrationPhase,
  /** Of this phase. */
  bytesDone: z.number().nonnegative(),
  bytesLeft: z.number().nonnegative().nullable(),
  /** Guest pages dirtied per second (memory phase). */
  dirtyPagesPerSecond: z.number().nonnegative().nullable(),
  /** QEMU's estimate of the pause at switch-over (memory phase). */
  expectedDowntimeMs: z.number().nonnegative().nullable(),
  /** Estimated time left in this phase. */
  etaMs: z.number().nonnegative().nullable(),
  /** Throughput now, bytes per second. */
  bytesPerSecond: z.number().nonnegative().nullable(),
})
export type MigrationProgress = z.infer<typeof MigrationProgress>

export const MigrationResult = z.object({
  vm: z.uuid(),
  name: z.string(),
  to: RemoteName,
  mode: z.enum(['live', 'offline']),
  copy: z.boolean(),
  /** How long the guest was paused at switch-over, as QEMU measured it (live only). */
  downtimeMs: z.number().nonnegative().nullable(),
  totalMs: z.number().nonnegative(),
  /** Bytes that crossed the link: files, disk data and memory. */
  bytes: z.number().nonnegative(),
  /** The switch-over came before all memory had crossed (opt-in post-copy). */
  postcopy: z.boolean().default(false),
})
export type MigrationResult = z.infer<typeof MigrationResult>

// ---- peer-only (one engine to another, over the paired channel) -----------------------------

export const PeerHello = z.object({
  hostId: z.uuid(),
  hostName: z.string(),
  version: z.string(),
  qemu: z
    .object({ version: z.string(), machines: z.array(z.string()), devices: z.array(z.string()) })
    .nullable(),
  accelerator: z.string().nullable(),
  ovmf: z.boolean(),
  freeDiskBytes: z.number().nonnegative(),
  freeMemoryBytes: z.number().nonnegative(),
  /** The address this host's migration ports listen on. */
  migrationAddress: z.string(),
})
export type PeerHello = z.infer<typeof PeerHello>

/** A migration's id: random, chosen by the source. */
export const MigrationId = z.string().regex(/^[a-f0-9]{16,32}$/)

/** One file the destination receives whole: immutable snapshot layers, memory files, media, index. */
export const IncomingFile = z.object({
  /** Relative to the VM folder on the destination. */
  rel: z.string().min(1).max(512),
  size: z.number().int().nonnegative(),
  /** qcow2 files whose backing file must be named anew (it moved into the VM folder). */
  backing: z.string().nullable(),
})
export type IncomingFile = z.infer<typeof IncomingFile>

/** A disk whose active layer is mirrored while the guest runs (live migration). */
export const MirroredDisk = z.object({
  /** The block node QEMU exports and mirrors: the disk's format node, or the UEFI vars. */
  node: z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/),
  rel: z.string().min(1).max(512),
  format: z.enum(['qcow2', 'raw']),
  virtualSize: z.number().int().positive(),
  /** Relative to the VM folder: a file of the `files` list. */
  backing: z.string().nullable(),
})
export type MirroredDisk = z.infer<typeof MirroredDisk>

export const IncomingPlan = z.object({
  migration: MigrationId,
  mode: z.enum(['live', 'offline']),
  /** The VM's settings with every path made relative to its folder. */
  config: VmConfig,
  files: z.array(IncomingFile).max(10_000),
  mirrored: z.array(MirroredDisk).max(64),
  sourceHostName: z.string(),
  /** The guest's accelerator on the source (live: the destination must run the same). */
  accelerator: z.string().nullable(),
  postcopy: z.boolean().default(false),
})
export type IncomingPlan = z.infer<typeof IncomingPlan>
