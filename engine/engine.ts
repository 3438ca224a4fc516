// The engine: the VM control plane. It owns the library and every running VM, and serves the RPC
// contract (engine/api) to any transport. It never imports electron.
import { randomBytes, randomUUID } from 'node:crypto'
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, statfsSync } from 'node:fs'
import { availableParallelism, freemem } from 'node:os'
import { basename, isAbsolute, join, relative } from 'node:path'
import type { ByteStream, Handlers, RpcBackend, StreamKind, StreamSink } from './api/backend.ts'
import { VireoError } from './api/errors.ts'
import type {
  AcceleratorProbe,
  AcceleratorVerdict,
  CreateVmParams,
  EventData,
  EventName,
  HostInfo,
  VmInfo,
  VmState,
  VmSummary,
  UpdateVmParams,
  DiskCheckResult,
  ImageInspection,
  Params,
  Result,
  UpdateNicParams,
  UpdateDiskParams,
  AttachParams,
  AttachResult,
} from './api/rpc.ts'
import { Listeners } from './api/transport.ts'
import { VM_CONFIG_SCHEMA_VERSION, VmConfig, type VmConfigInput } from './api/vm-config.ts'
import { exportAppliance } from './appliance/export.ts'
import { importAppliance } from './appliance/import.ts'
import { uniqueName } from './appliance/unique-name.ts'
import { checkDisc, ejectMedium, insertMedium } from './devices/cdrom-media.ts'
import { attachDevice, type DeviceChangeContext } from './devices/attach.ts'
import { detachDevice } from './devices/detach.ts'
import { applyDiskSettings, changedDiskSettings } from './devices/disk-settings.ts'
import { assignPlacements } from './qemu/argv/placement.ts'
import { DEMO_VM_NAME, findDemoIso } from './images/demo-image.ts'
import { dataDirLayout, userCacheDir, vmRuntimeDir, type DataDirLayout } from './util/data-dir.ts'
import { findProbeImage, probeAccelerator } from './qemu/accel-probe.ts'
import { buildQemuArgv, nicsWithLinkDown, type LaunchContext } from './qemu/argv/index.ts'
import { findOvmf, findQemu, type QemuInstallation } from './qemu/binaries.ts'
import { assertForwardsFree } from './net/forward-check.ts'
import { InternalNetworks, internalPorts } from './net/internal-networks.ts'
import { adviceFor, inspectForCreate, inspectImageFile, type InspectDeps } from './images/inspect-image.ts'
import { UEFI_MIN_MIB } from './images/recommend.ts'
import { loadOsIndex } from './osinfo/os-index.ts'
import { checkedUserChain, prepareExistingDisk } from './storage/existing-disk.ts'
import { checkDisk, formatBytes, growDisk, rewriteDisk } from './storage/disk-ops.ts'
import { checkImage, convertImage, createImage, imageInfo } from './storage/qemu-img.ts'
import { parseSize } from './storage/size.ts'
import { checkUserFile } from './storage/user-file.ts'
import { sameFile } from './storage/same-file.ts'
import { vmChains } from './storage/launch-chains.ts'
import { resolveVmPath, VmLibrary, type VmRecord } from './vm/library.ts'
import { RunningVm, runtimeFiles } from './vm/running-vm.ts'
import { activeNvramRel } from './snapshots/chain-files.ts'
import { cloneFiles } from './snapshots/clone.ts'
import { deleteSnapshot } from './snapshots/delete.ts'
import { findSnapshot, loadIndex } from './snapshots/index.ts'
import { loadLive } from './snapshots/live-load.ts'
import { recoverSnapshots } from './snapshots/recover.ts'
import { collect, revertFiles, snapshotTree } from './snapshots/revert.ts'
import { stateSocket, takeSnapshot } from './snapshots/take.ts'
import type { VmHandle } from './snapshots/vm-handle.ts'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { MigrationResult, PeerHello } from './api/migration.ts'
import { Peers } from './peers/peers.ts'
import type { QmpClient } from './qmp/client.ts'
import type { Peer } from './peers/trust-store.ts'
import { IncomingMigrations } from './migration/incoming.ts'
import { checkMigration, migrateOut } from './migration/source.ts'
import { hostFacts } from './migration/host-facts.ts'

export const VIREO_VERSION = '0.1.0'

interface Entry {
  record: VmRecord
  running: RunningVm | null
  state: VmState
  lastError: string | null
  lastExit: VmInfo['lastExit']
  /** QEMU ended without a clean exit (a crash, or it died while no engine ran): check disks first. */
  needsCheck: boolean
  /** Serialises lifecycle operations on one VM. */
  busy: Promise<unknown>
}

export interface EngineOptions {
  dataDir: string
  env?: NodeJS.ProcessEnv
  /** Set by the host once it listens. */
  socketPath?: string
  /** What `host.stop` does: the host that carries this engine decides how it goes away. */
  onHostStop?: (stopVms: boolean) => void
  log?: (line: string) => void
  /** How long a migration may move no byte before the link counts as cut. */
  migrationStallMs?: number
}

type AnyListener = <E extends EventName>(event: E, data: EventData<E>) => void

export class Engine implements RpcBackend {
  readonly layout: DataDirLayout
  readonly library: VmLibrary
  private readonly env: NodeJS.ProcessEnv
  private readonly entries = new Map<string, Entry>()
  private readonly listeners = new Listeners<{ event: EventName; data: unknown }>()
  private qemuInstall: Promise<QemuInstallation> | null = null
  private verdict: Promise<AcceleratorVerdict> | null = null
  private resolvedVerdict: AcceleratorVerdict | null = null
  /** Where the probe started by init() is, for host.info: "will my VMs be accelerated" before any start. */
  private probeState: AcceleratorProbe | null = null
  /** A probe still booting its kernel when the engine goes away is killed, never left behind. */
  private readonly probeStop = new AbortController()
  url: string | null = null
  socketPath: string
  private readonly onHostStop: ((stopVms: boolean) => void) | null
  /** The switches of the internal networks; QEMU listens, so a new engine re-plugs every card. */
  private readonly networks = new InternalNetworks()
  /** How long the last live revert's state load took (for logs/snapshots.log). */
  private lastLoadMs = 0
  readonly peers: Peers
  private readonly incoming: IncomingMigrations
  /** Migrations this host is sending, by VM id: cancelled through their controller. */
  private readonly outgoing = new Map<string, AbortController>()
  private readonly log: (line: string) => void
  private readonly migrationStallMs: number
  private nextPeerSession = 1
  /** Set by the host: opens or closes its TCP listener (host.accept). */
  onAccept: ((p: Params<'host.accept'>) => Promise<Result<'host.accept'>>) | null = null

  constructor(opts: EngineOptions) {
    this.env = opts.env ?? process.env
    this.layout = dataDirLayout(opts.dataDir, this.env)
    this.library = new VmLibrary(this.layout.vmsDir)
    this.socketPath = opts.socketPath ?? this.layout.hostSocket
    this.onHostStop = opts.onHostStop ?? null
    this.log = opts.log ?? (() => undefined)
    this.migrationStallMs = opts.migrationStallMs ?? Number(this.env.VIREO_MIGRATION_STALL_MS ?? 20_000)
    this.peers = new Peers(this.layout.peersFile, this.log)
    this.incoming = new IncomingMigrations({
      vmsDir: this.layout.vmsDir,
      runtimeDirOf: (id) => vmRuntimeDir(this.layout, id),
      qemuImg: async () => (await this.qemu()).img,
      clash: (c) => {
        if (this.entries.has(c.id)) return `this host has the VM ${c.id} already`
        const other = this.library.find(c.name)
        return other ? `this host has a VM named "${other.config.name}" already` : null
      },
      launchIncoming: (dir, config, hook) => this.launchIncoming(dir, config, hook),
      register: (dir, config) => this.summary(this.entries.get(this.register(config).id)!),
      listenAddress: () => this.peers.listening?.address ?? '127.0.0.1',
      log: this.log,
    })
  }

