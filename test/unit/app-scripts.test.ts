// `npm start` and `npm run dist`: what they run, the one sentence `npm start` says when Electron's
// binary is missing (as on these machines), and the probe kernel `npm run dist` puts into the package.
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { PROBE_FILES, stageProbe } from '../../scripts/dist.ts'
import { findElectron } from '../../scripts/start.ts'

const root = resolve(import.meta.dirname, '..', '..')
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>
}
const scratch = mkdtempSync(join(tmpdir(), 'vireo-scripts-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

/** A checkout with an `electron` package installed as npm does with ELECTRON_SKIP_BINARY_DOWNLOAD=1. */
function checkout(name: string): string {
  const dir = join(scratch, name)
  mkdirSync(join(dir, 'node_modules', 'electron'), { recursive: true })
  writeFileSync(join(dir, 'node_modules', 'electron', 'package.json'), '{"version":"45.4.1"}')
  return dir
}

function file(path: string, text = 'x'): void {
  mkdirSync(resolve(path, '..'), { recursive: true })
  writeFileSync(path, text)
}

describe('npm start', () => {
  it('runs the launcher, which builds and then runs Electron', () => {
    expect(pkg.scripts.start).toBe('node scripts/start.ts')
    expect(pkg.scripts.dist).toBe('node scripts/dist.ts')
  })

  it('finds no binary where npm skipped its download, and says so in one sentence', () => {
    const dir = checkout('skipped')
    const r = findElectron({ root: dir, env: {}, platform: 'linux' })
    expect(r.found).toBe(false)
    if (r.found) return
    expect(r.path).toBe(join(dir, 'node_modules/electron/dist/electron'))
    expect(r.why).toBe(
      "cannot start the desktop app: Electron's binary is not installed (there is no " +
        'node_modules/electron/dist/electron; npm installed Electron with ELECTRON_SKIP_BINARY_DOWNLOAD=1, ' +
        "or its download failed), so run `node node_modules/electron/install.js` where Electron's downloads " +
        'are reachable, or set ELECTRON_OVERRIDE_DIST_PATH to an unpacked Electron 45.4.1',
    )
  })

  it('finds the binary where Electron’s own package would: path.txt, the platform’s name, the override', () => {
    const dir = checkout('installed')
    file(join(dir, 'node_modules/electron/dist/electron'))
    expect(findElectron({ root: dir, env: {}, platform: 'linux' })).toEqual({
      path: join(dir, 'node_modules/electron/dist/electron'),
      found: true,
    })
    const mac = 'Electron.app/Contents/MacOS/Electron'
    expect(findElectron({ root: dir, env: {}, platform: 'darwin' }).path).toBe(
      join(dir, 'node_modules/electron/dist', mac),
    )
    writeFileSync(join(dir, 'node_modules/electron/path.txt'), mac)
    file(join(dir, 'node_modules/electron/dist', mac))
    expect(findElectron({ root: dir, env: {}, platform: 'linux' }).found).toBe(true)

    const override = join(scratch, 'unpacked-electron')
    file(join(override, mac))
    expect(findElectron({ root: dir, env: { ELECTRON_OVERRIDE_DIST_PATH: override } })).toEqual({
      path: join(override, mac),
      found: true,
    })
    const gone = findElectron({ root: dir, env: { ELECTRON_OVERRIDE_DIST_PATH: join(scratch, 'nowhere') } })
    expect(gone.found).toBe(false)
  })

  it('exits 1 with that one sentence and no stack trace, before building anything', () => {
    // Pointed at an empty folder, so that a machine with Electron installed does not open the app.
    const r = spawnSync(process.execPath, [join(root, 'scripts/start.ts')], {
      encoding: 'utf8',
      timeout: 20_000,
      env: { ...process.env, ELECTRON_OVERRIDE_DIST_PATH: join(scratch, 'empty') },
    })
    expect(r.status).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr).toBe(
      `vireo: cannot start the desktop app: ELECTRON_OVERRIDE_DIST_PATH names ${join(scratch, 'empty', 'electron')}, which does not exist.\n`,
    )
  })

  it.skipIf(findElectron().found)('says why on this machine, whose Electron has no binary', () => {
    const { ELECTRON_OVERRIDE_DIST_PATH: _o, ...env } = process.env
    const r = spawnSync(process.execPath, [join(root, 'scripts/start.ts')], {
      encoding: 'utf8',
      timeout: 20_000,
      env,
    })
    expect(r.status).toBe(1)
    expect(r.stderr.split('\n')).toHaveLength(2)
    expect(r.stderr).toMatch(
      /^vireo: cannot start the desktop app: Electron's binary is not installed .*\.\n$/,
    )
    expect(r.stderr).not.toMatch(/\n\s+at /)
  })
})

describe('npm run dist', () => {
  it('copies the probe kernel from the test-guest build into assets/probe', () => {
    const dir = join(scratch, 'dist-with-guest')
    for (const f of PROBE_FILES) file(join(dir, '.cache/test-guest', f), `the ${f}`)
    const target = stageProbe({ root: dir, env: {} })
    expect(target).toBe(join(dir, 'assets/probe'))
    for (const f of PROBE_FILES) expect(readFileSync(join(target, f), 'utf8')).toBe(`the ${f}`)
    // VIREO_TEST_GUEST_DIR, as everywhere else, says where the test guest was built.
    const elsewhere = join(scratch, 'guest-elsewhere')
    for (const f of PROBE_FILES) file(join(elsewhere, f), `new ${f}`)
    stageProbe({ root: dir, env: { VIREO_TEST_GUEST_DIR: elsewhere } })
    expect(readFileSync(join(target, 'vmlinuz'), 'utf8')).toBe('new vmlinuz')
  })

  it('keeps a probe already staged, and refuses in one sentence to package without one', () => {
    const staged = join(scratch, 'dist-staged')
    for (const f of PROBE_FILES) file(join(staged, 'assets/probe', f))
    expect(stageProbe({ root: staged, env: {} })).toBe(join(staged, 'assets/probe'))

    const bare = join(scratch, 'dist-bare')
    file(join(bare, '.cache/test-guest/vmlinuz'))
    expect(() => stageProbe({ root: bare, env: {} })).toThrow(
      "the accelerator probe's kernel is missing (vmlinuz and probe-initrd.img in .cache/test-guest): " +
        'build it with `npm run test-guest` first, since a package without it could never verify KVM',
    )
  })
})
