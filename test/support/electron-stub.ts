// Electron as the built main sees it, for running dist/main/main.js under plain Node: what main's
// start-up depends on behaves (the app path, the single-instance lock, whenReady, a utility process
// that reports ready at once); everything else answers anything and does nothing. What main asked
// for is written as JSON lines to VIREO_STUB_LOG, and the process exits once a window was made.
import { appendFileSync } from 'node:fs'
import { EventEmitter } from 'node:events'

const env = process.env
const record = (event: string, data: unknown = null) =>
  appendFileSync(env.VIREO_STUB_LOG!, `${JSON.stringify({ event, data })}\n`)

/** A value every property access, call and `new` of which gives another such value (never a thenable). */
function inert(): unknown {
  const target = function () {}
  return new Proxy(target, {
    get: (_t, key) => (key === 'then' || typeof key === 'symbol' ? undefined : inert()),
    apply: () => inert(),
    construct: () => inert() as object,
  })
}

/** An object whose own members are real and whose other members are inert. */
const partly = <T extends object>(own: T): T =>
  new Proxy(own, { get: (t, key) => (key in t ? t[key as keyof T] : inert()) })

export const app = partly({
  isPackaged: false,
  name: 'Vireo',
  getAppPath: () => env.VIREO_STUB_APP_PATH!,
  getPath: () => env.VIREO_STUB_USER_DATA!,
  getVersion: () => '0.1.0',
  requestSingleInstanceLock: () => true,
  whenReady: () => Promise.resolve(),
  on: () => app,
  quit: () => record('quit'),
  exit: (code: number) => record('exit', code),
})

export const protocol = partly({
  registerSchemesAsPrivileged: (schemes: Array<{ scheme: string }>) =>
    record(
      'schemes',
      schemes.map((s) => s.scheme),
    ),
})

export const dialog = partly({
  showErrorBox: (title: string, message: string) => record('error-box', { title, message }),
})

export const screen = partly({
  getAllDisplays: () => [{ workArea: { x: 0, y: 0, width: 1920, height: 1080 } }],
})

export const utilityProcess = partly({
  fork(entry: string, args: string[]) {
    record('fork', { entry, args })
    const child = Object.assign(new EventEmitter(), {
      pid: 4242,
      postMessage: () => undefined,
      kill: () => true,
    })
    const dataDir = args[args.indexOf('--data-dir') + 1]
    setImmediate(() => child.emit('message', { type: 'ready', pid: 4242, dataDir, socket: '/nonexistent' }))
    return child
  },
})

export class BrowserWindow {
  readonly webContents = inert()
  constructor(options: { webPreferences?: Record<string, unknown> }) {
    record('window', { webPreferences: options.webPreferences })
    setImmediate(() => process.exit(0))
  }
  on() {
    return this
  }
  once() {
    return this
  }
  loadURL(url: string) {
    record('load', url)
    return Promise.resolve()
  }
  maximize() {}
}

export const session = inert()
export const shell = inert()
export const nativeTheme = inert()
export const Menu = inert()
export const ipcMain = inert()
export const ipcRenderer = inert()
export const contextBridge = inert()
export const MessageChannelMain = inert()
export const webContents = inert()

export default {
  app,
  protocol,
  dialog,
  screen,
  utilityProcess,
  BrowserWindow,
  session,
  shell,
  nativeTheme,
  Menu,
  ipcMain,
  ipcRenderer,
  contextBridge,
  MessageChannelMain,
  webContents,
}
