// What the end-to-end tests stand on: Debian's Chromium driven by playwright-core, a `vireo serve`
// of their own over a throw-away data dir, and a renderer build that is not older than its sources.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { cleanupDataDir, tempDataDir } from '../support/cli.ts'
import { repoRoot } from '../support/guest.ts'

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
]

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS })
}

function newestMtime(dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs)
  }
  return newest
}

/** Builds dist/renderer when it is missing or older than renderer/ (a stale build would test old code). */
export function ensureRendererBuild(): void {
  const index = join(repoRoot, 'dist', 'renderer', 'index.html')
  if (existsSync(index) && statSync(index).mtimeMs >= newestMtime(join(repoRoot, 'renderer'))) return
  execFileSync(process.execPath, [join(repoRoot, 'node_modules', 'vite', 'bin', 'vite.js'), 'build'], {
    cwd: repoRoot,
    stdio: 'ignore',
  })
}

export interface ServedHost {
  dataDir: string
  url: string
  port: number
  token: string
  process: ChildProcess
  stop(): Promise<void>
}

export async function serve(): Promise<ServedHost> {
  const dataDir = tempDataDir('vireo-e2e-')
  const child = spawn(
    process.execPath,
    [join(repoRoot, 'bin', 'vireo'), '--data-dir', dataDir, 'serve', '--port', '0', '--json'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let out = ''
  let err = ''
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d))
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
    child.once('exit', (code) => reject(new Error(`vireo serve exited ${code}: ${err}`)))
  })
  return {
    dataDir,
    ...info,
    process: child,
    stop: async () => {
      child.kill('SIGTERM')
      await new Promise((r) => (child.exitCode === null ? child.once('exit', r) : r(null)))
      // The VMs outlive the host by design; the cleanup's own host stops them.
      await cleanupDataDir(dataDir)
    },
  }
}

/** Screenshots of each step, kept as test artifacts. */
export function artifacts(name: string): (page: Page, step: string) => Promise<void> {
  const dir = join(repoRoot, 'test-artifacts', 'e2e', name)
  mkdirSync(dir, { recursive: true })
  let n = 0
  return async (page, step) => {
    n += 1
    const file = join(dir, `${String(n).padStart(2, '0')}-${step}.png`)
    writeFileSync(file, await page.screenshot({ fullPage: true }))
  }
}
