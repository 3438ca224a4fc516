// `window.vireo`: everything the sandboxed renderer may ask of the desktop shell. The engine itself is
// reached over a MessagePort (the engine/api contract), never through this object.
import { PORT_MESSAGE, type FileKind, type QuitBehavior, type Theme } from './channels.ts'

export type { FileKind, QuitBehavior, Theme } from './channels.ts'

/** The settings the renderer sees (paths and window geometry stay in main). */
export interface RendererSettings {
  theme: Theme
  quitWithRunningVms: QuitBehavior
}

export interface VireoApi {
  /**
   * Asks main for a connection to the engine and keeps it coming: main hands this window a
   * MessagePort now, and a fresh one each time the engine restarts. A MessagePort cannot cross
   * contextBridge (it is transferable, not cloneable: it would arrive as an empty object), so the
   * preload transfers each port into this world with `window.postMessage(PORT_MESSAGE, origin,
   * [port])`; `callback` runs right after each one was posted. Listen for those messages before
   * calling this — `receiveEnginePorts` below does both.
   */
  onPort(callback: () => void): void
  /** A native open dialog for an ISO or a disk image; the chosen path, or null when cancelled. */
  openFileDialog(kind: FileKind): Promise<string | null>
  getSettings(): Promise<RendererSettings>
  setTheme(theme: Theme): Promise<RendererSettings>
}

declare global {
  interface Window {
    vireo: VireoApi
  }
}

/**
 * The page's side of the port hand-over: calls `onPort` with every engine MessagePort the preload
 * posts into this window, the first one and those after an engine restart. Returns a function that
 * stops listening.
 */
export function receiveEnginePorts(
  onPort: (port: MessagePort) => void,
  win: Pick<Window, 'addEventListener' | 'removeEventListener' | 'location' | 'vireo'> = window,
): () => void {
  const listener = (event: MessageEvent) => {
    // Only the preload's own post to this window: same window, same origin, our marker, one port.
    if (event.source !== win || event.origin !== win.location.origin || event.data !== PORT_MESSAGE) return
    const port = event.ports[0]
    if (port) onPort(port)
  }
  win.addEventListener('message', listener)
  win.vireo.onPort(() => undefined)
  return () => win.removeEventListener('message', listener)
}