  /** Loads the library and re-attaches to every QEMU an earlier engine left running. */
  async init(): Promise<void> {
    mkdirSync(this.layout.cacheDir, { recursive: true })
    // In the background: nothing waits on it but the first start (a cached verdict takes no time).
    this.accelerator().catch(() => undefined)
    this.incoming.sweep()
    this.library.load()
    for (const record of this.library.list()) {
      const entry: Entry = {
        record,
        running: null,
        state: 'stopped',
        lastError: null,
        lastExit: null,
        needsCheck: false,
        busy: Promise.resolve(),
      }
      this.entries.set(record.config.id, entry)
      try {
        const paths = this.pathsOf(record)
        const hadRuntime = existsSync(runtimeFiles(paths).record)
        const running = await RunningVm.reattach(paths)
        if (running) this.adopt(entry, running)
        else if (hadRuntime) entry.needsCheck = true
      } catch (err) {
        entry.lastError = `could not re-attach to the running VM: ${(err as Error).message}`
      }
      // A take, revert or delete cut short by a kill is finished or undone before anything else.
      try {
        if (existsSync(join(record.dir, 'snapshots')))
          await recoverSnapshots(this.vmHandle(entry, await this.qemu()))
      } catch (err) {
        entry.lastError = `could not recover the snapshots: ${(err as Error).message}`
      }
    }
  }

  /** The engine goes away; running VMs stay up (unless asked) for the next engine to adopt. */
  async dispose(opts: { stopVms?: boolean } = {}): Promise<void> {
    this.probeStop.abort()
    const running = [...this.entries.values()].flatMap((e) => (e.running ? [e.running] : []))
    // Migrations first: an outgoing one resumes its guest here, an incoming one ends its QEMU.
    for (const ac of this.outgoing.values()) ac.abort()
    await this.incoming.dispose()
    if (opts.stopVms) await Promise.all(running.map((r) => r.shutdown(30_000).catch(() => undefined)))
    else for (const r of running) r.detach()
    this.networks.dispose()
    this.listeners.clear()
    await this.verdict?.catch(() => undefined)
  }

  onEvent(listener: AnyListener) {
    return this.listeners.add(({ event, data }) => listener(event, data as never))
  }

  private emit<E extends EventName>(event: E, data: EventData<E>): void {
    this.listeners.emit({ event, data })
  }

  qemu(): Promise<QemuInstallation> {
    this.qemuInstall ??= findQemu(this.env).catch((err: unknown) => {
      this.qemuInstall = null
      throw err
    })
    return this.qemuInstall
  }

  accelerator(): Promise<AcceleratorVerdict> {
    if (this.verdict) return this.verdict
    this.probeState = { state: 'probing' }
    this.verdict = this.qemu()
      .then((qemu) =>
        probeAccelerator({
          qemu,
          image: findProbeImage(this.env),
          cacheFile: join(userCacheDir(this.env), 'accelerator.json'),
          signal: this.probeStop.signal,
        }),
      )
      .then(
        (v) => {
          this.resolvedVerdict = v
          this.probeState = { state: 'done' }
          return v
        },
        (err: unknown) => {
          // The next start probes again: QEMU may have been installed since.
          this.verdict = null
          this.probeState = { state: 'failed', reason: (err as Error).message }
          throw err
        },
      )
    return this.verdict
  }

  // ---- lookups -------------------------------------------------------------------------------

  private entry(ref: string): Entry {
    const rec = this.library.resolve(ref)
    const e = this.entries.get(rec.config.id)
    if (!e) throw new VireoError('not_found', `there is no VM named "${ref}"`)
    return e
  }

  private pathsOf(record: VmRecord) {
    return { vmDir: record.dir, runtimeDir: vmRuntimeDir(this.layout, record.config.id) }
  }

  private summary(e: Entry): VmSummary {
    const c = e.record.config
    return {
      id: c.id,
      kind: 'vm',
      name: c.name,
      state: e.state,
      ...(c.os ? { os: c.os } : {}),
      cpus: c.cpus,
      memoryMiB: c.memoryMiB,
      firmware: c.firmware,
    }
  }

  private info(e: Entry): VmInfo {
    const r = e.running?.record
    return {
      ...this.summary(e),
      config: e.record.config,
      dir: e.record.dir,
      runtime: r
        ? { pid: r.pid, accelerator: r.accelerator, startedAt: r.startedAt, runtimeDir: r.runtimeDir }
        : null,
      lastError: e.lastError,
      lastExit: e.lastExit,
    }
  }

  private setState(e: Entry, state: VmState, reason?: string): void {
    if (e.state === state) return
    e.state = state
    const c = e.record.config
    this.emit('vm.state', { id: c.id, name: c.name, state, ...(reason ? { reason } : {}) })
  }

  /** Runs lifecycle operations on one VM one after another, never interleaved. */
  private serial<T>(e: Entry, op: () => Promise<T>): Promise<T> {
    const next = e.busy.then(op, op)
    e.busy = next.catch(() => undefined)
    return next
  }

  private adopt(e: Entry, running: RunningVm): void {
    e.running = running
    this.networks.attach(e.record.config.id, internalPorts(e.record.config, running.record.runtimeDir))
    this.setState(e, running.currentState)
    running.onState((s) => this.setState(e, s))
    running.onExit((cause) => {
      this.networks.detach(e.record.config.id)
      e.running = null
      e.lastError = cause.kind === 'crash' ? cause.message : null
      if (cause.kind === 'crash') e.needsCheck = true
      e.lastExit = {
        kind: cause.kind,
        at: new Date().toISOString(),
        ...(cause.kind === 'crash' ? { message: cause.message } : {}),
      }
      const reason =
        cause.kind === 'crash'
          ? cause.message
          : cause.kind === 'guest'
            ? 'the guest powered off'
            : 'powered off'
      this.setState(e, 'stopped', reason)
    })
  }

  // ---- operations ----------------------------------------------------------------------------

  async hostInfo(): Promise<HostInfo> {
    let qemu: HostInfo['qemu'] = null
    try {
      const q = await this.qemu()
      qemu = { binary: q.system, version: q.version }
    } catch {
      /* reported as null: QEMU missing */
    }
    const all = [...this.entries.values()]
    return {
      version: VIREO_VERSION,
      pid: process.pid,
      dataDir: this.layout.root,
      socketPath: this.socketPath,
      url: this.url,
      qemu,
      accelerator: this.resolvedVerdict,
      ...(this.probeState ? { acceleratorProbe: this.probeState } : {}),
      vms: { total: all.length, running: all.filter((e) => e.running).length },
      demo: ((iso) => (iso ? { name: DEMO_VM_NAME, iso } : null))(findDemoIso(this.env)),
    }
  }

  list(): VmSummary[] {
    return this.library.list().map((r) => this.summary(this.entries.get(r.config.id)!))
  }

