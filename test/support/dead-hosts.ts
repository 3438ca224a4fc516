// Hosts that died and left their traces: a SIGKILLed host its parent never reaps (a zombie, which
// still answers kill(0)), and lock files naming processes that are not the host that wrote them.
import { spawn, type ChildProcess } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { openUnixSocket } from '../../engine/cli/connect.ts'
import { dataDirLayout } from '../../engine/util/data-dir.ts'
import { isZombie } from '../../engine/util/process-alive.ts'
import { repoRoot } from './guest.ts'

/**
 * `vireo host run` started by a shell that then becomes `sleep`: sleep never waits for children,
 * so the host, once killed, stays a zombie for as long as the sleep runs.
 */
export async function startUnreapedHost(dataDir: string): Promise<{ pid: number; parent: ChildProcess }> {
  const parent = spawn(
    'sh',
    [
      '-c',
      '"$0" "$1" --data-dir "$2" host run 2>/dev/null & echo $!; exec sleep 300',
      process.execPath,
      join(repoRoot, 'bin', 'vireo'),
      dataDir,
    ],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  )
  const pid = await new Promise<number>((resolvePromise, reject) => {
    let out = ''
    parent.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d
      if (out.includes('\n')) resolvePromise(Number(out.trim()))
    })
    parent.once('exit', () => reject(new Error('the parent shell exited early')))
  })
  // Up when its socket answers.
  const socket = dataDirLayout(dataDir).hostSocket
  for (let i = 0; ; i++) {
    try {
      ;(await openUnixSocket(socket)).close()
      break
    } catch (err) {
      if (i > 300) throw err
      await new Promise((r) => setTimeout(r, 100))
    }
  }
  return { pid, parent }
}

export async function killIntoZombie(pid: number): Promise<void> {
  process.kill(pid, 'SIGKILL')
  for (let i = 0; !isZombie(pid); i++) {
    if (i > 100) throw new Error(`pid ${pid} did not become a zombie`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** A lock naming `pid` with a start time it does not have: a pid reused by another process. */
export function plantLock(dataDir: string, content: string): void {
  writeFileSync(dataDirLayout(dataDir).lockFile, content, { mode: 0o600 })
  writeFileSync(
    dataDirLayout(dataDir).hostJson,
    JSON.stringify({
      pid: Number.parseInt(content, 10) || 1,
      socket: dataDirLayout(dataDir).hostSocket,
      port: null,
      address: null,
      startedAt: new Date(0).toISOString(),
    }),
    { mode: 0o600 },
  )
}

/** A pid that surely belongs to no process now: one of ours that has exited and been reaped. */
export async function deadPid(): Promise<number> {
  const p = spawn('true')
  await new Promise((r) => p.once('exit', r))
  return p.pid!
}
