// Serves the built renderer to browsers (vireo serve), and the sign-in that turns the token into an
// HttpOnly cookie so that the WebSocket upgrade carries it. Only files under the renderer's build
// directory are ever read.
import { readFileSync, statSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { extname, join, normalize, resolve, sep } from 'node:path'
import { tokenMatches } from './token.ts'

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
  '.ico': 'image/x-icon',
}

export const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
  "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

export function rendererDir(): string {
  return resolve(import.meta.dirname, '..', '..', 'dist', 'renderer')
}

/** Resolves a URL path inside `root`, or null for anything that would leave it. */
export function safeJoin(root: string, urlPath: string): string | null {
  let decoded: string
  try {
    decoded = decodeURIComponent(urlPath.split('?')[0] ?? '/')
  } catch {
    return null
  }
  if (decoded.includes('\0')) return null
  const full = normalize(join(root, decoded))
  return full === root || full.startsWith(root + sep) ? full : null
}

export function makeHttpHandler(opts: {
  token: string
  /** Host header check against DNS rebinding; every request passes it or gets 421. */
  hostAllowed: (host: string) => boolean
  root?: string
  log?: (l: string) => void
}) {
  const root = opts.root ?? rendererDir()
  return (req: IncomingMessage, res: ServerResponse): void => {
    res.setHeader('X-Content-Type-Options', 'nosniff')
    res.setHeader('Referrer-Policy', 'no-referrer')
    res.setHeader('X-Frame-Options', 'DENY')
    res.setHeader('Content-Security-Policy', CSP)
    const url = req.url ?? '/'
    const host = req.headers.host ?? ''
    if (!opts.hostAllowed(host)) {
      opts.log?.(`refused an HTTP request for Host "${host}"`)
      res.writeHead(421).end()
      return
    }
    const origin = req.headers.origin
    if (req.method === 'POST' && origin !== undefined && origin !== `http://${host}`) {
      res.writeHead(403).end()
      return
    }
    if (req.method === 'POST' && url === '/sign-in') return signIn(req, res, opts.token, opts.log)
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end()
      return
    }
    const path = safeJoin(root, url === '/' ? '/index.html' : url)
    if (!path) {
      res.writeHead(400).end()
      return
    }
    try {
      if (!statSync(path).isFile()) throw new Error('not a file')
      const body = readFileSync(path)
      res.writeHead(200, {
        'Content-Type': TYPES[extname(path)] ?? 'application/octet-stream',
        'Cache-Control': path.endsWith('index.html') ? 'no-cache' : 'max-age=3600',
      })
      res.end(req.method === 'HEAD' ? undefined : body)
    } catch {
      if (url === '/' || url === '/index.html') {
        res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8' })
        res.end('Vireo host: the renderer is not built (npm run build:renderer). The CLI works meanwhile.\n')
        return
      }
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found\n')
    }
  }
}

function signIn(req: IncomingMessage, res: ServerResponse, token: string, log?: (l: string) => void): void {
  let body = ''
  req.setEncoding('utf8')
  req.on('data', (d: string) => {
    body += d
    if (body.length > 4096) req.destroy()
  })
  req.on('end', () => {
    let given: unknown
    try {
      given = (JSON.parse(body) as { token?: unknown }).token
    } catch {
      given = null
    }
    if (typeof given !== 'string' || !tokenMatches(token, given)) {
      log?.(`refused a sign-in from ${req.socket.remoteAddress ?? '?'}: wrong token`)
      res.writeHead(401, { 'Content-Type': 'application/json' }).end('{"error":"the token was not accepted"}')
      return
    }
    res.writeHead(204, {
      'Set-Cookie': `vireo_token=${token}; HttpOnly; SameSite=Strict; Path=/`,
    })
    res.end()
  })
}