  async create(p: CreateVmParams): Promise<VmInfo> {
    this.library.assertNameFree(p.name)
    const qemu = await this.qemu()
    const id = randomUUID()
    const dir = this.library.dirFor(id)
    const machineType = p.machine ?? 'q35'
    const iso = p.iso ? checkUserFile(p.iso, 'ISO image') : null
    const existingDisk = p.disk ? checkUserFile(p.disk, 'disk image') : null
    if (existingDisk) {
      this.assertDiskFree(existingDisk, null)
      // Every file the disk would make QEMU open is one the user named, before any tool reads it.
      checkedUserChain(existingDisk, p.allowBacking)
    }
    const directBoot = this.directBootOf(p)
    // What the user left open comes from the image that decides how the VM boots; a truncated ISO
    // is refused here, before anything is written.
    const inspection = directBoot
      ? await inspectForCreate(directBoot.kernel, 'kernel', this.inspectDeps())
      : iso
        ? await inspectForCreate(iso, 'iso', this.inspectDeps())
        : existingDisk
          ? await inspectForCreate(existingDisk, 'disk', this.inspectDeps())
          : null
    const advice = adviceFor(inspection, p.os, this.inspectDeps())
    const firmware = p.firmware ?? advice?.firmware.value ?? 'bios'
    let memoryMiB = p.memoryMiB ?? advice?.memoryMiB.value ?? 1024
    if (p.memoryMiB === undefined && firmware === 'uefi') memoryMiB = Math.max(memoryMiB, UEFI_MIN_MIB)
    if (p.allowBacking && !existingDisk)
      throw new VireoError(
        'invalid_request',
        '--allow-backing names files of an existing disk image (--disk)',
      )
    if (p.disk && p.diskSize)
      throw new VireoError('invalid_request', 'give either an existing disk or a new disk size, not both')
    const diskBytes = p.diskSize ? parseSize(p.diskSize) : null
    const ovmf = firmware === 'uefi' ? findOvmf(this.env) : null
    if (firmware === 'uefi' && !ovmf) {
      throw new VireoError(
        'unavailable',
        'UEFI needs OVMF, which is not installed (Debian/Ubuntu: apt-get install ovmf)',
      )
    }
    mkdirSync(join(dir, 'disks'), { recursive: true })
    mkdirSync(join(dir, 'logs'), { recursive: true })
    try {
      const disks: VmConfigInput['disks'] = []
      const bus = p.diskBus ?? advice?.diskBus.value ?? 'virtio-blk'
      if (existingDisk) {
        const job = p.job
        const prepared = await prepareExistingDisk({
          qemuImg: qemu.img,
          source: existingDisk,
          vmDir: dir,
          name: 'disk0',
          ...(p.diskMode ? { mode: p.diskMode } : {}),
          ...(p.allowBacking ? { allowBacking: p.allowBacking } : {}),
          ...(job
            ? {
                onProgress: (done: number) =>
                  this.emit('job.progress', {
                    job,
                    phase: `converting ${basename(existingDisk)} to qcow2`,
                    done,
                    total: 100,
                    unit: 'percent',
                  }),
              }
            : {}),
        })
        disks.push({
          id: 'disk0',
          path: prepared.path,
          format: prepared.format,
          bus,
          serial: diskSerial(),
          trusted: prepared.trusted,
        })
      } else if (diskBytes) {
        await createImage(qemu.img, join(dir, 'disks', 'disk0.qcow2'), 'qcow2', diskBytes)
        disks.push({
          id: 'disk0',
          path: 'disks/disk0.qcow2',
          format: 'qcow2',
          bus,
          serial: diskSerial(),
          trusted: [],
        })
      }
      if (ovmf) {
        // qcow2, not raw: raw vars make snapshot-save refuse the whole VM.
        await convertImage(qemu.img, ovmf.varsTemplate, join(dir, 'nvram.qcow2'), 'qcow2')
      }
      const input: VmConfigInput = {
        schemaVersion: VM_CONFIG_SCHEMA_VERSION,
        id,
        name: p.name,
        createdAt: new Date().toISOString(),
        ...((p.os ?? inspection?.os?.id) ? { os: p.os ?? inspection?.os?.id } : {}),
        machine: { type: machineType, version: qemu.machineAliases[machineType] },
        firmware,
        accelerator: p.accelerator ?? 'auto',
        cpus: p.cpus ?? advice?.cpus.value ?? 1,
        memoryMiB,
        disks,
        // A CD drive is always there (empty or not): SATA drives cannot be hot-plugged later.
        cdroms: [{ id: 'cd0', path: iso, bus: machineType === 'pc' ? 'ide' : 'sata' }],
        nics:
          p.nic === 'none'
            ? []
            : [
                {
                  id: 'net0',
                  model: p.nic ?? advice?.nic.value ?? 'virtio-net',
                  mac: this.newMac(),
                  network: { mode: 'nat', portForwards: [] },
                },
              ],
        bootOrder: p.bootOrder ?? ['disk', 'cdrom'],
        ...(directBoot ? { directBoot } : {}),
      }
      return this.register(input)
    } catch (err) {
      // Nothing half-created is left behind.
      rmSync(dir, { recursive: true, force: true })
      throw err
    }
  }

  /** Adds a VM whose folder and disks are ready to the library, and tells every client. */
  private register(input: VmConfigInput): VmInfo {
    const rec = this.library.add(assignPlacements(input as VmConfig))
    const e: Entry = {
      record: rec,
      running: null,
      state: 'stopped',
      lastError: null,
      lastExit: null,
      needsCheck: false,
      busy: Promise.resolve(),
    }
    this.entries.set(rec.config.id, e)
    this.emit('vm.added', this.summary(e))
    return this.info(e)
  }

  /**
   * A VM from an OVA or OVF (engine/appliance). A name the user gives must be free; the appliance's
   * own name is made unique ("Name (2)"), since the user did not choose it.
   */
  async importVm(p: Params<'vm.import'>): Promise<VmInfo> {
    if (p.name !== undefined) this.library.assertNameFree(p.name)
    const qemu = await this.qemu()
    const id = randomUUID()
    const dir = this.library.dirFor(id)
    const job = p.job
    const input = await importAppliance({
      path: p.path,
      qemuImg: qemu.img,
      ovmfVarsTemplate: findOvmf(this.env)?.varsTemplate ?? null,
      machineAliases: qemu.machineAliases,
      id,
      vmDir: dir,
      chooseName: (own) => p.name ?? uniqueName(own, (n) => this.library.find(n) === null),
      macInUse: (mac) => this.library.list().some((r) => r.config.nics.some((n) => n.mac === mac)),
      newMac: () => this.newMac(),
      ...(job ? { onProgress: (progress) => this.emit('job.progress', { job, ...progress }) } : {}),
    })
    try {
      return this.register(input)
    } catch (err) {
      rmSync(dir, { recursive: true, force: true })
      throw err
    }
  }

  /** Writes a stopped VM as an OVA (engine/appliance). */
  exportVm(p: Params<'vm.export'>): Promise<{ path: string; bytes: number }> {
    const e = this.entry(p.vm)
    return this.serial(e, async () => {
      // A running guest changes its disks while they are copied: the OVA would hold a torn disk.
      this.requireStopped(e, 'export it')
      const qemu = await this.qemu()
      const job = p.job
      return exportAppliance({
        qemuImg: qemu.img,
        config: e.record.config,
        vmDir: e.record.dir,
        target: p.path,
        ...(job ? { onProgress: (progress) => this.emit('job.progress', { job, ...progress }) } : {}),
      })
    })
  }

