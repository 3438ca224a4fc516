// The desktop bundles: main as one ES module that imports only electron, Node and the runtime
// dependencies the package ships; the sandboxed preload as one CommonJS file that requires only
// electron (a sandboxed preload can load nothing else).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { buildDesktop } from '../../main/build.ts'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const out = mkdtempSync(join(tmpdir(), 'vireo-build-'))
afterAll(() => rmSync(out, { recursive: true, force: true }))
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>
}

describe('desktop bundles', () => {
  it('build, importing only what the packaged app has', async () => {
    const { main, preload } = await buildDesktop({ root, outDir: out })
    expect(main).toBe(join(out, 'main', 'main.js'))

    const preloadJs = readFileSync(preload, 'utf8')
    const required = new Set([...preloadJs.matchAll(/\brequire\(["']([^"']+)["']\)/g)].map((m) => m[1]))
    expect([...required]).toEqual(['electron'])
    expect(preloadJs).toContain('exposeInMainWorld')

    const mainJs = readFileSync(main, 'utf8')
    const imported = new Set(
      [...mainJs.matchAll(/^import\s[^;]*?from\s+["']([^"']+)["']/gm)].map((m) => m[1]!),
    )
    const allowed = new Set(['electron', ...Object.keys(pkg.dependencies)])
    for (const spec of imported) {
      expect(spec.startsWith('node:') || allowed.has(spec), `main imports ${spec}`).toBe(true)
    }
    expect(imported.has('electron')).toBe(true)
  }, 60_000)
})
