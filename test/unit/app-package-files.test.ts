// What the package would hold: electron-builder.yml's `files` and `asarUnpack` matched by
// electron-builder's own file matchers (its default exclusions included, such as the build
// resources folder, which here is assets/) against the repository's files, the build's outputs and
// the probe kernel `npm run dist` stages. Packing itself needs Electron's zip, which cannot be
// downloaded here; the matchers are the part of it that decides the file list.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import type { Configuration } from 'electron-builder'
import { appPaths } from '../../main/paths.ts'
import { PROBE_FILES } from '../../scripts/dist.ts'

type Filter = (file: string, stat: { isDirectory(): boolean }) => boolean
interface Matcher {
  createFilter(): Filter
}
// getMainFileMatchers is internal (not in the typings): it adds electron-builder's default exclusions.
const { getMainFileMatchers, getFileMatchers } =
  (await import('app-builder-lib/out/fileMatcher.js')) as unknown as {
    getMainFileMatchers: (...args: unknown[]) => Matcher[]
    getFileMatchers: (...args: unknown[]) => Matcher[] | null
  }

const root = resolve(import.meta.dirname, '..', '..')
const config = parse(readFileSync(join(root, 'electron-builder.yml'), 'utf8')) as Configuration
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { main: string }
const outDir = resolve(root, config.directories!.output!)
const same = (s: string) => s

const packager = {
  info: {
    projectDir: root,
    buildResourcesDir: resolve(root, config.directories!.buildResources!),
    config,
    isPrepackedAppAsar: false,
    debugLogger: { isEnabled: false },
  },
}
const [packed] = getMainFileMatchers(root, '/app', same, {}, packager, outDir, false)
const [unpacked] = getFileMatchers(config, 'asarUnpack', '/app', {
  macroExpander: same,
  customBuildOptions: {},
  globalOutDir: outDir,
  defaultSrc: root,
})!

/** As electron-builder walks: a file is taken only if every folder above it is entered too. */
function taker(filter: Filter): (rel: string) => boolean {
  const asDir = { isDirectory: () => true }
  const asFile = { isDirectory: () => false }
  return (rel) => {
    const parts = rel.split('/')
    for (let i = 1; i < parts.length; i++) if (!filter(join(root, ...parts.slice(0, i)), asDir)) return false
    return filter(join(root, rel), asFile)
  }
}
const isPacked = taker(packed!.createFilter())
const isUnpacked = taker(unpacked!.createFilter())

const tracked = execFileSync('git', ['ls-files'], { cwd: root, encoding: 'utf8' }).trim().split('\n')
const probeDir = relative(root, join(root, 'assets', 'probe'))
const probe = PROBE_FILES.map((f) => `${probeDir}/${f}`)
/** What `npm run dist` adds before packing: the build (scripts/build.ts) and the staged probe. */
const built = [
  pkg.main,
  `${pkg.main}.map`,
  'dist/preload/preload.cjs',
  'dist/renderer/index.html',
  'dist/renderer/assets/index-abc123.js',
  ...probe,
]
const candidates = [...tracked, ...built]

describe('the packaged file list', () => {
  it('holds the built entry package.json names, the preload and the renderer, inside the asar', () => {
    for (const f of ['package.json', pkg.main, 'dist/preload/preload.cjs', 'dist/renderer/index.html'])
      expect(isPacked(f), f).toBe(true)
    expect(isUnpacked(pkg.main)).toBe(false)
    expect(isUnpacked('dist/preload/preload.cjs')).toBe(false)
  })

  it('holds every engine file and the CLI, unpacked (other processes run them as plain files)', () => {
    const engine = tracked.filter((f) => f.startsWith('engine/'))
    expect(engine.length).toBeGreaterThan(100)
    for (const f of [...engine, 'bin/vireo']) {
      expect(isPacked(f), f).toBe(true)
      expect(isUnpacked(f), f).toBe(true)
    }
    const paths = appPaths('/opt/Vireo/resources/app.asar')
    const asUnpacked = (p: string) => relative('/opt/Vireo/resources/app.asar.unpacked', p)
    expect(isUnpacked(asUnpacked(paths.engineEntry))).toBe(true)
    expect(isUnpacked(asUnpacked(paths.cli))).toBe(true)
  })

  it('holds the probe kernel unpacked beside the engine, where the engine looks for it', () => {
    // engine/qemu/accel-probe.ts looks in <its folder>/../../assets/probe: the same layout unpacked.
    const probeModule = 'engine/qemu/accel-probe.ts'
    expect(resolve(root, dirname(probeModule), '..', '..', 'assets', 'probe')).toBe(join(root, probeDir))
    for (const f of probe) {
      expect(isPacked(f), f).toBe(true)
      expect(isUnpacked(f), f).toBe(true)
    }
  })

  it('holds the icons, and nothing of the tests, the sources that are bundled, or source maps', () => {
    expect(isPacked('assets/icon.png')).toBe(true)
    const unwanted = candidates.filter(
      (f) =>
        /^(test|scripts|renderer|main|preload|bench|\.ci)\//.test(f) ||
        f.endsWith('.map') ||
        f.includes('.test.') ||
        ['README.md', 'tsconfig.json', 'electron-builder.yml', 'package-lock.json'].includes(f),
    )
    expect(unwanted.length).toBeGreaterThan(100)
    expect(unwanted.filter(isPacked)).toEqual([])
  })
})