  private inspectDeps(): InspectDeps {
    return {
      qemuImg: async () => (await this.qemu()).img,
      osIndex: () => loadOsIndex({ cacheFile: join(userCacheDir(this.env), 'osinfo-index.json') }),
      hostCpus: availableParallelism(),
    }
  }

  inspectImage(path: string): Promise<ImageInspection> {
    return inspectImageFile(path, this.inspectDeps())
  }

  /** A kernel, initrd and command line to boot directly: used where they are, never copied. */
  private directBootOf(p: CreateVmParams): VmConfigInput['directBoot'] {
    if (!p.kernel) {
      if (p.initrd || p.cmdline !== undefined)
        throw new VireoError(
          'invalid_request',
          'an initrd or a kernel command line needs a kernel (--kernel)',
        )
      return undefined
    }
    return {
      kernel: checkUserFile(p.kernel, 'kernel'),
      ...(p.initrd ? { initrd: checkUserFile(p.initrd, 'initrd') } : {}),
      cmdline: p.cmdline ?? '',
    }
  }

  update(p: UpdateVmParams): Promise<VmInfo> {
    const e = this.entry(p.vm)
    return this.serial(e, async () => {
      const c = e.record.config
      const hardware = {
        ...(p.cpus !== undefined && p.cpus !== c.cpus ? { cpus: p.cpus } : {}),
        ...(p.memoryMiB !== undefined && p.memoryMiB !== c.memoryMiB ? { memoryMiB: p.memoryMiB } : {}),
        ...(p.firmware !== undefined && p.firmware !== c.firmware ? { firmware: p.firmware } : {}),
        ...(p.bootOrder !== undefined && p.bootOrder.join() !== c.bootOrder.join()
          ? { bootOrder: p.bootOrder }
          : {}),
      }
      const changes = Object.keys(hardware)
      if (changes.length > 0 && e.state !== 'stopped') {
        throw new VireoError(
          'invalid_state',
          `"${c.name}" is ${e.state}: shut it down to change its ${changes.map(describeSetting).join(', ')}`,
        )
      }
      if (hardware.firmware === 'uefi' && !existsSync(join(e.record.dir, 'nvram.qcow2'))) {
        const ovmf = findOvmf(this.env)
        if (!ovmf) {
          throw new VireoError(
            'unavailable',
            'UEFI needs OVMF, which is not installed (Debian/Ubuntu: apt-get install ovmf)',
          )
        }
        const qemu = await this.qemu()
        // The UEFI variable store starts from OVMF's template, in qcow2 like at creation.
        await convertImage(qemu.img, ovmf.varsTemplate, join(e.record.dir, 'nvram.qcow2'), 'qcow2')
      }
      const rec = this.library.save({ ...c, ...(p.name !== undefined ? { name: p.name } : {}), ...hardware })
      e.record = rec
      this.emit('vm.updated', this.summary(e))
      return this.info(e)
    })
  }

  private diskOf(e: Entry, id: string) {
    const d = e.record.config.disks.find((x) => x.id === id)
    if (!d) {
      const ids = e.record.config.disks.map((x) => x.id).join(', ') || 'none'
      throw new VireoError('not_found', `"${e.record.config.name}" has no disk "${id}" (its disks: ${ids})`)
    }
    return { disk: d, path: resolveVmPath(e.record.dir, d.path) }
  }

  private requireStopped(e: Entry, what: string): void {
    if (e.state !== 'stopped') {
      throw new VireoError(
        'invalid_state',
        `"${e.record.config.name}" is ${e.state}: shut it down to ${what}`,
      )
    }
  }

  checkDisk(p: Params<'disk.check'>): Promise<DiskCheckResult> {
    const e = this.entry(p.vm)
    return this.serial(e, async () => {
      const { disk, path } = this.diskOf(e, p.disk)
      // A running QEMU is writing the image: a check then reports what is in flight as damage.
      this.requireStopped(e, `check its disk "${disk.id}"`)
      const qemu = await this.qemu()
      return { disk: disk.id, path, ...(await checkDisk(qemu.img, path, disk.format, p.repair)) }
    })
  }

  resizeDisk(p: Params<'disk.resize'>): Promise<VmInfo> {
    const e = this.entry(p.vm)
    return this.serial(e, async () => {
      const { disk, path } = this.diskOf(e, p.disk)
      const bytes = parseSize(p.size)
      if (e.running) {
        const current = (await imageInfo((await this.qemu()).img, path))['virtual-size']
        if (bytes < current) {
          throw new VireoError(
            'invalid_request',
            `the disk "${disk.id}" is ${formatBytes(current)}; Vireo only grows disks`,
          )
        }
        // The guest sees the new size at once (a capacity change event on virtio and SCSI).
        await e.running.qmp.execute('block_resize', { 'node-name': disk.id, size: bytes })
      } else {
        await growDisk((await this.qemu()).img, path, disk.format, bytes)
      }
      return this.info(e)
    })
  }

  rewriteDisk(
    p: { vm: string; disk: string; job?: string | undefined },
    verb: 'compact' | 'convert',
  ): Promise<VmInfo> {
    const e = this.entry(p.vm)
    return this.serial(e, async () => {
      const { disk, path } = this.diskOf(e, p.disk)
      this.requireStopped(e, `${verb} its disk "${disk.id}"`)
      if (verb === 'compact' && disk.format !== 'qcow2') {
        throw new VireoError(
          'invalid_request',
          `the disk "${disk.id}" is raw; convert it to qcow2 (which compacts it too)`,
        )
      }
      if (verb === 'convert' && disk.format === 'qcow2') return this.info(e)
      const qemu = await this.qemu()
      const job = p.job
      const done = await rewriteDisk(
        qemu.img,
        path,
        disk.format,
        'qcow2',
        job
          ? (percent) =>
              this.emit('job.progress', {
                job,
                phase: `${verb === 'compact' ? 'compacting' : 'converting'} ${basename(path)}`,
                done: percent,
                total: 100,
                unit: 'percent',
              })
          : undefined,
      )
      if (done.path !== path || disk.format !== 'qcow2') {
        const c = e.record.config
        const rel = isAbsolute(disk.path) ? done.path : relative(e.record.dir, done.path)
        e.record = this.library.save({
          ...c,
          disks: c.disks.map((d) => (d.id === disk.id ? { ...d, path: rel, format: 'qcow2' as const } : d)),
        })
        this.emit('vm.updated', this.summary(e))
      }
      return this.info(e)
    })
  }

  updateDisk(p: UpdateDiskParams): Promise<VmInfo> {
    const e = this.entry(p.vm)
    return this.serial(e, async () => {
      const c = e.record.config
      const { disk } = this.diskOf(e, p.disk)
      const changes = Object.keys(changedDiskSettings(disk, p))
      if (changes.length === 0) return this.info(e)
      this.requireStopped(e, `change the ${changes.map(describeDiskSetting).join(', ')} of "${disk.id}"`)
      const candidate = applyDiskSettings(c, p)
      // What QEMU would refuse (an I/O thread on SATA, a read-only IDE disk, …) is refused now.
      buildQemuArgv(candidate, (await this.launchContext(e)).ctx)
      e.record = this.library.save(candidate)
      this.emit('vm.updated', this.summary(e))
      return this.info(e)
    })
  }

