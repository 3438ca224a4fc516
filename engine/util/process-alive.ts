// Liveness and identity of processes we did not spawn (after a restart we are not their parent).
// One rule for "is that process still there", used for hosts and QEMU alike: its pid exists, it is
// not a zombie (an exited process its parent has not reaped yet answers kill(0) on Linux), and
// where its start time was recorded, it is the same process and not a new one that got the pid.
import { readFileSync } from 'node:fs'

/** Who a process is, beyond its pid: the kernel's start time (Linux; null where unknown). */
export interface ProcessIdentity {
  pid: number
  startTime: string | null
}

export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false
  }
  return !isZombie(pid)
}

/** Alive, and the very process recorded: a pid reused since is not taken for it. */
export function isSameProcess(who: ProcessIdentity): boolean {
  if (!isAlive(who.pid)) return false
  if (who.startTime === null) return true
  const now = processStartTime(who.pid)
  return now === null || now === who.startTime
}

export function ownIdentity(): ProcessIdentity {
  return { pid: process.pid, startTime: processStartTime(process.pid) }
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
  return statFields(pid)?.[0]?.startsWith('Z') ?? false
}

/** Field 22 of /proc/PID/stat: clock ticks from boot to the process's start. */
export function processStartTime(pid: number): string | null {
  return statFields(pid)?.[19] ?? null
}

/** /proc/PID/stat from field 3 (state) on; the command name before it may hold spaces and ')'. */
function statFields(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat
      .slice(stat.lastIndexOf(')') + 2)
      .trim()
      .split(' ')
  } catch {
    return null
  }
}
