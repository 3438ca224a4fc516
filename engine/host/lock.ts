// One engine owns a data dir at a time. The lock file holds the owner's pid; a lock whose owner is
// gone is stale and is taken over.
import { openSync, writeSync, closeSync, readFileSync, renameSync, unlinkSync, mkdirSync } from 'node:fs'
import { VireoError } from '../api/errors.ts'
import { isAlive, isZombie } from './process-alive.ts'
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
        writeSync(fd, `${process.pid}\n`)
        closeSync(fd)
        held.add(path)
        return new DataDirLock(path)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      }
      const owner = readOwner(path)
      if (owner !== null && owner !== process.pid && isAlive(owner) && !isZombie(owner)) {
        throw new VireoError('conflict', `another Vireo engine (pid ${owner}) already owns ${dirname(path)}`)
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
    if (readOwner(this.path) === process.pid) unlinkSync(this.path)
  }
}

export function readOwner(path: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8').trim(), 10)
    return Number.isFinite(pid) ? pid : null
  } catch {
    return null
  }
}
