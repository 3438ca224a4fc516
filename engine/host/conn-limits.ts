// How long a client may take at each stage of a connection, and how many connections it may hold:
// no stuck or hostile client holds the host past these. The defaults are generous for any real
// client on a slow link; tests (and operators) shorten or widen them by environment variable:
//
//   VIREO_CONN_FIRST_BYTE_MS       connect → first byte                                  10000
//   VIREO_CONN_TLS_HANDSHAKE_MS    first byte 0x16 → TLS-PSK handshake done (paired host) 10000
//   VIREO_CONN_HEADERS_MS          start of a request → its headers complete              10000
//   VIREO_CONN_REQUEST_MS          start of a request → its body complete (not peers)     30000
//   VIREO_CONN_UPGRADE_MS          WebSocket 101 → the client's first pong or message     10000
//   VIREO_CONN_IDLE_MS             keep-alive HTTP with no request in flight (+1 s, Node) 10000
//   VIREO_CONN_STALL_MS            a request in flight with no byte moving either way     60000
//   VIREO_CONN_PING_MS             WebSocket ping interval; silent two intervals: closed  30000
//   VIREO_CONN_PER_ADDRESS         open connections per client address (IPv6: per /64)    64
//   VIREO_CONN_TOTAL               open connections to the serve port, and to the CLI socket 512
//   VIREO_CONN_MAX_HEADER_BYTES    request line + headers (431 beyond)                    16384
//   VIREO_CONN_MAX_MESSAGE_BYTES   one WebSocket message from a browser or the CLI        16777216
import { VireoError } from '../api/errors.ts'

/** Each setting's range: below or above it a host would be unguarded or unusable. */
const RANGE: Record<keyof ConnectionLimits, [min: number, max: number]> = {
  firstByteMs: [50, 3_600_000],
  tlsHandshakeMs: [50, 3_600_000],
  headersMs: [50, 3_600_000],
  requestMs: [50, 3_600_000],
  upgradeMs: [50, 3_600_000],
  idleMs: [50, 3_600_000],
  stallMs: [50, 3_600_000],
  pingMs: [50, 3_600_000],
  perAddress: [1, 1_000_000],
  total: [1, 1_000_000],
  maxHeaderBytes: [1024, 1024 * 1024],
  maxMessageBytes: [1024, 1024 * 1024 * 1024],
}

export interface ConnectionLimits {
  firstByteMs: number
  tlsHandshakeMs: number
  headersMs: number
  requestMs: number
  upgradeMs: number
  idleMs: number
  stallMs: number
  pingMs: number
  perAddress: number
  total: number
  maxHeaderBytes: number
  maxMessageBytes: number
}

export const DEFAULT_LIMITS: ConnectionLimits = {
  firstByteMs: 10_000,
  tlsHandshakeMs: 10_000,
  headersMs: 10_000,
  requestMs: 30_000,
  upgradeMs: 10_000,
  idleMs: 10_000,
  stallMs: 60_000,
  pingMs: 30_000,
  perAddress: 64,
  total: 512,
  maxHeaderBytes: 16 * 1024,
  maxMessageBytes: 16 * 1024 * 1024,
}

export const LIMIT_ENV: Record<keyof ConnectionLimits, string> = {
  firstByteMs: 'VIREO_CONN_FIRST_BYTE_MS',
  tlsHandshakeMs: 'VIREO_CONN_TLS_HANDSHAKE_MS',
  headersMs: 'VIREO_CONN_HEADERS_MS',
  requestMs: 'VIREO_CONN_REQUEST_MS',
  upgradeMs: 'VIREO_CONN_UPGRADE_MS',
  idleMs: 'VIREO_CONN_IDLE_MS',
  stallMs: 'VIREO_CONN_STALL_MS',
  pingMs: 'VIREO_CONN_PING_MS',
  perAddress: 'VIREO_CONN_PER_ADDRESS',
  total: 'VIREO_CONN_TOTAL',
  maxHeaderBytes: 'VIREO_CONN_MAX_HEADER_BYTES',
  maxMessageBytes: 'VIREO_CONN_MAX_MESSAGE_BYTES',
}

/**
 * The defaults, then what the environment says, then what the caller gives. A value that is not a
 * whole number in range is refused rather than ignored: a typo must not leave a host unguarded.
 */
export function resolveLimits(
  env: NodeJS.ProcessEnv = {},
  given: Partial<ConnectionLimits> = {},
): ConnectionLimits {
  const limits: ConnectionLimits = { ...DEFAULT_LIMITS }
  const source: Partial<Record<keyof ConnectionLimits, string>> = {}
  for (const key of Object.keys(LIMIT_ENV) as (keyof ConnectionLimits)[]) {
    const raw = env[LIMIT_ENV[key]]?.trim()
    if (raw) {
      limits[key] = /^\d{1,10}$/.test(raw) ? Number(raw) : Number.NaN
      source[key] = `${LIMIT_ENV[key]}="${raw}"`
    }
    const value = given[key]
    if (value !== undefined) {
      limits[key] = value
      source[key] = `limits.${key} = ${value}`
    }
    const [min, max] = RANGE[key]
    const v = limits[key]
    if (!Number.isInteger(v) || v < min || v > max)
      throw new VireoError(
        'invalid_request',
        `${source[key] ?? key} is not a whole number from ${min} to ${max}; set it within that range`,
      )
  }
  if (limits.headersMs > limits.requestMs)
    throw new VireoError(
      'invalid_request',
      `the headers deadline (${limits.headersMs} ms) is longer than the whole request's (${limits.requestMs} ms); ` +
        `make ${LIMIT_ENV.headersMs} at most ${LIMIT_ENV.requestMs}`,
    )
  return limits
}