  /** Inserts a disc (path) or ejects it (null), in a running VM through QMP, and records it. */
  changeCdrom(p: Params<'cdrom.change'>): Promise<VmInfo> {
    const e = this.entry(p.vm)
    return this.serial(e, async () => {
      const c = e.record.config
      const cd = p.cdrom === undefined ? c.cdroms[0] : c.cdroms.find((x) => x.id === p.cdrom)
      if (!cd) {
        const ids = c.cdroms.map((x) => x.id).join(', ') || 'none'
        throw new VireoError(
          'not_found',
          `"${c.name}" has no CD drive${p.cdrom ? ` "${p.cdrom}"` : ''} (its drives: ${ids})`,
        )
      }
      const path = p.path === null ? null : checkUserFile(p.path, 'ISO image')
      if (path !== null) await checkDisc(path, this.inspectDeps())
      if (e.running) {
        if (path === null) await ejectMedium(e.running.qmp, cd.id)
        else await insertMedium(e.running.qmp, cd.id, path)
      }
      e.record = this.library.save({
        ...c,
        cdroms: c.cdroms.map((x) => (x.id === cd.id ? { ...x, path } : x)),
      })
      this.emit('vm.updated', this.summary(e))
      return this.info(e)
    })
  }

  updateNic(p: UpdateNicParams): Promise<VmInfo> {
    const e = this.entry(p.vm)
    return this.serial(e, async () => {
      const c = e.record.config
      const nic = c.nics.find((n) => n.id === p.nic)
      if (!nic) {
        const ids = c.nics.map((n) => n.id).join(', ') || 'none'
        throw new VireoError('not_found', `"${c.name}" has no network card "${p.nic}" (its cards: ${ids})`)
      }
      const hardware = (['model', 'mac', 'network'] as const).filter((k) => p[k] !== undefined)
      if (hardware.length > 0) this.requireStopped(e, `change the ${hardware.join(', ')} of "${nic.id}"`)
      if (p.mac !== undefined && p.mac !== nic.mac) {
        const owner = this.library.list().find((r) => r.config.nics.some((n) => n.mac === p.mac))
        if (owner) {
          throw new VireoError(
            'conflict',
            `the MAC address ${p.mac} is already used by "${owner.config.name}"`,
          )
        }
      }
      const next = {
        ...nic,
        ...(p.model !== undefined ? { model: p.model } : {}),
        ...(p.mac !== undefined ? { mac: p.mac } : {}),
        ...(p.network !== undefined ? { network: p.network } : {}),
        ...(p.linkUp !== undefined ? { linkUp: p.linkUp } : {}),
      }
      const candidate = { ...c, nics: c.nics.map((n) => (n.id === nic.id ? next : n)) }
      if (p.network !== undefined) assertForwardsFree(candidate.nics)
      // Whatever QEMU would refuse (two forwards of one host port, …) is refused now, in words.
      buildQemuArgv(VmConfig.parse(candidate), (await this.launchContext(e)).ctx)
      if (e.running && p.linkUp !== undefined && p.linkUp !== nic.linkUp) {
        await e.running.qmp.execute('set_link', { name: nic.id, up: p.linkUp })
      }
      e.record = this.library.save(candidate)
      this.emit('vm.updated', this.summary(e))
      return this.info(e)
    })
  }

  /** What attaching and detaching (engine/devices) need to know of one VM. */
  private async deviceContext(e: Entry): Promise<DeviceChangeContext> {
    const { ctx, qemu } = await this.launchContext(e)
    return {
      config: e.record.config,
      vmDir: e.record.dir,
      state: e.state,
      qmp: e.running?.qmp ?? null,
      ctx,
      qemuImg: qemu.img,
      newMac: () => this.newMac(),
      assertDiskFree: (path) => this.assertDiskFree(path, null),
      networks: this.networks,
    }
  }

  /** Adds a disk or a network card, hot-plugged when the VM runs; recorded once it is in. */
  attachDevice(p: AttachParams): Promise<AttachResult> {
    const e = this.entry(p.vm)
    return this.serial(e, async () => {
      if (p.kind === 'nic' && p.network)
        assertForwardsFree([...e.record.config.nics, { id: 'the new card', network: p.network }])
      const { config, device } = await attachDevice(await this.deviceContext(e), p)
      e.record = this.library.save(config)
      this.emit('vm.updated', this.summary(e))
      return { device, vm: this.info(e) }
    })
  }

  /** Removes a disk or a network card; a running guest must release it first. Images stay. */
  detachDevice(p: Params<'device.detach'>): Promise<VmInfo> {
    const e = this.entry(p.vm)
    return this.serial(e, async () => {
      const { config } = await detachDevice(await this.deviceContext(e), p.device)
      e.record = this.library.save(config)
      this.emit('vm.updated', this.summary(e))
      return this.info(e)
    })
  }

  private newMac(): string {
    const used = new Set(this.library.list().flatMap((r) => r.config.nics.map((n) => n.mac)))
    for (;;) {
      const mac = ['52', '54', '00', ...[...randomBytes(3)].map((b) => b.toString(16).padStart(2, '0'))].join(
        ':',
      )
      if (!used.has(mac)) return mac
    }
  }

  /** One disk is never opened for writing by two VMs. */
  private assertDiskFree(path: string, exceptId: string | null): void {
    for (const rec of this.library.list()) {
      if (rec.config.id === exceptId) continue
      for (const d of rec.config.disks) {
        if (sameFile(resolveVmPath(rec.dir, d.path), path)) {
          throw new VireoError('conflict', `the disk ${path} already belongs to the VM "${rec.config.name}"`)
        }
      }
    }
  }

  /**
   * What QEMU needs to start `e`. With `launch`, every disk's chain must walk and pass its check, or
   * nothing starts; otherwise (a command line shown, a change checked) a disk whose chain does not
   * walk is rendered as one node, since that QEMU never runs.
   */
  async launchContext(
    e: Entry,
    opts: { launch?: boolean } = {},
  ): Promise<{ ctx: LaunchContext; qemu: QemuInstallation }> {
    const qemu = await this.qemu()
    const c = e.record.config
    const accel = c.accelerator === 'tcg' ? 'tcg' : (await this.accelerator()).chosen
    const paths = this.pathsOf(e.record)
    let firmware: LaunchContext['firmware']
    if (c.firmware === 'uefi') {
      const ovmf = findOvmf(this.env)
      if (!ovmf)
        throw new VireoError(
          'unavailable',
          'this VM boots with UEFI, but OVMF is not installed (apt-get install ovmf)',
        )
      firmware = { code: ovmf.code, vars: join(e.record.dir, activeNvramRel(loadIndex(e.record.dir))) }
    }
    // Walked from the images' headers and checked on every start: QEMU opens these files only.
    const chains = vmChains(
      c,
      paths.vmDir,
      firmware ? { abs: firmware.vars, libraryDir: this.layout.vmsDir } : null,
      { strict: opts.launch ?? false },
    )
    return {
      qemu,
      ctx: {
        qemuBinary: qemu.system,
        vmDir: paths.vmDir,
        runtimeDir: paths.runtimeDir,
        accelerator: accel,
        sandbox: qemu.sandbox,
        ...(firmware ? { firmware } : {}),
        chains,
      },
    }
  }

  async qemuArgv(ref: string): Promise<string[]> {
    const e = this.entry(ref)
    const { ctx, qemu } = await this.launchContext(e)
    return [qemu.system, ...buildQemuArgv(e.record.config, ctx)]
  }

