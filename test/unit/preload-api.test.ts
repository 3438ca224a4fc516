// The preload exposes exactly `window.vireo` with its four members, validates arguments before
// anything reaches main, and hands the engine's MessagePort to the page through window.postMessage.
import { MessageChannel } from 'node:worker_threads'
import { beforeAll, describe, expect, it, vi } from 'vitest'
import type { VireoApi } from '../../preload/api.ts'

const exposed: Array<[string, unknown]> = []
const ipcListeners = new Map<string, (event: { ports: unknown[] }) => void>()
const invoke = vi.fn(async (channel: string, ...args: unknown[]): Promise<unknown> => {
  if (channel === 'vireo:get-settings' || channel === 'vireo:set-theme') {
    return { theme: args[0] ?? 'system', quitWithRunningVms: 'ask' }
  }
  if (channel === 'vireo:open-file-dialog') return '/isos/a.iso'
  return undefined
})

vi.mock('electron', () => ({
  contextBridge: { exposeInMainWorld: (key: string, api: unknown) => exposed.push([key, api]) },
  ipcRenderer: {
    invoke: (channel: string, ...args: unknown[]) => invoke(channel, ...args),
    on: (channel: string, l: (event: { ports: unknown[] }) => void) => ipcListeners.set(channel, l),
  },
}))

/** The page's window as both worlds share it: postMessage dispatches a message event to listeners. */
type MessageListener = (event: { source: unknown; origin: string; data: unknown; ports: unknown[] }) => void
const listeners = new Set<MessageListener>()
const posted: Array<{ data: unknown; targetOrigin: string; transfer: unknown[] }> = []
const fakeWindow = {
  location: { origin: 'app://vireo' },
  postMessage(data: unknown, targetOrigin: string, transfer: unknown[] = []) {
    posted.push({ data, targetOrigin, transfer })
    for (const l of listeners)
      l({ source: fakeWindow, origin: fakeWindow.location.origin, data, ports: transfer })
  },
  addEventListener: (_type: string, l: MessageListener) => listeners.add(l),
  removeEventListener: (_type: string, l: MessageListener) => listeners.delete(l),
  vireo: undefined as unknown as VireoApi,
}

let api: VireoApi

beforeAll(async () => {
  vi.stubGlobal('window', fakeWindow)
  await import('../../preload/preload.ts')
  api = exposed[0]?.[1] as VireoApi
  fakeWindow.vireo = api
})

describe('preload', () => {
  it('exposes exactly window.vireo with onPort, openFileDialog, getSettings, setTheme', () => {
    expect(exposed).toHaveLength(1)
    expect(exposed[0]?.[0]).toBe('vireo')
    expect(Object.keys(api).sort()).toEqual(['getSettings', 'onPort', 'openFileDialog', 'setTheme'])
    for (const member of Object.values(api)) expect(typeof member).toBe('function')
  })

  it('listens on exactly one IPC channel: the port', () => {
    expect([...ipcListeners.keys()]).toEqual(['vireo:port'])
  })

  it('passes valid calls to main', async () => {
    invoke.mockClear()
    expect(await api.openFileDialog('iso')).toBe('/isos/a.iso')
    expect(await api.getSettings()).toEqual({ theme: 'system', quitWithRunningVms: 'ask' })
    expect(await api.setTheme('dark')).toEqual({ theme: 'dark', quitWithRunningVms: 'ask' })
    expect(invoke.mock.calls).toEqual([
      ['vireo:open-file-dialog', 'iso'],
      ['vireo:get-settings'],
      ['vireo:set-theme', 'dark'],
    ])
  })

  it('rejects bad arguments without reaching main', async () => {
    invoke.mockClear()
    const bad = api as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>
    await expect(bad.openFileDialog!('exe')).rejects.toThrow(TypeError)
    await expect(bad.openFileDialog!(undefined)).rejects.toThrow(TypeError)
    await expect(bad.openFileDialog!({ toString: () => 'iso' })).rejects.toThrow(TypeError)
    await expect(bad.setTheme!('neon')).rejects.toThrow(TypeError)
    await expect(bad.setTheme!(1)).rejects.toThrow(TypeError)
    expect(() => (api.onPort as (c: unknown) => void)('not a function')).toThrow(TypeError)
    expect(invoke).not.toHaveBeenCalled()
  })

  it('hands the engine port to the page through window.postMessage, asking main once', async () => {
    const { receiveEnginePorts } = await import('../../preload/api.ts')
    invoke.mockClear()
    const received: unknown[] = []
    const stop = receiveEnginePorts((port) => received.push(port), fakeWindow as never)
    receiveEnginePorts(() => undefined, fakeWindow as never)()
    expect(invoke.mock.calls).toEqual([['vireo:request-port']])

    // Main sends a port, and after an engine restart another one.
    const first = new MessageChannel().port1
    const second = new MessageChannel().port1
    ipcListeners.get('vireo:port')?.({ ports: [first] })
    ipcListeners.get('vireo:port')?.({ ports: [second] })
    expect(posted.map((p) => p.targetOrigin)).toEqual(['app://vireo', 'app://vireo'])
    expect(posted[0]?.transfer).toEqual([first])
    expect(received).toEqual([first, second])

    // Messages from elsewhere are not ports for us.
    for (const l of listeners) l({ source: {}, origin: 'app://vireo', data: 'vireo:port', ports: [first] })
    for (const l of listeners)
      l({ source: fakeWindow, origin: 'https://evil', data: 'vireo:port', ports: [first] })
    for (const l of listeners) l({ source: fakeWindow, origin: 'app://vireo', data: 'other', ports: [first] })
    expect(received).toHaveLength(2)
    stop()
    expect(listeners.size).toBe(0)
    first.close()
    second.close()
  })
})
