// electron-builder.yml: valid against electron-builder's own schema, with the fields, targets and
// Debian dependencies Vireo needs, and every path it names present in the checkout.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import type { Configuration } from 'electron-builder'
import { appPaths } from '../../main/paths.ts'
import { runtimeClosure } from '../support/runtime-closure.ts'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const config = parse(readFileSync(join(root, 'electron-builder.yml'), 'utf8')) as Configuration
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  main: string
  dependencies: Record<string, string>
}

/** A PNG's width and height, from its IHDR chunk. */
function pngSize(path: string): { width: number; height: number } {
  const b = readFileSync(path)
  expect(b.subarray(1, 4).toString('latin1')).toBe('PNG')
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) }
}

const targetsOf = (t: unknown): string[] =>
  (Array.isArray(t) ? t : [t]).map((x) => (typeof x === 'string' ? x : (x as { target: string }).target))

/** Folders produced by a build, not kept in the repository. */
const BUILD_OUTPUTS = ['dist']

describe('electron-builder.yml', () => {
  it('passes electron-builder’s own validation', async () => {
    // The exact check `electron-builder` runs before a build (its JSON schema and deprecations).
    const { validateConfiguration } = (await import('app-builder-lib/out/util/config/config.js')) as {
      validateConfiguration: (c: Configuration, logger: unknown) => Promise<void>
    }
    const { DebugLogger } = (await import('builder-util')) as {
      DebugLogger: new (enabled: boolean) => unknown
    }
    await expect(
      validateConfiguration(structuredClone(config), new DebugLogger(false)),
    ).resolves.toBeUndefined()
  })

  it('names the app', () => {
    expect(config.appId).toBe('dev.vireo.app')
    expect(config.productName).toBe('Vireo')
    expect(config.directories?.output).toBeTruthy()
    expect(config.directories?.buildResources).toBe('assets')
  })

  it('packs the app and nothing of the tests', () => {
    const files = config.files as string[]
    for (const f of ['dist/**', 'engine/**', 'bin/**', 'assets/**', 'package.json'])
      expect(files).toContain(f)
    const included = files.filter((f) => !f.startsWith('!'))
    expect(included.some((f) => /(^|\/)tests?\//.test(f) || f.includes('.test.'))).toBe(false)
    expect(files).toContain('!**/*.test.ts')
    // The entry electron-builder starts is the one the build writes.
    expect(pkg.main).toBe('dist/main/main.js')
  })

  it('names only paths that exist (or that the build makes)', () => {
    const patterns = [...(config.files as string[]), ...(config.asarUnpack as string[])].filter(
      (p) => !p.startsWith('!'),
    )
    for (const p of patterns) {
      const top = p.split('/')[0]!
      if (BUILD_OUTPUTS.includes(top)) continue
      if (top === 'node_modules') continue // npm may nest a package: the closure test finds those
      const fixed = p.replace(/\/\*\*$/, '')
      if (fixed === 'assets/probe') continue // staged from the test-guest build by `npm run dist`
      expect(existsSync(join(root, fixed)), `${p} names ${fixed}, which does not exist`).toBe(true)
    }
  })

  it('unpacks the engine, the CLI and every runtime dependency the engine imports', () => {
    const unpack = config.asarUnpack as string[]
    for (const p of ['engine/**', 'bin/**', 'assets/probe/**']) expect(unpack).toContain(p)
    const closure = runtimeClosure(root, Object.keys(pkg.dependencies)).map((d) => d.name)
    for (const dep of closure) expect(unpack).toContain(`node_modules/${dep}/**`)
    // …and no entry for a package nothing needs any more.
    const listed = unpack.filter((p) => p.startsWith('node_modules/')).map((p) => p.slice(13, -3))
    expect(listed.filter((d) => !closure.includes(d))).toEqual([])
    // …and what the packaged app runs is where main looks for it.
    const paths = appPaths('/opt/Vireo/resources/app.asar')
    expect(paths.engineEntry).toBe('/opt/Vireo/resources/app.asar.unpacked/engine/host/utility-main.ts')
    expect(paths.cli).toBe('/opt/Vireo/resources/app.asar.unpacked/bin/vireo')
    expect(paths.preload).toBe('/opt/Vireo/resources/app.asar/dist/preload/preload.cjs')
    expect(existsSync(join(root, 'engine/host/utility-main.ts'))).toBe(true)
    expect(existsSync(join(root, 'bin/vireo'))).toBe(true)
  })

  it('keeps run-as-node on (the background host needs it) and file:// privileges off', () => {
    expect(config.electronFuses).toMatchObject({ runAsNode: true, grantFileProtocolExtraPrivileges: false })
  })

  it('builds AppImage and deb for Linux, dmg for macOS, NSIS for Windows', () => {
    expect(targetsOf(config.linux?.target).sort()).toEqual(['AppImage', 'deb'])
    expect(config.linux?.category).toBe('System;Emulator')
    expect(targetsOf(config.mac?.target)).toEqual(['dmg'])
    expect(config.mac?.category).toBe('public.app-category.developer-tools')
    expect(targetsOf(config.win?.target)).toEqual(['nsis'])
    // The `vireo` command stays the CLI's.
    expect(config.linux?.executableName).not.toBe('vireo')
  })

  it('makes the deb depend on QEMU and qemu-img, keeping Electron’s own dependencies', () => {
    const depends = config.deb?.depends ?? []
    for (const d of ['qemu-system-x86', 'qemu-utils', 'libgtk-3-0', 'libnss3', 'xdg-utils'])
      expect(depends).toContain(d)
    expect(config.deb?.recommends).toContain('ovmf')
  })

  it('has every icon it names, at the sizes each platform needs', () => {
    expect(existsSync(join(root, 'assets/icon.svg'))).toBe(true)
    const linuxIcons = join(root, config.linux?.icon as string)
    expect(statSync(linuxIcons).isDirectory()).toBe(true)
    const sizes = readdirSync(linuxIcons)
      .map((f) => /^(\d+)x(\d+)\.png$/.exec(f))
      .filter((m) => m !== null)
      .map((m) => {
        const size = pngSize(join(linuxIcons, m[0]))
        expect(size).toEqual({ width: Number(m[1]), height: Number(m[2]) })
        return size.width
      })
      .sort((a, b) => a - b)
    expect(sizes).toEqual([16, 24, 32, 48, 64, 128, 256, 512, 1024])
    for (const icon of [config.mac?.icon, config.win?.icon, 'assets/icon.png']) {
      const path = join(root, icon as string)
      expect(existsSync(path), `${icon} is missing`).toBe(true)
      expect(pngSize(path)).toEqual({ width: 1024, height: 1024 })
    }
  })
})