  start(ref: string): Promise<VmInfo> {
    const e = this.entry(ref)
    return this.serial(e, () => this.startNow(e))
  }

  /** Boots the VM, or with `incomingState` resumes the guest saved in that file (a live snapshot). */
  private async startNow(e: Entry, incomingState?: string): Promise<VmInfo> {
    {
      if (e.running) throw new VireoError('invalid_state', `"${e.record.config.name}" is already ${e.state}`)
      const c = e.record.config
      // Check what QEMU would only report in its own words.
      for (const cd of c.cdroms) {
        if (cd.path && !existsSync(resolveVmPath(e.record.dir, cd.path))) {
          throw new VireoError(
            'not_found',
            `the ISO image ${resolveVmPath(e.record.dir, cd.path)} no longer exists; insert another medium or eject it`,
          )
        }
      }
      for (const [what, f] of [
        ['kernel', c.directBoot?.kernel],
        ['initrd', c.directBoot?.initrd],
      ] as const) {
        if (f && !existsSync(resolveVmPath(e.record.dir, f)))
          throw new VireoError(
            'not_found',
            `the ${what} ${resolveVmPath(e.record.dir, f)} to boot no longer exists`,
          )
      }
      for (const d of c.disks) {
        const p = resolveVmPath(e.record.dir, d.path)
        if (!existsSync(p)) throw new VireoError('not_found', `the disk image ${p} does not exist`)
        this.assertDiskNotRunningElsewhere(p, c.id)
      }
      this.networks.assertCompatible(c.id, internalPorts(c, this.pathsOf(e.record).runtimeDir))
      this.setState(e, 'starting')
      try {
        const { ctx, qemu } = await this.launchContext(e, { launch: true })
        if (e.needsCheck) await this.repairDisks(e, qemu)
        const argv = buildQemuArgv(c, ctx)
        const unplugged = nicsWithLinkDown(c)
        const running = await RunningVm.launch({
          paths: this.pathsOf(e.record),
          vmId: c.id,
          qemuBinary: qemu.system,
          argv,
          accelerator: ctx.accelerator,
          ...(incomingState ? { incoming: true } : {}),
          ...(unplugged.length > 0 || incomingState
            ? {
                beforeCpusStart: async (qmp) => {
                  if (incomingState)
                    this.lastLoadMs = await loadLive(qmp, incomingState, stateSocket(ctx.runtimeDir))
                  for (const name of unplugged) await qmp.execute('set_link', { name, up: false })
                },
              }
            : {}),
        })
        e.lastError = null
        this.adopt(e, running)
        return this.info(e)
      } catch (err) {
        e.lastError = (err as Error).message
        this.setState(e, 'stopped', e.lastError)
        throw err
      }
    }
  }

  /** After a crash a qcow2 may hold leaked clusters: harmless, and repaired here; corruption stops the start. */
  private async repairDisks(e: Entry, qemu: QemuInstallation): Promise<void> {
    for (const d of e.record.config.disks) {
      if (d.format !== 'qcow2' || d.readOnly) continue
      const path = resolveVmPath(e.record.dir, d.path)
      const report = await checkImage(qemu.img, path, true)
      if (report.corruptions > 0 || report.code === 2) {
        throw new VireoError(
          'qemu_failed',
          `the disk ${path} is corrupt (qemu-img check: ${report.text.split('\n').at(-1) ?? ''})`,
        )
      }
    }
    e.needsCheck = false
  }

  private assertDiskNotRunningElsewhere(path: string, selfId: string): void {
    for (const other of this.entries.values()) {
      if (other.record.config.id === selfId || !other.running) continue
      for (const d of other.record.config.disks) {
        if (sameFile(resolveVmPath(other.record.dir, d.path), path)) {
          throw new VireoError(
            'conflict',
            `the disk ${path} is in use by the running VM "${other.record.config.name}"`,
          )
        }
      }
    }
  }

  private requireRunning(e: Entry): RunningVm {
    if (!e.running) throw new VireoError('invalid_state', `"${e.record.config.name}" is not running`)
    return e.running
  }

  pause(ref: string): Promise<VmInfo> {
    const e = this.entry(ref)
    return this.serial(e, async () => {
      await this.requireRunning(e).pause()
      return this.info(e)
    })
  }

  resume(ref: string): Promise<VmInfo> {
    const e = this.entry(ref)
    return this.serial(e, async () => {
      await this.requireRunning(e).resume()
      return this.info(e)
    })
  }

  reset(ref: string): Promise<VmInfo> {
    const e = this.entry(ref)
    return this.serial(e, async () => {
      await this.requireRunning(e).reset()
      return this.info(e)
    })
  }

  stop(ref: string, force: boolean, timeoutMs: number): Promise<VmInfo> {
    const e = this.entry(ref)
    return this.serial(e, async () => {
      const running = this.requireRunning(e)
      if (force) await running.powerOff()
      else await running.shutdown(timeoutMs)
      return this.info(e)
    })
  }

  delete(ref: string, keepDisks: boolean): Promise<void> {
    const e = this.entry(ref)
    return this.serial(e, async () => {
      if (e.running)
        throw new VireoError('invalid_state', `"${e.record.config.name}" is running; stop it first`)
      // Linked clones read this VM's snapshot layers: deleting it would take their disks away.
      const clones = loadIndex(e.record.dir).clones.flatMap((c) => this.library.find(c.vm)?.config.name ?? [])
      if (clones.length > 0)
        throw new VireoError(
          'conflict',
          `the linked clone${clones.length > 1 ? 's' : ''} ${clones.map((n) => `"${n}"`).join(', ')} need${clones.length > 1 ? '' : 's'} the disks of "${e.record.config.name}"; delete ${clones.length > 1 ? 'them' : 'it'} first`,
        )
      this.library.remove(e.record.config.id, keepDisks)
      this.entries.delete(e.record.config.id)
      this.emit('vm.removed', { id: e.record.config.id })
    })
  }

  async screenshot(ref: string) {
    const e = this.entry(ref)
    const shot = await this.requireRunning(e).screenshot()
    return { png: shot.png.toString('base64'), width: shot.width, height: shot.height }
  }

  async openStream(kind: StreamKind, ref: string, sink: StreamSink): Promise<ByteStream> {
    const e = this.entry(ref)
    const running = this.requireRunning(e)
    const exitSub = running.onExit(() => sink.end('the VM stopped'))
    if (kind === 'console') {
      const { history, subscription } = running.serial.attach((bytes) => sink.data(bytes))
      if (history.byteLength) sink.data(history)
      return {
        write: (bytes) => running.serial.write(bytes),
        close: () => {
          subscription.dispose()
          exitSub.dispose()
        },
      }
    }
    // The sink copies what it is given before returning (serveRpc's frames), so the socket may
    // read into the same buffer every time.
    const sock = running.connectDisplay((b) => sink.data(b))
    sock.on('close', () => sink.end('the display connection closed'))
    sock.on('error', () => undefined)
    return {
      write: (bytes) => sock.write(bytes),
      close: () => {
        exitSub.dispose()
        sock.destroy()
      },
    }
  }

  // ---- migration between hosts (engine/peers, engine/migration) ----------------------------------

