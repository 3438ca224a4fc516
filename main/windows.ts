// Windows and the rules every page lives by: sandboxed, context-isolated, no Node; it may show the
// app's own page and nothing else (no navigation away, no pop-ups, no webviews); permissions are
// denied but for the few the VM display needs from the app's own page; every response gets the CSP.
import {
  BrowserWindow,
  type Event,
  type Rectangle,
  type Session,
  type WebContents,
  type WebPreferences,
} from 'electron'
import { APP_ENTRY_URL, APP_HOST, APP_SCHEME } from './app-protocol.ts'
import { CONTENT_SECURITY_POLICY } from './csp.ts'
import type { WindowBounds } from './settings.ts'

/** The one page the app shows, and which URLs belong to it. */
export interface AppPage {
  entryUrl: string
  isAppUrl(url: string): boolean
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]'])

/**
 * The app's page: `app://vireo/`, or, in a checkout, a renderer dev server on loopback
 * (VIREO_RENDERER_URL) — never a remote one.
 */
export function appPage(devServerUrl?: string): AppPage {
  let dev: URL | null = null
  if (devServerUrl) {
    try {
      const u = new URL(devServerUrl)
      if (u.protocol === 'http:' && LOOPBACK.has(u.hostname)) dev = u
    } catch {
      dev = null
    }
  }
  const origin = dev?.origin ?? null
  return {
    entryUrl: dev ? dev.href : APP_ENTRY_URL,
    isAppUrl(url) {
      let u: URL
      try {
        u = new URL(url)
      } catch {
        return false
      }
      if (origin) return u.origin === origin
      return u.protocol === `${APP_SCHEME}:` && u.host === APP_HOST
    },
  }
}

export function secureWebPreferences(preload: string): WebPreferences {
  return {
    preload,
    sandbox: true,
    contextIsolation: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    experimentalFeatures: false,
    navigateOnDragDrop: false,
    safeDialogs: true,
    spellcheck: false,
  }
}

/** What the VM window needs from the web platform: fullscreen, pointer and keyboard capture, copy. */
const ALLOWED_PERMISSIONS = new Set([
  'fullscreen',
  'pointerLock',
  'keyboardLock',
  'clipboard-sanitized-write',
])

export function permissionAllowed(
  permission: string,
  requestingUrl: string | undefined,
  isMainFrame: boolean,
  page: AppPage,
): boolean {
  return ALLOWED_PERMISSIONS.has(permission) && isMainFrame && !!requestingUrl && page.isAppUrl(requestingUrl)
}

/** Response headers with our CSP in place of any the response brought. */
export function withCsp(headers: Record<string, string[]> | undefined): Record<string, string[]> {
  const out: Record<string, string[]> = {}
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (name.toLowerCase() !== 'content-security-policy') out[name] = value
  }
  out['Content-Security-Policy'] = [CONTENT_SECURITY_POLICY]
  return out
}

export function hardenSession(session: Session, page: AppPage): void {
  session.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: withCsp(details.responseHeaders) })
  })
  session.setPermissionRequestHandler((_contents, permission, callback, details) => {
    callback(permissionAllowed(permission, details.requestingUrl, details.isMainFrame, page))
  })
  session.setPermissionCheckHandler((_contents, permission, _origin, details) =>
    permissionAllowed(permission, details.requestingUrl, details.isMainFrame, page),
  )
  // WebHID, WebUSB, Web Serial: devices go to VMs through QEMU, never to the page.
  session.setDevicePermissionHandler(() => false)
}

export function hardenContents(contents: WebContents, page: AppPage): void {
  const guard = (event: Event<{ url: string }>) => {
    if (!page.isAppUrl(event.url)) event.preventDefault()
  }
  contents.on('will-navigate', guard)
  contents.on('will-frame-navigate', guard)
  contents.on('will-redirect', guard)
  contents.setWindowOpenHandler(() => ({ action: 'deny' }))
  contents.on('will-attach-webview', (event) => event.preventDefault())
}

/** Saved bounds, if they still overlap a screen; else null (the window then opens centred). */
export function restorableBounds(
  saved: WindowBounds | null,
  workAreas: readonly Rectangle[],
): WindowBounds | null {
  if (!saved) return null
  if (saved.x === undefined || saved.y === undefined) return saved
  const { x, y, width, height } = saved
  const visible = workAreas.some(
    (a) =>
      x < a.x + a.width - 64 &&
      x + width > a.x + 64 &&
      y >= a.y - 16 &&
      y < a.y + a.height - 64 &&
      height > 0,
  )
  return visible ? saved : { width: saved.width, height: saved.height, maximized: saved.maximized }
}

export interface LibraryWindowOptions {
  preload: string
  icon?: string
  page: AppPage
  bounds: WindowBounds | null
  onClose?: (bounds: WindowBounds) => void
}

export function createLibraryWindow(opts: LibraryWindowOptions): BrowserWindow {
  const b = opts.bounds
  const win = new BrowserWindow({
    title: 'Vireo',
    width: b?.width ?? 1200,
    height: b?.height ?? 780,
    ...(b?.x !== undefined && b.y !== undefined ? { x: b.x, y: b.y } : {}),
    minWidth: 720,
    minHeight: 480,
    show: false,
    ...(opts.icon ? { icon: opts.icon } : {}),
    webPreferences: secureWebPreferences(opts.preload),
  })
  hardenContents(win.webContents, opts.page)
  if (b?.maximized) win.maximize()
  win.once('ready-to-show', () => win.show())
  win.on('close', () => {
    const { x, y, width, height } = win.getNormalBounds()
    opts.onClose?.({ x, y, width, height, maximized: win.isMaximized() })
  })
  void win.loadURL(opts.page.entryUrl)
  return win
}
