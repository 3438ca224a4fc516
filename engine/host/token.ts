// The access token of a host's TCP listener: made once, kept with mode 0600.
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { writeFileAtomic } from '../util/atomic-file.ts'

export function loadOrCreateToken(file: string): string {
  try {
    const t = readFileSync(file, 'utf8').trim()
    if (/^[A-Za-z0-9_-]{32,}$/.test(t)) return t
  } catch {
    /* first run */
  }
  const token = randomBytes(24).toString('base64url')
  writeFileAtomic(file, token + '\n', 0o600)
  return token
}

export function tokenMatches(expected: string, given: string | null | undefined): boolean {
  if (!given) return false
  const a = Buffer.from(expected)
  const b = Buffer.from(given)
  return a.length === b.length && timingSafeEqual(a, b)
}

/** The token from a WebSocket upgrade: the `vireo.token.T` subprotocol, or the sign-in cookie. */
export function tokenFromUpgrade(headers: {
  'sec-websocket-protocol'?: string | undefined
  cookie?: string | undefined
}): string | null {
  for (const p of (headers['sec-websocket-protocol'] ?? '').split(',')) {
    const v = p.trim()
    if (v.startsWith('vireo.token.')) return v.slice('vireo.token.'.length)
  }
  for (const c of (headers.cookie ?? '').split(';')) {
    const [k, ...rest] = c.trim().split('=')
    if (k === 'vireo_token') return rest.join('=')
  }
  return null
}