  /** A paired host's session: the whole RPC, plus the peer-only calls bound to that host. */
  peerSession(peer: Peer): { backend: RpcBackend; close: () => void } {
    const session = this.nextPeerSession++
    const handlers: Handlers = {
      ...this.handlers,
      'peer.hello': () => this.hello(),
      'peer.incoming.prepare': async (plan) => {
        this.incoming.prepare(peer, session, plan)
        return {}
      },
      'peer.incoming.start': ({ migration }) => this.incoming.start(peer, migration),
      'peer.incoming.listen': ({ migration }) => this.incoming.listen(peer, migration),
      'peer.incoming.commit': ({ migration }) => this.incoming.commit(peer, migration),
      'peer.incoming.abort': async ({ migration, reason }) => {
        await this.incoming.abort(peer, migration, reason)
        return {}
      },
    }
    return {
      backend: {
        handlers,
        onEvent: (l) => this.onEvent(l),
        openStream: (k, vm, sink) => this.openStream(k, vm, sink),
      },
      close: () => void this.incoming.sessionClosed(session),
    }
  }

  /** A paired host's HTTP request: the files of a migration. */
  peerRequest(req: IncomingMessage, res: ServerResponse, peer: Peer): void {
    const m = /^\/peer\/migrations\/([a-f0-9]{16,32})\/files\/(\d{1,5})$/.exec(req.url ?? '')
    if (req.method !== 'PUT' || !m) return void res.writeHead(404).end()
    void this.incoming.receive(peer, m[1]!, Number(m[2]), req, res)
  }

  private async hello(): Promise<PeerHello> {
    let qemu: PeerHello['qemu'] = null
    try {
      const q = await this.qemu()
      qemu = { version: q.version, ...(await hostFacts(q.system)) }
    } catch {
      /* reported as null */
    }
    const fs = statfsSync(this.layout.root)
    return {
      hostId: this.peers.trust.hostId,
      hostName: this.peers.trust.hostName,
      version: VIREO_VERSION,
      qemu,
      accelerator: qemu ? (await this.accelerator()).chosen : null,
      ovmf: findOvmf(this.env) !== null,
      freeDiskBytes: fs.bavail * fs.bsize,
      freeMemoryBytes: availableMemory(),
      migrationAddress: this.peers.listening?.address ?? '127.0.0.1',
    }
  }

  private async launchIncoming(
    dir: string,
    config: VmConfig,
    hook: (qmp: QmpClient) => Promise<void>,
  ): Promise<{ summary: VmSummary; qmp: QmpClient; runningAt: number }> {
    // Not in the library until the guest runs here: a stand-in entry for the launch.
    const e: Entry = {
      record: { config, dir },
      running: null,
      state: 'migrating',
      lastError: null,
      lastExit: null,
      needsCheck: false,
      busy: Promise.resolve(),
    }
    const { ctx, qemu } = await this.launchContext(e, { launch: true })
    const running = await RunningVm.launch({
      paths: this.pathsOf(e.record),
      vmId: config.id,
      qemuBinary: qemu.system,
      argv: buildQemuArgv(config, ctx),
      accelerator: ctx.accelerator,
      incoming: true,
      beforeCpusStart: hook,
    })
    const runningAt = Date.now()
    e.record = this.library.add(config)
    this.entries.set(config.id, e)
    this.adopt(e, running)
    this.emit('vm.added', this.summary(e))
    return { summary: this.summary(e), qmp: running.qmp, runningAt }
  }

  private async migrationSource(vm: string, to: string) {
    const e = this.entry(vm)
    const [remote, qemu] = await Promise.all([this.peers.connect(to), this.qemu()])
    const accelerator =
      e.running?.record.accelerator ??
      (e.record.config.accelerator === 'tcg' ? 'tcg' : (await this.accelerator()).chosen)
    return {
      e,
      remote: { client: remote.client, peer: { ...remote.peer, name: to } },
      qemuImg: qemu.img,
      qemuVersion: qemu.version,
      accelerator,
      vm: {
        dir: e.record.dir,
        config: e.record.config,
        runtimeDir: this.pathsOf(e.record).runtimeDir,
        qmp: e.running?.qmp ?? null,
      },
    }
  }

  async migrationCheck(p: Params<'migration.check'>) {
    const src = await this.migrationSource(p.vm, p.to)
    try {
      return (await checkMigration({ ...src, opts: p })).report
    } finally {
      src.remote.client.close()
    }
  }

  migrate(p: Params<'vm.migrate'>): Promise<MigrationResult> {
    const e = this.entry(p.vm)
    const id = e.record.config.id
    if (this.outgoing.has(id))
      throw new VireoError('conflict', `"${e.record.config.name}" is migrating already`)
    const ac = new AbortController()
    this.outgoing.set(id, ac)
    const job = p.job ?? `migrate-${id.slice(0, 8)}`
    return this.serial(e, async () => {
      const src = await this.migrationSource(p.vm, p.to)
      const before = e.state
      if (e.running) this.setState(e, 'migrating')
      try {
        return await migrateOut({
          ...src,
          opts: p,
          job,
          self: { hostId: this.peers.trust.hostId, hostName: this.peers.trust.hostName },
          stallMs: this.migrationStallMs,
          signal: ac.signal,
          emit: (progress) => this.emit('migration.progress', progress),
          log: this.log,
          stopHere: async () => {
            await e.running?.powerOff()
          },
          release: async () => {
            this.library.remove(id, false)
            this.entries.delete(id)
            this.emit('vm.removed', { id })
          },
        })
      } finally {
        src.remote.client.close()
        this.outgoing.delete(id)
        if (e.running && e.state === 'migrating')
          this.setState(e, e.running.currentState === 'migrating' ? before : e.running.currentState)
      }
    })
  }

  cancelMigration(ref: string): void {
    const e = this.entry(ref)
    const ac = this.outgoing.get(e.record.config.id)
    if (!ac) throw new VireoError('invalid_state', `"${e.record.config.name}" is not migrating`)
    ac.abort()
  }

  // ---- snapshots and clones (engine/snapshots) -------------------------------------------------

  private vmHandle(e: Entry, qemu: QemuInstallation, job?: string): VmHandle {
    return {
      vmDir: e.record.dir,
      runtimeDir: this.pathsOf(e.record).runtimeDir,
      qemuImg: qemu.img,
      config: () => e.record.config,
      saveConfig: (c) => {
        e.record = this.library.save(c)
      },
      qmp: () => e.running?.qmp ?? null,
      progress: (phase, done, total) => {
        if (job) this.emit('job.progress', { job, phase, done, total, unit: 'items' })
      },
      log: (entry) => appendSnapshotLog(e.record.dir, entry),
    }
  }

  snapshotList(ref: string) {
    const e = this.entry(ref)
    return snapshotTree(e.record.dir, e.record.config)
  }

  snapshotTake(p: Params<'snapshot.take'>) {
    const e = this.entry(p.vm)
    return this.serial(e, async () => {
      if (e.state !== 'stopped' && e.state !== 'running' && e.state !== 'paused')
        throw new VireoError('invalid_state', `"${e.record.config.name}" is ${e.state}`)
      this.setState(e, 'saving')
      try {
        const running = e.running
        const { info, live } = await takeSnapshot(this.vmHandle(e, await this.qemu(), p.job), p, async () =>
          running ? (await running.screenshot()).png : null,
        )
        if (live && p.job)
          this.emit('job.progress', {
            job: p.job,
            phase: live.background
              ? `saved; the guest was paused for ${live.pauseMs.toFixed(1)} ms`
              : `saved; no userfaultfd here, so the guest was paused for the whole save (${live.pauseMs.toFixed(0)} ms)`,
            done: 1,
            total: 1,
            unit: 'items',
          })
        this.emit('vm.updated', this.summary(e))
        return info
      } finally {
        this.setState(e, e.running ? e.running.currentState : 'stopped')
      }
    })
  }

