// Serves the built renderer to browsers (vireo serve), and the sign-in that turns the token into an
// HttpOnly cookie so that the WebSocket upgrade carries it. Only files under the renderer's build
// directory are ever read.
import { readFileSync, statSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { extname, join, normalize, resolve, sep } from 'node:path'
import type { ThrottledLog } from './conn-guard.ts'
import { say } from './refusal.ts'
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
  log?: ThrottledLog
}) {
  const root = opts.root ?? rendererDir()
  return (req: IncomingMessage, res: ServerResponse): void => {
    res.setHeader('X-Content-Type-Options', 'nosniff')
    res.setHeader('Referrer-Policy', 'no-referrer')
    res.setHeader('X-Frame-Options', 'DENY')
    res.setHeader('Content-Security-Policy', CSP)
    const url = req.url ?? '/'
    const host = req.headers.host ?? ''
    if (!host) return say(res, 400, 'a request must name this host in its Host header; send one')
    if (!opts.hostAllowed(host)) {
      opts.log?.say('http host header', `refused an HTTP request for Host "${host}"`)
      return say(res, 421, `this host does not answer to the name "${host}"; use its IP address or localhost`)
    }
    const origin = req.headers.origin
    if (req.method === 'POST' && origin !== undefined && origin !== `http://${host}`) {
      return say(
        res,
        403,
        `a page from ${origin} may not post to this host; open the URL vireo serve printed`,
      )
    }
    if (req.method === 'POST' && url === '/sign-in') return signIn(req, res, opts.token, opts.log)
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return say(
        res,
        405,
        `${req.method ?? 'this method'} is not served here; only GET, HEAD and the sign-in POST are`,
      )
    }
    const path = safeJoin(root, url === '/' ? '/index.html' : url)
    if (!path) {
      return say(res, 400, 'that path leaves the renderer; ask for a file of the page')
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
        return say(res, 503, 'the renderer is not built (npm run build:renderer); the CLI works meanwhile')
      }
      say(res, 404, 'there is no such file in the renderer; open / instead')
    }
  }
}

/** The sign-in body is `{"token":"…"}`: anything larger is not one. */
const SIGN_IN_MAX_BYTES = 4096

function signIn(req: IncomingMessage, res: ServerResponse, token: string, log?: ThrottledLog): void {
  const declared = Number(req.headers['content-length'] ?? 0)
  if (declared > SIGN_IN_MAX_BYTES) return tooLarge(req, res)
  let body = ''
  let refused = false
  req.setEncoding('utf8')
  req.on('data', (d: string) => {
    body += d
    if (body.length > SIGN_IN_MAX_BYTES && !refused) {
      refused = true
      tooLarge(req, res)
    }
  })
  req.on('end', () => {
    if (refused) return
    let given: unknown
    try {
      given = (JSON.parse(body) as { token?: unknown }).token
    } catch {
      given = null
    }
    if (typeof given !== 'string' || !tokenMatches(token, given)) {
      log?.say('sign-in', `refused a sign-in from ${req.socket.remoteAddress ?? '?'}: wrong token`)
      say(res, 401, '{"error":"the token was not accepted"}', true)
      return
    }
    res.writeHead(204, {
      'Set-Cookie': `vireo_token=${token}; HttpOnly; SameSite=Strict; Path=/`,
    })
    res.end()
  })
}

/** Answered at once and the connection closed: reading on would only feed the sender. */
function tooLarge(req: IncomingMessage, res: ServerResponse): void {
  res.setHeader('Connection', 'close')
  say(res, 413, `a sign-in is at most ${SIGN_IN_MAX_BYTES} bytes; send only {"token": "..."}`)
  res.once('finish', () => req.socket.destroySoon())
}
