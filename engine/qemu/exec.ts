// Runs a helper program (qemu-img, qemu-system --version) without a shell and collects its output.
import { spawn } from 'node:child_process'
import { accessSync, constants } from 'node:fs'

/**
 * What a qemu-img run may map: a crafted image (a looping chain, a bomb of a table) once made a
 * convert grow past 1 GiB in 45 s; real conversions stay under 200 MiB here.
 */
export const QEMU_IMG_MEMORY_BYTES = 2 * 1024 ** 3

let prlimitPath: string | null | undefined
/**
 * util-linux's prlimit sets the child's limits before it runs (Node cannot set rlimits itself). It
 * execs the command, so the child's pid is the command's own and a kill reaches it directly.
 */
export function prlimit(): string | null {
  if (prlimitPath !== undefined) return prlimitPath
  prlimitPath = null
  for (const p of ['/usr/bin/prlimit', '/bin/prlimit']) {
    try {
      accessSync(p, constants.X_OK)
      return (prlimitPath = p)
    } catch {
      /* not here */
    }
  }
  return prlimitPath
}

export interface ExecResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

export function execFileText(
  file: string,
  args: readonly string[],
  opts: {
    timeoutMs?: number
    input?: string
    onStdout?: (chunk: string) => void
    /** The child's address-space bound, where prlimit exists (Linux). */
    maxMemoryBytes?: number
  } = {},
): Promise<ExecResult> {
  return new Promise((resolvePromise, reject) => {
    const limiter = opts.maxMemoryBytes ? prlimit() : null
    const [cmd, argv] = limiter
      ? [limiter, [`--as=${opts.maxMemoryBytes}`, '--', file, ...args]]
      : [file, [...args]]
    const child = spawn(cmd, argv, { stdio: ['pipe', 'pipe', 'pipe'], shell: false })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d
      opts.onStdout?.(d)
    })
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : null
    child.on('error', (err) => {
      if (timer) clearTimeout(timer)
      reject(err)
    })
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer)
      resolvePromise({ code, signal, stdout, stderr })
    })
    // A program that exits before reading its input (qemu-img refusing a file at once) closes the
    // pipe first; that EPIPE is no failure of the run, and unhandled it would end the whole process.
    child.stdin.on('error', () => undefined)
    child.stdin.end(opts.input ?? '')
  })
}