  snapshotRevert(p: Params<'snapshot.revert'>) {
    const e = this.entry(p.vm)
    return this.serial(e, async () => {
      const qemu = await this.qemu()
      const h = this.vmHandle(e, qemu, p.job)
      // An unknown snapshot is refused before the running guest is touched.
      findSnapshot(loadIndex(e.record.dir), p.snapshot)
      const began = performance.now()
      if (e.running) {
        const old = e.running
        await old.powerOff()
        // The exit handler lets go of the old QEMU (and its sockets) before a new one starts.
        await old.whenExited()
      }
      this.setState(e, 'restoring')
      try {
        const snap = await revertFiles(h, p.snapshot)
        this.emit('vm.updated', this.summary(e))
        if (snap.state) {
          const started = performance.now()
          await this.startNow(e, join(e.record.dir, snap.state))
          appendSnapshotLog(e.record.dir, {
            op: 'revert',
            snapshot: snap.id,
            startAndLoadMs: performance.now() - started,
            loadMs: this.lastLoadMs,
            totalMs: performance.now() - began,
          })
        }
        // What the abandoned state wrote goes after the reply, in turn with the VM's other operations.
        void this.serial(e, () => collect(h)).catch(() => undefined)
        return this.info(e)
      } finally {
        if (!e.running) this.setState(e, 'stopped')
      }
    })
  }

  snapshotDelete(p: Params<'snapshot.delete'>) {
    const e = this.entry(p.vm)
    return this.serial(e, async () => {
      const h = this.vmHandle(e, await this.qemu(), p.job)
      await deleteSnapshot(h, p.snapshot, (id) => this.library.find(id)?.config.name ?? null)
      return snapshotTree(e.record.dir, e.record.config)
    })
  }

  cloneVm(p: Params<'vm.clone'>) {
    const e = this.entry(p.vm)
    return this.serial(e, async () => {
      this.library.assertNameFree(p.name)
      const qemu = await this.qemu()
      const id = randomUUID()
      const dir = this.library.dirFor(id)
      try {
        const config = await cloneFiles(this.vmHandle(e, qemu, p.job), p.from ?? null, p.linked, {
          id,
          name: p.name,
          dir,
          newMac: () => this.newMac(),
          newSerial: diskSerial,
        })
        return this.register(config)
      } catch (err) {
        rmSync(dir, { recursive: true, force: true })
        throw err
      }
    })
  }

  readonly handlers: Handlers = {
    'host.info': () => this.hostInfo(),
    'host.stop': async ({ stopVms }) => {
      if (!this.onHostStop)
        throw new VireoError('invalid_request', 'this engine is not run by a host that can stop')
      // Answer first; the host goes away right after.
      setImmediate(() => this.onHostStop?.(stopVms))
      return {}
    },
    'vm.list': async () => this.list(),
    'vm.info': async ({ vm }) => this.info(this.entry(vm)),
    'vm.create': (p) => this.create(p),
    'vm.start': ({ vm }) => this.start(vm),
    'vm.pause': ({ vm }) => this.pause(vm),
    'vm.resume': ({ vm }) => this.resume(vm),
    'vm.reset': ({ vm }) => this.reset(vm),
    'vm.stop': ({ vm, force, timeoutMs }) => this.stop(vm, force, timeoutMs),
    'vm.delete': async ({ vm, keepDisks }) => {
      await this.delete(vm, keepDisks)
      return {}
    },
    'vm.update': (params) => this.update(params),
    'nic.update': (params) => this.updateNic(params),
    'disk.check': (params) => this.checkDisk(params),
    'disk.resize': (params) => this.resizeDisk(params),
    'disk.compact': (params) => this.rewriteDisk(params, 'compact'),
    'disk.convert': (params) => this.rewriteDisk(params, 'convert'),
    'vm.qemuArgv': async ({ vm }) => ({ argv: await this.qemuArgv(vm) }),
    'vm.screenshot': ({ vm }) => this.screenshot(vm),
    'disk.update': (params) => this.updateDisk(params),
    'cdrom.change': (params) => this.changeCdrom(params),
    'image.inspect': ({ path }) => this.inspectImage(path),
    'vm.import': (params) => this.importVm(params),
    'vm.export': (params) => this.exportVm(params),
    'snapshot.list': async ({ vm }) => this.snapshotList(vm),
    'snapshot.take': (params) => this.snapshotTake(params),
    'snapshot.revert': (params) => this.snapshotRevert(params),
    'snapshot.delete': (params) => this.snapshotDelete(params),
    'vm.clone': (params) => this.cloneVm(params),
    'device.attach': (params) => this.attachDevice(params),
    'device.detach': (params) => this.detachDevice(params),
    'host.accept': (p) => {
      if (!this.onAccept)
        throw new VireoError('invalid_request', 'this engine is not run by a host that can listen')
      return this.onAccept(p)
    },
    'host.pairCode': () => this.peers.pairCode(),
    'remote.add': ({ name, address, code }) => this.peers.addRemote(name, address, code),
    'remote.list': async () => this.peers.trust.remotes(),
    'remote.remove': async ({ name }) => {
      this.peers.trust.removeRemote(name)
      return {}
    },
    'remote.vms': ({ remote }) => this.peers.remoteVms(remote),
    'migration.check': (p) => this.migrationCheck(p),
    'vm.migrate': (p) => this.migrate(p),
    'migration.cancel': async ({ vm }) => {
      this.cancelMigration(vm)
      return {}
    },
    'peer.hello': () => peerOnly(),
    'peer.incoming.prepare': () => peerOnly(),
    'peer.incoming.start': () => peerOnly(),
    'peer.incoming.listen': () => peerOnly(),
    'peer.incoming.commit': () => peerOnly(),
    'peer.incoming.abort': () => peerOnly(),
  }
}

function peerOnly(): Promise<never> {
  return Promise.reject(
    new VireoError('unauthorized', 'only a paired host may call this, over its own channel'),
  )
}

/** What the kernel could give a new guest now: MemAvailable, which counts reclaimable cache. */
function availableMemory(): number {
  try {
    const m = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'))
    if (m) return Number(m[1]) * 1024
  } catch {
    /* not Linux */
  }
  return freemem()
}

function appendSnapshotLog(vmDir: string, entry: Record<string, unknown>): void {
  mkdirSync(join(vmDir, 'logs'), { recursive: true })
  appendFileSync(
    join(vmDir, 'logs', 'snapshots.log'),
    JSON.stringify({ at: new Date().toISOString(), ...entry }) + '\n',
  )
}

function diskSerial(): string {
  return `VIREO-${randomBytes(5).toString('hex').toUpperCase()}`
}

function describeDiskSetting(key: string): string {
  return (
    {
      detectZeroes: 'zero detection',
      readOnly: 'read-only setting',
      iothread: 'I/O thread',
      cache: 'cache mode',
    }[key] ?? key
  )
}

function describeSetting(key: string): string {
  return { cpus: 'CPUs', memoryMiB: 'memory', firmware: 'firmware', bootOrder: 'boot order' }[key] ?? key
}
