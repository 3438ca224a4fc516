// The app's settings: defaults, schema checks, and a broken file replaced by the defaults. electron-
// store is stood in for by conf, the store it extends (electron-store itself would load the real
// electron, which cannot run here), with the same options.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it, vi } from 'vitest'

vi.mock('electron-store', async () => {
  const { default: Conf } = await import('conf')
  class Store extends Conf<Record<string, unknown>> {
    constructor(options: { name?: string } & Record<string, unknown>) {
      const { name, ...rest } = options
      super({ ...rest, configName: name ?? 'config', projectName: 'vireo-test' })
    }
  }
  return { default: Store }
})

const { openSettings, rendererSettings } = await import('../../main/settings.ts')

const dir = mkdtempSync(join(tmpdir(), 'vireo-settings-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('settings', () => {
  it('starts from the defaults', () => {
    const s = openSettings({ cwd: join(dir, 'fresh') })
    expect(s.get()).toEqual({
      theme: 'system',
      windowBounds: null,
      lastFolders: { iso: '', disk: '', appliance: '' },
      quitWithRunningVms: 'ask',
    })
  })

  it('stores what it is given, in settings.json', () => {
    const cwd = join(dir, 'a')
    const s = openSettings({ cwd })
    s.setTheme('dark')
    s.setLastFolder('iso', '/isos')
    s.setWindowBounds({ x: 10.4, y: 20, width: 1000.6, height: 100, maximized: true })
    s.setQuitBehavior('keep-running')
    const again = openSettings({ cwd }).get()
    expect(again).toEqual({
      theme: 'dark',
      windowBounds: { x: 10, y: 20, width: 1001, height: 240, maximized: true },
      lastFolders: { iso: '/isos', disk: '', appliance: '' },
      quitWithRunningVms: 'keep-running',
    })
    expect(JSON.parse(readFileSync(join(cwd, 'settings.json'), 'utf8')).theme).toBe('dark')
    expect(rendererSettings(again)).toEqual({ theme: 'dark', quitWithRunningVms: 'keep-running' })
  })

  it('refuses values outside the schema', () => {
    const s = openSettings({ cwd: join(dir, 'b') })
    expect(() => s.setTheme('neon' as never)).toThrow()
    expect(() => s.setQuitBehavior('sometimes' as never)).toThrow()
    expect(s.get().theme).toBe('system')
  })

  it('replaces a file that fails the schema with the defaults', () => {
    const cwd = join(dir, 'c')
    openSettings({ cwd })
    writeFileSync(join(cwd, 'settings.json'), JSON.stringify({ theme: 'neon', windowBounds: 'big' }))
    expect(openSettings({ cwd }).get().theme).toBe('system')
  })

  it('loads a file written before a kind of file dialog was added', () => {
    const cwd = join(dir, 'd')
    openSettings({ cwd })
    writeFileSync(
      join(cwd, 'settings.json'),
      JSON.stringify({ theme: 'dark', lastFolders: { iso: '/isos', disk: '/disks' } }),
    )
    const s = openSettings({ cwd })
    expect(s.get().theme).toBe('dark')
    expect(s.get().lastFolders).toEqual({ iso: '/isos', disk: '/disks', appliance: '' })
    s.setLastFolder('appliance', '/ovas')
    expect(openSettings({ cwd }).get().lastFolders.appliance).toBe('/ovas')
  })
})
