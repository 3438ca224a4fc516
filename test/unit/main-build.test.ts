// The desktop bundles: main as one ES module that imports only electron, Node and the runtime
// dependencies the package ships; the sandboxed preload as one CommonJS file that requires only
// electron (a sandboxed preload can load nothing else). Both are then loaded as the app loads them,
// with electron stood in for: main from package.json's "main" in an app folder laid out as
// `electron .` and the package see it, up to the library window it opens.
import { spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runInNewContext } from 'node:vm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildDesktop } from '../../main/build.ts'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const scratch = mkdtempSync(join(tmpdir(), 'vireo-build-'))
/** The app folder: what the build writes, beside what the package carries unbuilt. */
const app = join(scratch, 'app')
afterAll(() => rmSync(scratch, { recursive: true, force: true }))
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  main: string
  dependencies: Record<string, string>
}

let built: { main: string; preload: string }
beforeAll(async () => {
  mkdirSync(app)
  copyFileSync(join(root, 'package.json'), join(app, 'package.json'))
  for (const dir of ['engine', 'node_modules']) symlinkSync(join(root, dir), join(app, dir))
  built = await buildDesktop({ root, outDir: join(app, 'dist') })
}, 60_000)

describe('desktop bundles', () => {
  it('build, importing only what the packaged app has', () => {
    expect(built.main).toBe(join(app, 'dist', 'main', 'main.js'))

    const preloadJs = readFileSync(built.preload, 'utf8')
    const required = new Set([...preloadJs.matchAll(/\brequire\(["']([^"']+)["']\)/g)].map((m) => m[1]))
    expect([...required]).toEqual(['electron'])
    expect(preloadJs).toContain('exposeInMainWorld')

    const mainJs = readFileSync(built.main, 'utf8')
    const imported = new Set(
      [...mainJs.matchAll(/^import\s[^;]*?from\s+["']([^"']+)["']/gm)].map((m) => m[1]!),
    )
    const allowed = new Set(['electron', ...Object.keys(pkg.dependencies)])
    for (const spec of imported) {
      expect(spec.startsWith('node:') || allowed.has(spec), `main imports ${spec}`).toBe(true)
    }
    expect(imported.has('electron')).toBe(true)
  })

  it('package.json "main" names the main the build writes', () => {
    expect(resolve(app, pkg.main)).toBe(built.main)
  })

  it('main loads and starts: the app scheme, the engine forked from the app folder, a sandboxed window with the built preload', () => {
    const log = join(scratch, 'stub.jsonl')
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        join(root, 'test/support/electron-stub-hooks.ts'),
        resolve(app, pkg.main),
        '--data-dir',
        join(scratch, 'data'),
      ],
      {
        encoding: 'utf8',
        timeout: 30_000,
        env: {
          ...process.env,
          VIREO_STUB_LOG: log,
          VIREO_STUB_APP_PATH: app,
          VIREO_STUB_USER_DATA: join(scratch, 'user-data'),
        },
      },
    )
    expect(r.status, r.stderr).toBe(0)
    const events = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; data: unknown })
    const first = (name: string) => events.find((e) => e.event === name)?.data
    expect(events.filter((e) => e.event === 'error-box')).toEqual([])
    expect(first('schemes')).toEqual(['app'])

    const fork = first('fork') as { entry: string; args: string[] }
    expect(fork.entry).toBe(join(app, 'engine', 'host', 'utility-main.ts'))
    expect(existsSync(fork.entry)).toBe(true)
    expect(fork.args).toEqual(['--data-dir', join(scratch, 'data')])

    const window = first('window') as { webPreferences: Record<string, unknown> }
    expect(window.webPreferences).toMatchObject({
      preload: built.preload,
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
    })
    expect(first('load')).toMatch(/^app:\/\//)
  })

  it('the preload loads in a bare context with only electron to require, and exposes window.vireo', () => {
    const exposed: Record<string, unknown> = {}
    const electron = {
      contextBridge: { exposeInMainWorld: (key: string, api: unknown) => (exposed[key] = api) },
      ipcRenderer: { on: () => undefined, invoke: () => Promise.resolve(), send: () => undefined },
    }
    const module = { exports: {} }
    runInNewContext(readFileSync(built.preload, 'utf8'), {
      module,
      exports: module.exports,
      require: (name: string) => {
        if (name === 'electron') return electron
        throw new Error(`the preload requires ${name}`)
      },
      window: { location: { origin: 'app://vireo' }, postMessage: () => undefined },
    })
    expect(Object.keys(exposed)).toEqual(['vireo'])
    const api = exposed.vireo as Record<string, unknown>
    expect(typeof api.onPort).toBe('function')
  })
})
