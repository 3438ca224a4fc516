// The desktop package as electron-builder makes it (its Linux `dir` target, around a stand-in for
// Electron's binary, which cannot be downloaded here), from a copy of the checkout made the way
// `npm run dist` makes it: the probe kernel staged, the app built. Then the packaged engine is run
// from where the package unpacks it, with plain Node, as the background host runs it: its host
// starts and probes the accelerator with the packaged kernel, and stops without leaving it behind.
import { spawn, spawnSync } from 'node:child_process'
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { HostInfo } from '../../engine/api/rpc.ts'
import { buildApp } from '../../scripts/build.ts'
import { PROBE_FILES, stageProbe } from '../../scripts/dist.ts'
import type { CliResult } from '../support/cli.ts'
import { guestDir, repoRoot, requireTestGuest } from '../support/guest.ts'
import { runtimeClosure } from '../support/runtime-closure.ts'

requireTestGuest()
// electron-builder must load: on a machine whose node_modules lacks part of it, say so and skip.
const loads = spawnSync(process.execPath, ['-e', "require('electron-builder')"], {
  cwd: repoRoot,
  encoding: 'utf8',
})
const cannotPack =
  process.platform !== 'linux'
    ? 'the Linux dir target is checked on Linux'
    : loads.status !== 0
      ? `electron-builder does not load here: ${loads.stderr.split('\n').find((l) => l.startsWith('Error')) ?? loads.stderr}`
      : null
if (cannotPack) console.warn(`skipping the package test: ${cannotPack}`)

const scratch = mkdtempSync(join(tmpdir(), 'vireo-package-'))
const project = join(scratch, 'project')
const resources = join(scratch, 'release', 'linux-unpacked', 'resources')
const unpacked = join(resources, 'app.asar.unpacked')
const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  main: string
  dependencies: Record<string, string>
}
const closure = runtimeClosure(repoRoot, Object.keys(pkg.dependencies))
let asarFiles: string[] = []

afterAll(() => rmSync(scratch, { recursive: true, force: true }))

beforeAll(async () => {
  if (cannotPack) return
  // The checkout's own files (its node_modules is a link here, which npm cannot list from a copy).
  mkdirSync(project)
  for (const f of ['engine', 'bin', 'assets', 'package.json', 'package-lock.json'])
    cpSync(join(repoRoot, f), join(project, f), {
      recursive: true,
      filter: (src) => !src.includes('/assets/probe'),
    })
  for (const dep of closure) cpSync(dep.dir, join(project, 'node_modules', dep.name), { recursive: true })
  stageProbe({ root: project, env: { VIREO_TEST_GUEST_DIR: guestDir } })
  await buildApp({ outDir: join(project, 'dist') })
  const electron = join(scratch, 'electron')
  mkdirSync(electron)
  writeFileSync(join(electron, 'electron'), '#!/bin/sh\nexit 0\n', { mode: 0o755 })
  const packed = spawnSync(
    process.execPath,
    [join(repoRoot, 'test/support/pack-app.ts'), project, join(scratch, 'release'), electron],
    { encoding: 'utf8', timeout: 120_000 },
  )
  if (packed.status !== 0) throw new Error(`electron-builder failed: ${packed.stderr}${packed.stdout}`)
  const { listPackage } = await import('@electron/asar')
  asarFiles = listPackage(join(resources, 'app.asar'), { isPack: false }).map((f) => f.replace(/^[\\/]/, ''))
}, 180_000)

describe.skipIf(cannotPack !== null)('the packaged app', () => {
  it('holds the built entry package.json names, the preload and the renderer in app.asar, and no tests or maps', () => {
    for (const f of ['package.json', pkg.main, 'dist/preload/preload.cjs', 'dist/renderer/index.html'])
      expect(asarFiles, f).toContain(f)
    expect(
      asarFiles.filter((f) => f.includes('.test.') || f.endsWith('.map') || f.startsWith('test/')),
    ).toEqual([])
  })

  it('unpacks the engine, the CLI, every runtime dependency and the probe kernel', () => {
    expect(existsSync(join(unpacked, 'engine/host/utility-main.ts'))).toBe(true)
    expect(existsSync(join(unpacked, 'bin/vireo'))).toBe(true)
    const engineFiles = readdirSync(join(repoRoot, 'engine'), { recursive: true }).map(String)
    for (const f of engineFiles) expect(existsSync(join(unpacked, 'engine', f)), f).toBe(true)
    for (const dep of closure)
      expect(existsSync(join(unpacked, 'node_modules', dep.name, 'package.json')), dep.name).toBe(true)
    for (const f of PROBE_FILES)
      expect(readFileSync(join(unpacked, 'assets/probe', f)).equals(readFileSync(join(guestDir, f))), f).toBe(
        true,
      )
  })

  it('runs its host from the unpacked files, probing with the packaged kernel, and stops it cleanly', async () => {
    const home = join(scratch, 'user')
    // No way back to the checkout: the packaged engine must find everything in the package.
    const { VIREO_PROBE_DIR: _p, VIREO_TEST_GUEST_DIR: _g, ...inherited } = process.env
    const env = { ...inherited, VIREO_TEST: '1', XDG_CACHE_HOME: join(home, 'cache') }
    const dataDir = join(home, 'data')
    const run = (args: string[]) =>
      new Promise<CliResult>((resolvePromise, reject) => {
        const child = spawn(process.execPath, [join(unpacked, 'bin/vireo'), '--data-dir', dataDir, ...args], {
          cwd: scratch,
          env,
          stdio: ['ignore', 'pipe', 'pipe'],
        })
        let stdout = ''
        let stderr = ''
        child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
        child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
        child.on('error', reject)
        child.on('close', (code) => resolvePromise({ code, stdout, stderr }))
      })
    const listed = await run(['list', '--json'])
    const log = join(dataDir, 'logs', 'host.log')
    expect(listed.code, `${listed.stderr}${existsSync(log) ? readFileSync(log, 'utf8') : ''}`).toBe(0)
    const status = await run(['host', 'status', '--json'])
    const info = JSON.parse(status.stdout) as HostInfo
    expect(info.qemu).not.toBeNull()
    expect(info.acceleratorProbe?.state).toMatch(/^(probing|done)$/)
    const kernel = join(unpacked, 'assets/probe/vmlinuz')
    const probes = () =>
      readdirSync('/proc')
        .filter((p) => /^\d+$/.test(p))
        .filter((p) => {
          try {
            return readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').includes(kernel)
          } catch {
            return false
          }
        })
    if (info.acceleratorProbe?.state === 'probing') {
      for (let i = 0; i < 50 && probes().length === 0; i++) await new Promise((r) => setTimeout(r, 100))
      expect(probes()).toHaveLength(1)
    }
    expect((await run(['host', 'stop'])).code).toBe(0)
    expect(probes()).toEqual([])
  })
})
