// Liveness and identity of processes we did not spawn (after a restart we are not their parent).
import { readFileSync } from 'node:fs'

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** The process's argv as the kernel has it, or null when unknown (not Linux, or gone). */
export function processArgv(pid: number): string[] | null {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`)
    return raw
      .toString('utf8')
      .split('\0')
      .filter((s, i, a) => s !== '' || i < a.length - 1)
  } catch {
    return null
  }
}

/** Linux zombies still answer kill(0): look at their state so an exited child is not taken for running. */
export function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')
  } catch {
    return false
  }
}
