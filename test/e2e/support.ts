// What the end-to-end tests stand on: Debian's Chromium driven by playwright-core, a `vireo serve`
// of their own over a throw-away data dir, and a renderer build that is not older than its sources.
import { execFileSync } from 'node:child_process'
import { appendFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
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

// The renderer bundles the RPC contract and the preload API's types with its own sources, so a
// change to any of them makes the build stale as well.
const RENDERER_INPUTS = ['renderer', 'engine/api', 'preload/api.ts', 'vite.config.ts', 'package-lock.json']

function newestInput(): number {
  return Math.max(
    ...RENDERER_INPUTS.map((rel) => {
      const p = join(repoRoot, rel)
      return statSync(p).isDirectory() ? newestMtime(p) : statSync(p).mtimeMs
    }),
  )
}

/** Builds dist/renderer when it is missing or older than its inputs (a stale build would test old code). */
export function ensureRendererBuild(): void {
  const index = join(repoRoot, 'dist', 'renderer', 'index.html')
  if (existsSync(index) && statSync(index).mtimeMs >= newestInput()) return
  // Only the renderer: `npm run build` would also rebuild the desktop shell, which these tests do not load.
  // Piped, not ignored, so that a failed build throws with vite's own message.
  execFileSync(process.execPath, [join(repoRoot, 'node_modules', 'vite', 'bin', 'vite.js'), 'build'], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
}

export { serve, type ServedHost } from '../support/serve.ts'

/**
 * Screenshots of each step, kept as test artifacts; with `dom`, the page's HTML and accessibility
 * tree beside it (what a role query failed to find is there).
 */
export function artifacts(
  name: string,
): (page: Page, step: string, opts?: { dom?: boolean }) => Promise<void> {
  const dir = join(repoRoot, 'test-artifacts', 'e2e', name)
  // Numbered by step: files of an earlier run with other steps would read as this run's.
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  let n = 0
  return async (page, step, opts) => {
    n += 1
    const base = join(dir, `${String(n).padStart(2, '0')}-${step}`)
    writeFileSync(`${base}.png`, await page.screenshot({ fullPage: true }))
    if (opts?.dom) {
      writeFileSync(`${base}.html`, await page.content())
      writeFileSync(`${base}.aria.yml`, await page.locator('body').ariaSnapshot())
    }
  }
}

/**
 * The page's console and uncaught errors, in the artifacts beside the screenshots: when a step fails,
 * what the renderer said is the first thing to read.
 */
export function recordConsole(page: Page, name: string): void {
  const file = join(repoRoot, 'test-artifacts', 'e2e', name, 'console.log')
  mkdirSync(dirname(file), { recursive: true })
  const log = (line: string) => appendFileSync(file, `${new Date().toISOString()} ${line}\n`)
  page.on('console', (m) => log(`${m.type()}: ${m.text()}`))
  page.on('pageerror', (e) => log(`uncaught: ${e.stack ?? e.message}`))
  page.on('requestfailed', (r) => log(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`))
}
