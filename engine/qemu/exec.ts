// Runs a helper program (qemu-img, qemu-system --version) without a shell and collects its output.
import { spawn } from 'node:child_process'

export interface ExecResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

export function execFileText(
  file: string,
  args: readonly string[],
  opts: { timeoutMs?: number; input?: string; onStdout?: (chunk: string) => void } = {},
): Promise<ExecResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'], shell: false })
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
