// One engine owns a data dir at a time. The lock file holds the owner's pid and start time; a lock
// whose owner is gone (exited, a zombie, or its pid now someone else's) is stale and is taken over.
import { openSync, writeSync, closeSync, readFileSync, renameSync, unlinkSync, mkdirSync } from 'node:fs'
import { VireoError } from '../api/errors.ts'
import { isSameProcess, ownIdentity, type ProcessIdentity } from '../util/process-alive.ts'
import { dirname } from 'node:path'

/** Locks this process holds: its own pid in a lock file is then not a stale leftover of a reused pid. */
const held = new Set<string>()

export class DataDirLock {
  private released = false
  private readonly path: string
  private constructor(path: string) {
    this.path = path
  }

  static acquire(path: string): DataDirLock {
    mkdirSync(dirname(path), { recursive: true })
    if (held.has(path)) throw new VireoError('conflict', `this process already owns ${dirname(path)}`)
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fd = openSync(path, 'wx', 0o600)
        const me = ownIdentity()
        writeSync(fd, `${me.pid} ${me.startTime ?? '-'}\n`)
        closeSync(fd)
        held.add(path)
        return new DataDirLock(path)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      }
      const owner = readOwner(path)
      if (owner !== null && owner.pid !== process.pid && isSameProcess(owner)) {
        throw new VireoError(
          'conflict',
          `another Vireo engine (pid ${owner.pid}) already owns ${dirname(path)}`,
        )
      }
      // Stale: move it aside first so two engines racing for it cannot both delete a fresh lock.
      const aside = `${path}.stale.${process.pid}`
      try {
        renameSync(path, aside)
        unlinkSync(aside)
      } catch {
        /* someone else took it over; try again */
      }
    }
    throw new VireoError('conflict', `could not take the lock ${path}`)
  }

  release(): void {
    if (this.released) return
    this.released = true
    held.delete(this.path)
    if (readOwner(this.path)?.pid === process.pid) unlinkSync(this.path)
  }
}

/** The lock's owner; a lock written before start times were recorded gives only the pid. */
export function readOwner(path: string): ProcessIdentity | null {
  try {
    const [pidText = '', start] = readFileSync(path, 'utf8').trim().split(/\s+/)
    if (!/^\d{1,10}$/.test(pidText)) return null
    const pid = Number(pidText)
    if (pid <= 0) return null
    return { pid, startTime: start && /^\d+$/.test(start) ? start : null }
  } catch {
    return null
  }
}

/** Whether a live engine holds the lock: the one rule the CLI, the host and the app all go by. */
export function lockHeld(path: string): boolean {
  const owner = readOwner(path)
  return owner !== null && isSameProcess(owner)
}
