// `npm start`: builds the app, then runs Electron on this checkout (package.json "main" names the
// built main). Arguments after `--` go to the app (`npm start -- --data-dir DIR`).
//
// Electron's own `require('electron')` downloads the binary when it is missing, and throws a stack
// trace where that cannot work; so the binary is looked for here first, where electron/index.js
// would look, and its absence is said in one sentence before anything is built.
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..')

/** The executable inside an unpacked Electron, as electron/install.js names it per platform. */
function executableIn(electronPkg: string, platform: NodeJS.Platform): string {
  try {
    return readFileSync(join(electronPkg, 'path.txt'), 'utf8')
  } catch {
    if (platform === 'darwin') return 'Electron.app/Contents/MacOS/Electron'
    return platform === 'win32' ? 'electron.exe' : 'electron'
  }
}

export type ElectronBinary = { path: string; found: true } | { path: string; found: false; why: string }

export function findElectron(
  opts: { root?: string; env?: NodeJS.ProcessEnv; platform?: NodeJS.Platform } = {},
): ElectronBinary {
  const base = opts.root ?? root
  const env = opts.env ?? process.env
  const pkg = join(base, 'node_modules', 'electron')
  const exe = executableIn(pkg, opts.platform ?? process.platform)
  const override = env.ELECTRON_OVERRIDE_DIST_PATH
  const path = override ? join(override, exe) : join(pkg, 'dist', exe)
  if (existsSync(path)) return { path, found: true }
  let version = ''
  try {
    version = ` ${(JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as { version: string }).version}`
  } catch {
    /* electron itself is not installed: the sentence still says what to do */
  }
  const shown = override ? path : relative(base, path)
  const why = override
    ? `cannot start the desktop app: ELECTRON_OVERRIDE_DIST_PATH names ${shown}, which does not exist`
    : `cannot start the desktop app: Electron's binary is not installed (there is no ${shown}; ` +
      `npm installed Electron with ELECTRON_SKIP_BINARY_DOWNLOAD=1, or its download failed), so run ` +
      `\`node node_modules/electron/install.js\` where Electron's downloads are reachable, or set ` +
      `ELECTRON_OVERRIDE_DIST_PATH to an unpacked Electron${version}`
  return { path, found: false, why }
}

if (import.meta.main) {
  const electron = findElectron()
  if (!electron.found) {
    process.stderr.write(`vireo: ${electron.why}.\n`)
    process.exit(1)
  }
  const { buildApp } = await import('./build.ts')
  await buildApp()
  // Set in the calling shell, it would make Electron a plain Node and the app would never open.
  const { ELECTRON_RUN_AS_NODE: _asNode, ...env } = process.env
  const child = spawn(electron.path, [root, ...process.argv.slice(2)], { stdio: 'inherit', env })
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal))
  child.on('error', (err) => {
    process.stderr.write(`vireo: could not run Electron (${electron.path}): ${err.message}.\n`)
    process.exit(1)
  })
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
}
