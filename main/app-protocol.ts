// The app's own page is served from `app://vireo/`, a privileged standard scheme, not from file://
// (a file:// page shares one opaque origin with every local file and gets extra privileges). Only
// files inside the renderer build are served; each response carries the CSP.
import { readFile, stat } from 'node:fs/promises'
import { extname, join, normalize, sep } from 'node:path'
import { protocol, type Session } from 'electron'
import { CONTENT_SECURITY_POLICY } from './csp.ts'

export const APP_SCHEME = 'app'
export const APP_HOST = 'vireo'
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
}

/** Must run before the app is ready. */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([
    {
      scheme: APP_SCHEME,
      privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true },
    },
  ])
}

export function serveAppScheme(session: Session, rendererDir: string): void {
  session.protocol.handle(APP_SCHEME, (request) => appResponse(request.url, rendererDir))
}

/** The response for one app:// URL: a file of the renderer build, or 404. */
export async function appResponse(url: string, rendererDir: string): Promise<Response> {
  const file = resolveAppFile(url, rendererDir)
  if (!file) return notFound()
  try {
    let path = file
    if ((await stat(path)).isDirectory()) path = join(path, 'index.html')
    const body = await readFile(path)
    return new Response(new Uint8Array(body), {
      status: 200,
      headers: {
        'Content-Type': MIME[extname(path).toLowerCase()] ?? 'application/octet-stream',
        'Content-Security-Policy': CONTENT_SECURITY_POLICY,
        'X-Content-Type-Options': 'nosniff',
        'Cache-Control': 'no-cache',
      },
    })
  } catch {
    return notFound()
  }
}

/** The file an app:// URL names inside `rendererDir`, or null if it names anything else. */
export function resolveAppFile(url: string, rendererDir: string): string | null {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return null
  }
  if (parsed.protocol !== `${APP_SCHEME}:` || parsed.host !== APP_HOST) return null
  let pathname: string
  try {
    pathname = decodeURIComponent(parsed.pathname)
  } catch {
    return null
  }
  if (pathname.includes('\0')) return null
  const root = normalize(rendererDir)
  const file = normalize(join(root, pathname === '/' ? 'index.html' : pathname))
  if (file !== root && !file.startsWith(root.endsWith(sep) ? root : root + sep)) return null
  return file
}

function notFound(): Response {
  return new Response('not found', { status: 404, headers: { 'Content-Type': 'text/plain; charset=utf-8' } })
}
