// The preload: exposes `window.vireo` (see api.ts) and nothing else. It holds no logic beyond
// checking arguments and handing the engine's MessagePort to the page. It runs sandboxed, so it is
// bundled to one CommonJS file whose only require is electron.
import { contextBridge, ipcRenderer } from 'electron'
import type { RendererSettings, VireoApi } from './api.ts'
import { Channels, isFileKind, isTheme, PORT_MESSAGE } from './channels.ts'

const postedListeners: Array<() => void> = []
let requested = false

// Why window.postMessage: with contextIsolation the page runs in another JavaScript world, and
// contextBridge copies values between worlds; a MessagePort is transferable but not cloneable, so
// passed through the bridge it arrives as an empty, dead object. Both worlds share the DOM, though:
// a port transferred with window.postMessage arrives whole in the page's `message` event. The target
// origin is the page's own (a file:// page has the opaque origin "null", which postMessage cannot
// name: there, and only there, '*' — the message goes to this same window either way).
ipcRenderer.on(Channels.port, (event) => {
  const port = event.ports[0]
  if (!port) return
  const origin = window.location.origin
  window.postMessage(PORT_MESSAGE, origin === 'null' ? '*' : origin, [port])
  for (const listener of postedListeners) listener()
})

function rejectWith(message: string): Promise<never> {
  return Promise.reject(new TypeError(message))
}

const api: VireoApi = {
  onPort(callback) {
    if (typeof callback !== 'function') throw new TypeError('onPort needs a callback function')
    postedListeners.push(() => callback())
    if (!requested) {
      requested = true
      // If the engine cannot be reached now, the next onPort call asks again.
      ipcRenderer.invoke(Channels.requestPort).catch(() => (requested = false))
    }
  },
  openFileDialog(kind) {
    if (!isFileKind(kind)) return rejectWith('openFileDialog: kind must be "iso", "disk" or "appliance"')
    return ipcRenderer.invoke(Channels.openFileDialog, kind) as Promise<string | null>
  },
  getSettings() {
    return ipcRenderer.invoke(Channels.getSettings) as Promise<RendererSettings>
  },
  setTheme(theme) {
    if (!isTheme(theme)) return rejectWith('setTheme: theme must be "system", "light" or "dark"')
    return ipcRenderer.invoke(Channels.setTheme, theme) as Promise<RendererSettings>
  },
}

contextBridge.exposeInMainWorld('vireo', api)
