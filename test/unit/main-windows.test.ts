// Window security: secure webPreferences, no navigation away from the app's page, no pop-ups,
// permissions denied (but the display's few from the app's own page), the CSP on every response,
// and the app:// scheme serving nothing outside the renderer build.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest'

type Listener = (...args: unknown[]) => void

/** A WebContents stand-in that records its listeners. */
class FakeContents {
  listeners = new Map<string, Listener[]>()
  openHandler: ((details: { url: string }) => { action: string }) | null = null
  on(event: string, l: Listener) {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), l])
    return this
  }
  setWindowOpenHandler(h: (details: { url: string }) => { action: string }) {
    this.openHandler = h
  }
  /** Emits an Electron-style event; returns whether a listener prevented it. */
  emit(event: string, url: string): boolean {
    let prevented = false
    const e = { url, preventDefault: () => (prevented = true) }
    for (const l of this.listeners.get(event) ?? []) l(e, url)
    return prevented
  }
}

const created: Array<{ options: Record<string, unknown>; win: FakeWindow }> = []
class FakeWindow {
  webContents = new FakeContents()
  loaded: string[] = []
  private handlers = new Map<string, Listener>()
  constructor(options: Record<string, unknown>) {
    created.push({ options, win: this })
  }
  loadURL(url: string) {
    this.loaded.push(url)
    return Promise.resolve()
  }
  once(event: string, l: Listener) {
    this.handlers.set(event, l)
    return this
  }
  on(event: string, l: Listener) {
    this.handlers.set(event, l)
    return this
  }
  maximize() {}
  show() {}
  isMaximized() {
    return false
  }
  getNormalBounds() {
    return { x: 10, y: 20, width: 1000, height: 700 }
  }
  fire(event: string) {
    this.handlers.get(event)?.()
  }
}

vi.mock('electron', () => ({
  BrowserWindow: FakeWindow,
  protocol: { registerSchemesAsPrivileged: vi.fn() },
}))

const {
  appPage,
  createLibraryWindow,
  hardenSession,
  permissionAllowed,
  restorableBounds,
  secureWebPreferences,
  withCsp,
} = await import('../../main/windows.ts')
const { CONTENT_SECURITY_POLICY } = await import('../../main/csp.ts')
const { appResponse, resolveAppFile } = await import('../../main/app-protocol.ts')

const page = appPage()

function fakeSession() {
  const s = {
    headersListener: null as
      null | ((d: { responseHeaders?: Record<string, string[]> }, cb: (r: unknown) => void) => void),
    requestHandler: null as null | ((...a: unknown[]) => void),
    checkHandler: null as null | ((...a: unknown[]) => boolean),
    deviceHandler: null as null | ((...a: unknown[]) => boolean),
    webRequest: {
      onHeadersReceived: (l: never) => {
        s.headersListener = l
      },
    },
    setPermissionRequestHandler: (h: never) => {
      s.requestHandler = h
    },
    setPermissionCheckHandler: (h: never) => {
      s.checkHandler = h
    },
    setDevicePermissionHandler: (h: never) => {
      s.deviceHandler = h
    },
  }
  return s
}

beforeEach(() => {
  created.length = 0
})

describe('library window', () => {
  it('is created with secure webPreferences and loads the app page', () => {
    createLibraryWindow({ preload: '/app/dist/preload/preload.cjs', page, bounds: null })
    expect(created).toHaveLength(1)
    const { options, win } = created[0]!
    const prefs = options.webPreferences as Record<string, unknown>
    expect(prefs).toMatchObject({
      preload: '/app/dist/preload/preload.cjs',
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
    })
    expect(prefs).toEqual(secureWebPreferences('/app/dist/preload/preload.cjs'))
    expect(win.loaded).toEqual(['app://vireo/index.html'])
  })

  it('denies navigation to anything but the app page', () => {
    createLibraryWindow({ preload: '/p', page, bounds: null })
    const contents = created[0]!.win.webContents
    for (const event of ['will-navigate', 'will-frame-navigate', 'will-redirect']) {
      expect(contents.emit(event, 'https://example.com/')).toBe(true)
      expect(contents.emit(event, 'file:///etc/passwd')).toBe(true)
      expect(contents.emit(event, 'app://elsewhere/index.html')).toBe(true)
      expect(contents.emit(event, 'javascript:alert(1)')).toBe(true)
      expect(contents.emit(event, 'app://vireo/index.html#/vm/1')).toBe(false)
    }
  })

  it('denies window.open and webviews', () => {
    createLibraryWindow({ preload: '/p', page, bounds: null })
    const contents = created[0]!.win.webContents
    expect(contents.openHandler?.({ url: 'https://example.com/' })).toEqual({ action: 'deny' })
    expect(contents.openHandler?.({ url: 'app://vireo/index.html' })).toEqual({ action: 'deny' })
    expect(contents.emit('will-attach-webview', 'app://vireo/')).toBe(true)
  })

  it('reports its bounds when it closes', () => {
    const onClose = vi.fn()
    createLibraryWindow({
      preload: '/p',
      page,
      bounds: { width: 900, height: 600, maximized: false },
      onClose,
    })
    expect(created[0]!.options).toMatchObject({ width: 900, height: 600 })
    created[0]!.win.fire('close')
    expect(onClose).toHaveBeenCalledWith({ x: 10, y: 20, width: 1000, height: 700, maximized: false })
  })

  it('restores saved bounds only where a screen still is', () => {
    const screens = [{ x: 0, y: 0, width: 1920, height: 1080 }]
    const onScreen = { x: 100, y: 100, width: 800, height: 600, maximized: false }
    expect(restorableBounds(onScreen, screens)).toEqual(onScreen)
    expect(restorableBounds({ ...onScreen, x: 5000 }, screens)).toEqual({
      width: 800,
      height: 600,
      maximized: false,
    })
    expect(restorableBounds(null, screens)).toBeNull()
  })
})

