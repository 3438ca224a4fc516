// A VM whose QEMU is running: the process, its QMP connection and its serial console, owned
// together and disposed together. Launch and re-attach both end here.
import { existsSync, mkdirSync, readFileSync, rmSync, unlinkSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { join } from 'node:path'
import { z } from 'zod'
import { VireoError } from '../api/errors.ts'
import { Accelerator, type VmState } from '../api/rpc.ts'
import { Listeners } from '../api/transport.ts'
import { SerialConsole } from '../console/serial-console.ts'
import { processArgv } from '../util/process-alive.ts'
import { qemuProcessName } from '../qemu/argv/index.ts'
import { QmpClient } from '../qmp/client.ts'
import { explainQemuFailure } from '../qemu/qemu-errors.ts'
import { QemuProcess, type ExitInfo } from '../qemu/qemu-process.ts'
import { writeJsonAtomic } from '../util/atomic-file.ts'

/** runtime.json in the VM folder: what a later engine needs to find this QEMU again. */
export const RuntimeRecord = z.object({
  pid: z.number().int(),
  runtimeDir: z.string(),
  accelerator: Accelerator,
  startedAt: z.iso.datetime(),
  /** The `process=` name QEMU was given: checked against /proc before adopting a pid. */
  processTag: z.string(),
})
export type RuntimeRecord = z.infer<typeof RuntimeRecord>

export interface VmPaths {
  vmDir: string
  runtimeDir: string
}

export function runtimeFiles(p: VmPaths) {
  return {
    record: join(p.vmDir, 'runtime.json'),
    qemuLog: join(p.vmDir, 'logs', 'qemu.log'),
    serialLog: join(p.vmDir, 'logs', 'serial.log'),
    qmp: join(p.runtimeDir, 'qmp.sock'),
    serial: join(p.runtimeDir, 'serial.sock'),
    vnc: join(p.runtimeDir, 'vnc.sock'),
  }
}

/** The `-name process=` value QEMU runs under; re-attach matches /proc/PID/cmdline against it. */
export function processTag(vmId: string): string {
  return qemuProcessName(vmId)
}

export interface LaunchOptions {
  paths: VmPaths
  vmId: string
  qemuBinary: string
  argv: string[]
  accelerator: Accelerator
  /** How long QEMU gets to open its QMP socket. */
  timeoutMs?: number
  /**
   * Settings QEMU's command line cannot express (a NIC with its cable unplugged). When given, QEMU
   * starts with its CPUs stopped (-S), this runs over QMP, and only then do the CPUs start: the
   * guest never sees the state before it.
   */
  beforeCpusStart?: (qmp: QmpClient) => Promise<void>
  /**
   * Start waiting for a migration stream (-incoming defer) instead of booting: beforeCpusStart
   * then runs migrate-incoming, and the CPUs start where the saved guest stopped.
   */
  incoming?: boolean
}

export type StopCause = { kind: 'guest' } | { kind: 'host' } | { kind: 'crash'; message: string }

export class RunningVm {
  readonly record: RuntimeRecord
  readonly process: QemuProcess
  readonly qmp: QmpClient
  readonly serial: SerialConsole
  private readonly paths: VmPaths
  private state: VmState
  private readonly stateListeners = new Listeners<VmState>()
  private readonly exitListeners = new Listeners<StopCause>()
  private guestShutdown = false
  private hostRequestedStop = false
  private exited = false
  private readonly exitedAll: Promise<void>
  private markAllExited!: () => void

  private constructor(
    paths: VmPaths,
    record: RuntimeRecord,
    proc: QemuProcess,
    qmp: QmpClient,
    state: VmState,
  ) {
    this.paths = paths
    this.record = record
    this.process = proc
    this.qmp = qmp
    this.state = state
    this.exitedAll = new Promise((r) => (this.markAllExited = r))
    const files = runtimeFiles(paths)
    this.serial = new SerialConsole(files.serial, files.serialLog)
    this.serial.start()
    qmp.on('STOP', () => this.setState('paused'))
    qmp.on('RESUME', () => this.setState('running'))
    qmp.on('RESET', () => this.serial.markBoot())
    qmp.on('SHUTDOWN', (data) => {
      if (data.guest) this.guestShutdown = true
      this.setState('stopping')
    })
    qmp.onClose(() => proc.checkAlive())
    proc.onExit((info) => this.handleExit(info))
  }

  static async launch(opts: LaunchOptions): Promise<RunningVm> {
    const files = runtimeFiles(opts.paths)
    mkdirSync(opts.paths.runtimeDir, { recursive: true, mode: 0o700 })
    mkdirSync(join(opts.paths.vmDir, 'logs'), { recursive: true })
    for (const sock of [files.qmp, files.serial, files.vnc]) rmSync(sock, { force: true })
    const argv = [
      ...opts.argv,
      ...(opts.beforeCpusStart ? ['-S'] : []),
      ...(opts.incoming ? ['-incoming', 'defer'] : []),
    ]
    const proc = QemuProcess.spawn(opts.qemuBinary, argv, files.qemuLog)
    const record: RuntimeRecord = {
      pid: proc.pid,
      runtimeDir: opts.paths.runtimeDir,
      accelerator: opts.accelerator,
      startedAt: new Date().toISOString(),
      processTag: processTag(opts.vmId),
    }
    // Written before anything can fail later, so a crash of the engine right now still finds QEMU.
    writeJsonAtomic(files.record, record)
    const deadline = Date.now() + (opts.timeoutMs ?? 30_000)
    let qmp: QmpClient
    try {
      qmp = await raceExit(proc, QmpClient.connect(files.qmp, { timeoutMs: 10_000, retryUntil: deadline }))
    } catch (err) {
      proc.kill('SIGKILL')
      const info = await proc.waitForExit(5_000)
      cleanupRuntime(opts.paths)
      const stderr = readLogTail(files.qemuLog)
      if (err instanceof ExitedEarly || stderr.trim()) {
        throw new VireoError('qemu_failed', explainQemuFailure(stderr, info ?? { code: null, signal: null }))
      }
      throw new VireoError(
        'qemu_failed',
        `QEMU did not answer on its control socket: ${(err as Error).message}`,
      )
    }
    if (opts.beforeCpusStart) {
      try {
        await opts.beforeCpusStart(qmp)
        await qmp.execute('cont')
      } catch (err) {
        qmp.dispose()
        proc.kill('SIGKILL')
        await proc.waitForExit(5_000)
        cleanupRuntime(opts.paths)
        throw err
      }
    }
    let status
    try {
      status = await qmp.execute('query-status')
    } catch (err) {
      // Nothing made here outlives a start that failed: the connection, QEMU, its runtime files.
      qmp.dispose()
      proc.kill('SIGKILL')
      await proc.waitForExit(5_000)
      cleanupRuntime(opts.paths)
      throw err
    }
    return new RunningVm(opts.paths, record, proc, qmp, status.running ? 'running' : 'paused')
  }

  /** Finds the QEMU an earlier engine left running; null (and the stale record removed) if it is gone. */
  static async reattach(paths: VmPaths): Promise<RunningVm | null> {
    const files = runtimeFiles(paths)
    if (!existsSync(files.record)) return null
    let record: RuntimeRecord
    try {
      record = RuntimeRecord.parse(JSON.parse(readFileSync(files.record, 'utf8')))
    } catch {
      cleanupRuntime(paths)
      return null
    }
    const argv = processArgv(record.pid)
    // The pid must still be our QEMU: pids are reused, and adopting a stranger would be a disaster.
    if (!argv || !argv.some((a) => a.includes(`process=${record.processTag}`))) {
      cleanupRuntime(paths)
      return null
    }
    const proc = QemuProcess.adopt(record.pid)
    let qmp: QmpClient | null = null
    let status
    try {
      qmp = await QmpClient.connect(files.qmp, { timeoutMs: 10_000, retryUntil: Date.now() + 10_000 })
      status = await qmp.execute('query-status')
    } catch (err) {
      // QEMU stays (it may be busy, or answer the next engine); only what this engine made goes.
      qmp?.dispose()
      proc.release()
      throw err
    }
    const state: VmState = status.running ? 'running' : status.status === 'shutdown' ? 'stopping' : 'paused'
    return new RunningVm(paths, record, proc, qmp, state)
  }

  get currentState(): VmState {
    return this.state
  }

  onState(handler: (s: VmState) => void) {
    return this.stateListeners.add(handler)
  }

  onExit(handler: (cause: StopCause) => void) {
    return this.exitListeners.add(handler)
  }

  /** Settles once QEMU has exited and every exit listener (the engine's included) has run. */
  whenExited(): Promise<void> {
    return this.exitedAll
  }

  async pause(): Promise<void> {
    await this.qmp.execute('stop')
    this.setState('paused')
  }

  async resume(): Promise<void> {
    await this.qmp.execute('cont')
    this.setState('running')
  }

  async reset(): Promise<void> {
    await this.qmp.execute('system_reset')
  }

  /**
   * ACPI power button, then wait for the guest to power off; after `timeoutMs` QEMU is told to quit
   * (and killed if even that fails). Resolves with how it ended.
   */
  async shutdown(timeoutMs: number): Promise<'guest' | 'forced'> {
    this.hostRequestedStop = true
    // A paused guest cannot hear the power button.
    if (this.state === 'paused') await this.qmp.execute('cont').catch(() => undefined)
    this.setState('stopping')
    try {
      await this.qmp.execute('system_powerdown')
    } catch {
      /* QEMU may already be on its way out */
    }
    const info = await this.process.waitForExit(timeoutMs)
    if (info) return this.guestShutdown ? 'guest' : 'forced'
    await this.powerOff()
    return 'forced'
  }

  /** Pulls the plug: QEMU quits at once (the guest gets no say). */
  async powerOff(): Promise<void> {
    this.hostRequestedStop = true
    this.setState('stopping')
    try {
      await this.qmp.execute('quit', undefined, { timeoutMs: 5_000 })
    } catch {
      /* fall through to the signal */
    }
    if (!(await this.process.waitForExit(5_000))) {
      this.process.kill('SIGKILL')
      await this.process.waitForExit(5_000)
    }
  }

  async screenshot(): Promise<{ png: Buffer; width: number; height: number }> {
    const file = join(this.paths.runtimeDir, `screen-${Date.now()}.png`)
    try {
      await this.qmp.execute('screendump', { filename: file, format: 'png' })
      const png = readFileSync(file)
      return { png, width: png.readUInt32BE(16), height: png.readUInt32BE(20) }
    } finally {
      rmSync(file, { force: true })
    }
  }

  /**
   * A fresh connection to QEMU's VNC server, for one display client. With `onData`, every read
   * lands in one buffer of the connection's own, which `onData` must have copied by the time it
   * returns: a display moves ~100 MB/s, and a fresh buffer per 64 KiB read made garbage collection
   * half of the engine's work (measured: 12.5 → 7.5 ms of engine time per 1024x768 frame).
   */
  connectDisplay(onData?: (bytes: Buffer) => void): Socket {
    const path = runtimeFiles(this.paths).vnc
    if (!onData) return connect(path)
    const buffer = Buffer.allocUnsafe(256 * 1024)
    return connect({
      path,
      onread: {
        buffer,
        callback: (n: number) => {
          onData(buffer.subarray(0, n))
          return true
        },
      },
    })
  }

  /** The engine is going away and leaves QEMU running for the next one. */
  detach(): void {
    this.serial.dispose()
    this.qmp.dispose()
    this.process.release()
  }

  private setState(s: VmState): void {
    if (this.exited || s === this.state) return
    this.state = s
    this.stateListeners.emit(s)
  }

  private handleExit(info: ExitInfo): void {
    if (this.exited) return
    this.serial.dispose()
    this.exited = true
    this.qmp.dispose()
    const files = runtimeFiles(this.paths)
    let cause: StopCause
    if (this.guestShutdown) cause = { kind: 'guest' }
    else if (this.hostRequestedStop) cause = { kind: 'host' }
    else {
      cause = { kind: 'crash', message: explainQemuFailure(readLogTail(files.qemuLog), info) }
    }
    cleanupRuntime(this.paths)
    this.exitListeners.emit(cause)
    this.markAllExited()
  }
}

class ExitedEarly extends Error {}

function raceExit<T>(proc: QemuProcess, p: Promise<T>): Promise<T> {
  return new Promise((resolvePromise, reject) => {
    const waiter = proc.onExit(() => reject(new ExitedEarly('QEMU exited during start-up')))
    p.then(resolvePromise, reject).finally(() => waiter.dispose())
  })
}

function readLogTail(file: string): string {
  try {
    const text = readFileSync(file, 'utf8')
    return text.slice(-8192)
  } catch {
    return ''
  }
}

function cleanupRuntime(paths: VmPaths): void {
  const files = runtimeFiles(paths)
  try {
    unlinkSync(files.record)
  } catch {
    /* already gone */
  }
  rmSync(paths.runtimeDir, { recursive: true, force: true })
}
