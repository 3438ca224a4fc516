// Main's IPC handlers: a request from any frame but the app's own top-level page is refused before
// anything happens, and arguments outside the contract are rejected.
import { beforeEach, describe, expect, it, vi, type Mock } from 'vitest'
import type { AppSettings, Settings } from '../../main/settings.ts'

const handlers = new Map<string, (event: unknown, ...args: unknown[]) => unknown>()
const nativeTheme = { themeSource: 'system' }

vi.mock('electron', () => ({
  ipcMain: {
    handle: (channel: string, h: (event: unknown, ...args: unknown[]) => unknown) => handlers.set(channel, h),
    removeHandler: (channel: string) => handlers.delete(channel),
  },
  BrowserWindow: { fromWebContents: () => null },
  dialog: { showOpenDialog: vi.fn() },
  nativeTheme,
  protocol: { registerSchemesAsPrivileged: vi.fn() },
}))
// electron-store loads the real electron (a dependency is not mocked through vi.mock('electron')).
vi.mock('electron-store', () => ({ default: class {} }))

const { registerIpc, senderIsApp } = await import('../../main/ipc.ts')
const { appPage } = await import('../../main/windows.ts')
const { Channels } = await import('../../preload/channels.ts')

function memorySettings(): Settings & { state: AppSettings } {
  const state: AppSettings = {
    theme: 'system',
    windowBounds: null,
    lastFolders: { iso: '/isos', disk: '', appliance: '' },
    quitWithRunningVms: 'ask',
  }
  return {
    state,
    get: () => structuredClone(state),
    setTheme: (t) => (state.theme = t),
    setLastFolder: (k, d) => (state.lastFolders[k] = d),
    setWindowBounds: (b) => (state.windowBounds = b),
    setQuitBehavior: (b) => (state.quitWithRunningVms = b),
  }
}

const sender = { id: 1 }
const appFrame = { url: 'app://vireo/index.html#/library', parent: null }
const ev = (senderFrame: unknown) => ({ senderFrame, sender })

let settings: ReturnType<typeof memorySettings>
type Dialog = (
  win: unknown,
  options: Record<string, unknown>,
) => Promise<{ canceled: boolean; filePaths: string[] }>
let showOpenDialog: Mock<Dialog>
let connectEngine: Mock<(contents: unknown) => Promise<void>>
let unregister: () => void

beforeEach(() => {
  unregister?.()
  settings = memorySettings()
  showOpenDialog = vi.fn<Dialog>(async () => ({ canceled: false, filePaths: ['/isos/debian/debian-12.iso'] }))
  connectEngine = vi.fn(async () => undefined)
  unregister = registerIpc({
    page: appPage(),
    settings,
    connectEngine,
    showOpenDialog: showOpenDialog as never,
  })
})

const call = (channel: string, event: unknown, ...args: unknown[]) => {
  const h = handlers.get(channel)
  if (!h) throw new Error(`no handler for ${channel}`)
  return Promise.resolve().then(() => h(event, ...args))
}

describe('ipc', () => {
  it('registers exactly the contract’s handlers', () => {
    expect([...handlers.keys()].sort()).toEqual(
      [Channels.requestPort, Channels.openFileDialog, Channels.getSettings, Channels.setTheme].sort(),
    )
  })

  it('answers the app’s own page', async () => {
    expect(await call(Channels.getSettings, ev(appFrame))).toEqual({
      theme: 'system',
      quitWithRunningVms: 'ask',
    })
    expect(await call(Channels.openFileDialog, ev(appFrame), 'iso')).toBe('/isos/debian/debian-12.iso')
    expect(showOpenDialog).toHaveBeenCalledWith(
      null,
      expect.objectContaining({ defaultPath: '/isos', properties: ['openFile', 'dontAddToRecent'] }),
    )
    expect(settings.state.lastFolders.iso).toBe('/isos/debian')
    expect(await call(Channels.setTheme, ev(appFrame), 'dark')).toEqual({
      theme: 'dark',
      quitWithRunningVms: 'ask',
    })
    expect(nativeTheme.themeSource).toBe('dark')
    await call(Channels.requestPort, ev(appFrame))
    expect(connectEngine).toHaveBeenCalledWith(sender)
  })

  it('refuses a sender from a foreign frame, before acting', async () => {
    const foreign = [
      { url: 'https://evil.example/', parent: null },
      { url: 'file:///tmp/x.html', parent: null },
      { url: 'app://elsewhere/index.html', parent: null },
      // The app's URL, but in a subframe.
      { url: 'app://vireo/index.html', parent: appFrame },
      // The frame is gone (navigated or destroyed while the message was in flight).
      null,
    ]
    for (const frame of foreign) {
      for (const [channel, args] of [
        [Channels.getSettings, []],
        [Channels.openFileDialog, ['iso']],
        [Channels.setTheme, ['dark']],
        [Channels.requestPort, []],
      ] as const) {
        await expect(call(channel, ev(frame), ...args)).rejects.toThrow(/refused/)
      }
    }
    expect(showOpenDialog).not.toHaveBeenCalled()
    expect(connectEngine).not.toHaveBeenCalled()
    expect(settings.state.theme).toBe('system')
  })

  it('treats a frame whose properties throw as foreign', () => {
    const dead = {
      get url(): string {
        throw new Error('Render frame was disposed')
      },
      parent: null,
    }
    expect(senderIsApp(ev(dead) as never, appPage())).toBe(false)
  })

  it('rejects bad arguments', async () => {
    await expect(call(Channels.openFileDialog, ev(appFrame), 'exe')).rejects.toThrow(TypeError)
    await expect(call(Channels.openFileDialog, ev(appFrame), { kind: 'iso' })).rejects.toThrow(TypeError)
    await expect(call(Channels.openFileDialog, ev(appFrame))).rejects.toThrow(/expected 1 argument/)
    await expect(call(Channels.openFileDialog, ev(appFrame), 'iso', '/etc')).rejects.toThrow(
      /expected 1 argument/,
    )
    await expect(call(Channels.setTheme, ev(appFrame), 'neon')).rejects.toThrow(TypeError)
    await expect(call(Channels.setTheme, ev(appFrame), null)).rejects.toThrow(TypeError)
    await expect(call(Channels.getSettings, ev(appFrame), 'extra')).rejects.toThrow(/expected 0 argument/)
    expect(showOpenDialog).not.toHaveBeenCalled()
    expect(settings.state.theme).toBe('system')
  })

  it('returns null when the dialog is cancelled, and remembers nothing', async () => {
    showOpenDialog.mockResolvedValueOnce({ canceled: true, filePaths: [] })
    expect(await call(Channels.openFileDialog, ev(appFrame), 'disk')).toBeNull()
    expect(settings.state.lastFolders.disk).toBe('')
    const options = showOpenDialog.mock.calls[0]?.[1] as { defaultPath?: string; filters: unknown[] }
    expect(options.defaultPath).toBeUndefined()
    expect(options.filters[0]).toMatchObject({ extensions: expect.arrayContaining(['qcow2', 'vmdk']) })
  })

  it('removes its handlers', () => {
    unregister()
    expect(handlers.size).toBe(0)
    unregister = () => undefined
  })
})