describe('session', () => {
  it('denies permission requests, except the display’s few from the app page', () => {
    const s = fakeSession()
    hardenSession(s as never, page)
    const ask = (permission: string, requestingUrl: string, isMainFrame = true) => {
      let granted: boolean | undefined
      s.requestHandler?.({}, permission, (g: boolean) => (granted = g), { requestingUrl, isMainFrame })
      return granted
    }
    for (const p of [
      'media',
      'geolocation',
      'notifications',
      'openExternal',
      'clipboard-read',
      'hid',
      'usb',
      'serial',
    ]) {
      expect(ask(p, 'app://vireo/index.html')).toBe(false)
    }
    expect(ask('fullscreen', 'https://evil.example/')).toBe(false)
    expect(ask('pointerLock', 'app://vireo/index.html', false)).toBe(false)
    expect(ask('fullscreen', 'app://vireo/index.html')).toBe(true)
    expect(ask('pointerLock', 'app://vireo/index.html')).toBe(true)
    expect(
      s.checkHandler?.({}, 'media', 'app://vireo', { requestingUrl: 'app://vireo/', isMainFrame: true }),
    ).toBe(false)
    expect(
      s.checkHandler?.({}, 'fullscreen', 'https://evil', {
        requestingUrl: 'https://evil/',
        isMainFrame: true,
      }),
    ).toBe(false)
    expect(s.deviceHandler?.({})).toBe(false)
    expect(permissionAllowed('notifications', 'app://vireo/', true, page)).toBe(false)
  })

  it('sets the strict CSP header on every response, replacing any other', () => {
    const s = fakeSession()
    hardenSession(s as never, page)
    let result: { responseHeaders: Record<string, string[]> } | undefined
    s.headersListener?.(
      { responseHeaders: { 'content-security-policy': ['default-src *'], 'Content-Type': ['text/html'] } },
      (r) => (result = r as typeof result),
    )
    expect(result?.responseHeaders).toEqual({
      'Content-Type': ['text/html'],
      'Content-Security-Policy': [CONTENT_SECURITY_POLICY],
    })
    expect(CONTENT_SECURITY_POLICY).toBe(
      "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
        "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    )
    expect(withCsp(undefined)).toEqual({ 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] })
  })
})

describe('app page', () => {
  it('accepts a loopback dev server in a checkout, never a remote one', () => {
    const dev = appPage('http://localhost:5173/')
    expect(dev.entryUrl).toBe('http://localhost:5173/')
    expect(dev.isAppUrl('http://localhost:5173/x')).toBe(true)
    expect(dev.isAppUrl('http://localhost:5174/')).toBe(false)
    expect(dev.isAppUrl('app://vireo/index.html')).toBe(false)
    expect(appPage('http://example.com/').entryUrl).toBe('app://vireo/index.html')
    expect(appPage('not a url').entryUrl).toBe('app://vireo/index.html')
  })

  const root = mkdtempSync(join(tmpdir(), 'vireo-renderer-'))
  mkdirSync(join(root, 'assets'))
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>Vireo</title>')
  writeFileSync(join(root, 'assets', 'app.js'), 'console.log(1)')
  writeFileSync(join(root, '..', 'vireo-secret.txt'), 'secret')
  afterAll(() => {
    rmSync(root, { recursive: true, force: true })
    rmSync(join(root, '..', 'vireo-secret.txt'), { force: true })
  })

  it('serves the renderer build with the CSP', async () => {
    const index = await appResponse('app://vireo/', root)
    expect(index.status).toBe(200)
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(index.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY)
    expect(await index.text()).toContain('<title>Vireo</title>')
    const js = await appResponse('app://vireo/assets/app.js', root)
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
  })

  it('serves nothing outside the renderer build', async () => {
    // The URL parser resolves dot segments (also %2e%2e) before we see the path: they stay inside.
    expect(resolveAppFile('app://vireo/../vireo-secret.txt', root)).toBe(join(root, 'vireo-secret.txt'))
    expect(resolveAppFile('app://vireo/%2e%2e/vireo-secret.txt', root)).toBe(join(root, 'vireo-secret.txt'))
    // An encoded slash is decoded after parsing: that one would climb out, and is refused.
    expect(resolveAppFile('app://vireo/..%2fvireo-secret.txt', root)).toBeNull()
    expect(resolveAppFile('app://other/index.html', root)).toBeNull()
    expect(resolveAppFile('file:///etc/passwd', root)).toBeNull()
    expect((await appResponse('app://vireo/%2e%2e/vireo-secret.txt', root)).status).toBe(404)
    expect((await appResponse('app://vireo/missing.js', root)).status).toBe(404)
  })
})
