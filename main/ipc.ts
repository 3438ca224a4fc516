// The main process's IPC handlers: the only things a page can ask of main. Every handler first
// checks that the asking frame is the app's own top-level page (not a frame that navigated or was
// injected elsewhere), then checks its arguments; anything else is refused with an error.
import { dirname } from 'node:path'
import {
  BrowserWindow,
  dialog,
  ipcMain,
  nativeTheme,
  type IpcMainInvokeEvent,
  type OpenDialogOptions,
  type OpenDialogReturnValue,
  type WebContents,
} from 'electron'
import { Channels, isFileKind, isTheme, type FileKind } from '../preload/channels.ts'
import { rendererSettings, type Settings } from './settings.ts'
import type { AppPage } from './windows.ts'

export interface IpcDeps {
  page: AppPage
  settings: Settings
  /** Hands `contents` a MessagePort to the engine (on the 'vireo:port' channel). */
  connectEngine(contents: WebContents): Promise<void>
  showOpenDialog?: (win: BrowserWindow | null, options: OpenDialogOptions) => Promise<OpenDialogReturnValue>
}

/** True only for the app's own page in a window's top frame. */
export function senderIsApp(event: Pick<IpcMainInvokeEvent, 'senderFrame'>, page: AppPage): boolean {
  try {
    const frame = event.senderFrame
    return !!frame && frame.parent === null && page.isAppUrl(frame.url)
  } catch {
    // A frame that went away while the message was in flight.
    return false
  }
}

const DIALOGS: Record<FileKind, Pick<OpenDialogOptions, 'title' | 'filters'>> = {
  iso: {
    title: 'Choose an ISO image',
    filters: [
      { name: 'ISO images', extensions: ['iso'] },
      { name: 'All files', extensions: ['*'] },
    ],
  },
  disk: {
    title: 'Choose a disk image',
    filters: [
      { name: 'Disk images', extensions: ['qcow2', 'img', 'raw', 'vmdk', 'vdi', 'vhd', 'vhdx'] },
      { name: 'All files', extensions: ['*'] },
    ],
  },
  appliance: {
    title: 'Choose an appliance',
    filters: [
      { name: 'Appliances', extensions: ['ova', 'ovf'] },
      { name: 'All files', extensions: ['*'] },
    ],
  },
}

type Handler = (event: IpcMainInvokeEvent, ...args: unknown[]) => unknown

/** Registers every handler; returns a function that removes them. */
export function registerIpc(deps: IpcDeps): () => void {
  const showOpenDialog =
    deps.showOpenDialog ??
    ((win: BrowserWindow | null, options: OpenDialogOptions) =>
      win ? dialog.showOpenDialog(win, options) : dialog.showOpenDialog(options))

  const guarded =
    (channel: string, arity: number, handler: Handler): Handler =>
    (event, ...args) => {
      if (!senderIsApp(event, deps.page)) {
        throw new Error(`${channel}: refused, the request did not come from the app's own page`)
      }
      if (args.length !== arity)
        throw new TypeError(`${channel}: expected ${arity} argument(s), got ${args.length}`)
      return handler(event, ...args)
    }

  const handlers: Record<string, Handler> = {
    [Channels.requestPort]: guarded(Channels.requestPort, 0, async (event) => {
      await deps.connectEngine(event.sender)
    }),
    [Channels.openFileDialog]: guarded(Channels.openFileDialog, 1, async (event, kind) => {
      if (!isFileKind(kind))
        throw new TypeError(`${Channels.openFileDialog}: kind must be "iso", "disk" or "appliance"`)
      const last = deps.settings.get().lastFolders[kind]
      const result = await showOpenDialog(BrowserWindow.fromWebContents(event.sender), {
        ...DIALOGS[kind],
        properties: ['openFile', 'dontAddToRecent'],
        ...(last ? { defaultPath: last } : {}),
      })
      const path = result.canceled ? undefined : result.filePaths[0]
      if (!path) return null
      deps.settings.setLastFolder(kind, dirname(path))
      return path
    }),
    [Channels.getSettings]: guarded(Channels.getSettings, 0, () => rendererSettings(deps.settings.get())),
    [Channels.setTheme]: guarded(Channels.setTheme, 1, (_event, theme) => {
      if (!isTheme(theme))
        throw new TypeError(`${Channels.setTheme}: theme must be "system", "light" or "dark"`)
      deps.settings.setTheme(theme)
      nativeTheme.themeSource = theme
      return rendererSettings(deps.settings.get())
    }),
  }
  for (const [channel, handler] of Object.entries(handlers)) ipcMain.handle(channel, handler)
  return () => {
    for (const channel of Object.keys(handlers)) ipcMain.removeHandler(channel)
  }
}
