// Owns one QEMU process. QEMU runs in its own session, detached from the engine, so an engine that
// dies (or quits leaving VMs running) does not take its guests along; a new engine adopts them.
import { spawn } from 'node:child_process'
import { closeSync, openSync } from 'node:fs'
import { isAlive, isZombie } from '../util/process-alive.ts'

export interface ExitInfo {
  /** null when the process was adopted: only its parent could read its status. */
  code: number | null
  signal: NodeJS.Signals | null
}

export class QemuProcess {
  readonly pid: number
  private exited: ExitInfo | null = null
  private readonly waiters: ((info: ExitInfo) => void)[] = []
  private poll: NodeJS.Timeout | null = null

  private constructor(pid: number) {
    this.pid = pid
  }

  /** Starts QEMU without a shell; its stdout and stderr go to `logFile`. */
  static spawn(binary: string, argv: readonly string[], logFile: string): QemuProcess {
    const log = openSync(logFile, 'w', 0o600)
    try {
      const child = spawn(binary, argv, { detached: true, stdio: ['ignore', log, log], shell: false })
      if (child.pid === undefined) {
        throw new Error(`could not start ${binary}`)
      }
      const proc = new QemuProcess(child.pid)
      child.on('exit', (code, signal) => proc.markExited({ code, signal }))
      child.on('error', () => proc.markExited({ code: null, signal: null }))
      child.unref()
      return proc
    } finally {
      closeSync(log)
    }
  }

  /** Takes over a QEMU that an earlier engine started. */
  static adopt(pid: number): QemuProcess {
    const proc = new QemuProcess(pid)
    // We are not its parent, so no exit event: look now and then, and whenever QMP closes.
    proc.poll = setInterval(() => proc.checkAlive(), 1000)
    proc.poll.unref()
    proc.checkAlive()
    return proc
  }

  get alive(): boolean {
    return this.exited === null
  }

  checkAlive(): void {
    if (this.exited) return
    if (!isAlive(this.pid) || isZombie(this.pid)) this.markExited({ code: null, signal: null })
  }

  /** Calls `handler` once QEMU has exited (at once if it has); dispose to stop waiting. */
  onExit(handler: (info: ExitInfo) => void): { dispose(): void } {
    if (this.exited) {
      handler(this.exited)
      return { dispose: () => undefined }
    }
    this.waiters.push(handler)
    return {
      dispose: () => {
        const i = this.waiters.indexOf(handler)
        if (i >= 0) this.waiters.splice(i, 1)
      },
    }
  }

  /** How many are waiting for the exit: what a caller that gave up must not leave behind. */
  get waiting(): number {
    return this.waiters.length
  }

  waitForExit(timeoutMs: number): Promise<ExitInfo | null> {
    if (this.exited) return Promise.resolve(this.exited)
    return new Promise((resolvePromise) => {
      const timer = setTimeout(() => {
        waiter.dispose()
        resolvePromise(null)
      }, timeoutMs)
      const waiter = this.onExit((info) => {
        clearTimeout(timer)
        resolvePromise(info)
      })
    })
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.exited) return
    try {
      process.kill(this.pid, signal)
    } catch {
      /* already gone */
    }
  }

  /** Stops watching without touching the process (the engine is going away; QEMU stays). */
  release(): void {
    if (this.poll) clearInterval(this.poll)
    this.poll = null
  }

  private markExited(info: ExitInfo): void {
    if (this.exited) return
    this.exited = info
    this.release()
    for (const w of this.waiters.splice(0)) w(info)
  }
}
