// Browser mode (`vireo serve`): the same RPC over a WebSocket to `/rpc` on the page's own host. The
// upgrade must carry the host's token, as the subprotocol `vireo.token.TOKEN` (or as the HttpOnly
// cookie that POST /sign-in sets). The token comes from the address `vireo serve` printed
// (`#token=…`, taken out of the address bar at once and kept for this tab in sessionStorage) or from
// the sign-in form.
import { RpcClient } from '../../engine/api/client.ts'
import { webSocketTransport, type WebSocketLike } from '../../engine/api/transports/websocket.ts'

export const TOKEN_KEY = 'vireo.token'
const TOKEN_PROTOCOL = 'vireo.token.'
const OPEN_TIMEOUT_MS = 10_000

export type ConnectFailureKind =
  /** No token was offered and none is remembered: the sign-in form, without a complaint. */
  | 'sign-in'
  /** A token was offered and the host said no. */
  | 'unauthorized'
  /** The host took the token but refused the WebSocket (Origin or Host checks). */
  | 'refused'
  /** Nothing answered. */
  | 'unreachable'

export class ConnectError extends Error {
  readonly kind: ConnectFailureKind
  constructor(kind: ConnectFailureKind, message: string) {
    super(message)
    this.name = 'ConnectError'
    this.kind = kind
  }
}

export const MESSAGES = {
  unauthorized:
    'The token was not accepted. Sign in with the token that “vireo serve” printed (the part after #token= in its address).',
  refused:
    'The host accepted the token but refused the connection. Open Vireo at the exact address “vireo serve” printed.',
  unreachable: 'The Vireo host does not answer. Is “vireo serve” still running?',
} as const

export interface TokenStore {
  getItem(key: string): string | null
  setItem(key: string, value: string): void
  removeItem(key: string): void
}

/**
 * The token for this tab: from `#token=…` (which is then removed from the address bar, so it is
 * neither bookmarked nor shown) or else the one remembered in sessionStorage.
 */
export function takeToken(
  loc: Pick<Location, 'hash' | 'pathname' | 'search'> = location,
  hist: Pick<History, 'replaceState' | 'state'> = history,
  store: TokenStore = sessionStorage,
): string | null {
  const hash = loc.hash.startsWith('#') ? loc.hash.slice(1) : loc.hash
  const params = new URLSearchParams(hash)
  const fromHash = params.get('token')
  if (fromHash !== null) {
    params.delete('token')
    const rest = params.toString()
    hist.replaceState(hist.state, '', `${loc.pathname}${loc.search}${rest ? `#${rest}` : ''}`)
    const token = fromHash.trim()
    if (token) {
      store.setItem(TOKEN_KEY, token)
      return token
    }
  }
  return store.getItem(TOKEN_KEY)
}

/** Only what a token can be; anything else would make the WebSocket constructor throw. */
export function plausibleToken(token: string): boolean {
  return /^[A-Za-z0-9_-]{8,512}$/.test(token)
}

export function rpcUrl(loc: Pick<Location, 'protocol' | 'host'> = location): string {
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/rpc`
}

export interface BrowserConnectOptions {
  url?: string
  /** For tests: how to make a WebSocket and how to POST the sign-in. */
  makeSocket?: (
    url: string,
    protocols: string[],
  ) => WebSocketLike & { addEventListener(type: 'open', l: () => void): void }
  fetch?: typeof fetch
  timeoutMs?: number
}

/** Connects to the serving host; throws a ConnectError with a sentence for people. */
export async function connectBrowser(
  token: string | null,
  opts: BrowserConnectOptions = {},
): Promise<RpcClient> {
  if (token !== null && !plausibleToken(token)) throw new ConnectError('unauthorized', MESSAGES.unauthorized)
  const url = opts.url ?? rpcUrl()
  const make =
    opts.makeSocket ??
    ((u, p) => new WebSocket(u, p) as unknown as ReturnType<NonNullable<BrowserConnectOptions['makeSocket']>>)
  let ws: ReturnType<typeof make>
  try {
    ws = make(url, token ? [TOKEN_PROTOCOL + token] : [])
  } catch {
    throw new ConnectError('unreachable', MESSAGES.unreachable)
  }
  ws.binaryType = 'arraybuffer'
  const opened = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => {
      resolve(false)
      try {
        ws.close()
      } catch {
        /* never opened */
      }
    }, opts.timeoutMs ?? OPEN_TIMEOUT_MS)
    ws.addEventListener('open', () => {
      clearTimeout(timer)
      resolve(true)
    })
    ws.addEventListener('close', () => {
      clearTimeout(timer)
      resolve(false)
    })
  })
  if (opened) return new RpcClient(webSocketTransport(ws))
  // A browser does not say why an upgrade failed (a 401 looks like any other failure): ask the
  // sign-in endpoint, which answers plainly, what it thinks of the token.
  if (token === null) throw new ConnectError('sign-in', 'Sign in with the token that “vireo serve” printed.')
  const verdict = await signIn(token, opts.fetch)
  if (verdict === 'rejected') throw new ConnectError('unauthorized', MESSAGES.unauthorized)
  if (verdict === 'unreachable') throw new ConnectError('unreachable', MESSAGES.unreachable)
  throw new ConnectError('refused', MESSAGES.refused)
}

/**
 * POST /sign-in: checks the token and, when it is right, has the host set its HttpOnly cookie (so a
 * reload in this tab connects even without sessionStorage).
 */
export async function signIn(
  token: string,
  fetchFn: typeof fetch = fetch,
): Promise<'ok' | 'rejected' | 'refused' | 'unreachable'> {
  try {
    const res = await fetchFn('/sign-in', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ token }),
      credentials: 'same-origin',
    })
    if (res.ok) return 'ok'
    if (res.status === 401) return 'rejected'
    return 'refused'
  } catch {
    return 'unreachable'
  }
}
