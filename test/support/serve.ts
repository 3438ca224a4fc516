// A `vireo serve` of a test's own over a throw-away data dir (or one it is given), with what the
// host logged kept for the test to read.
import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { cleanupDataDir, tempDataDir } from './cli.ts'
import { repoRoot } from './guest.ts'

export interface ServedHost {
  dataDir: string
  url: string
  port: number
  token: string
  process: ChildProcess
  /** Everything the host wrote to stderr so far (its log). */
  log(): string
  stop(): Promise<void>
}

export interface ServeOptions {
  dataDir?: string
  /** Extra arguments after `serve` (--listen ADDR). */
  args?: string[]
  env?: NodeJS.ProcessEnv
  /** Runs the command under this prefix (`ip netns exec NS`). */
  prefix?: string[]
}

export async function serve(opts: ServeOptions = {}): Promise<ServedHost> {
  const dataDir = opts.dataDir ?? tempDataDir('vireo-e2e-')
  const cmd = [
    process.execPath,
    join(repoRoot, 'bin', 'vireo'),
    '--data-dir',
    dataDir,
    'serve',
    '--port',
    '0',
    '--json',
    ...(opts.args ?? []),
  ]
  const [file, ...args] = [...(opts.prefix ?? []), ...cmd]
  const child = spawn(file!, args, { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env })
  let out = ''
  let err = ''
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d))
  const exited = new Promise<void>((r) =>
    child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', () => r()),
  )
  const stop = async (): Promise<void> => {
    child.kill('SIGTERM')
    await exited
    // The VMs outlive the host by design; the cleanup's own host stops them.
    await cleanupDataDir(dataDir)
  }
  try {
    const info = await new Promise<{ url: string; port: number; token: string }>((resolvePromise, reject) => {
      const timer = setTimeout(() => reject(new Error(`vireo serve did not start: ${err}`)), 30_000)
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        out += d
        try {
          const parsed = JSON.parse(out) as { url: string; port: number; token: string }
          clearTimeout(timer)
          resolvePromise(parsed)
        } catch {
          /* not all of it yet */
        }
      })
      child.once('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`vireo serve exited ${code}: ${err}`))
      })
    })
    return { dataDir, ...info, process: child, log: () => err, stop }
  } catch (e) {
    // The caller never gets a handle to stop: leave no host or temp dir behind.
    await stop()
    throw e
  }
}
