// The hostile connections of test/integration/hostile-connections.test.ts as data: what each sends
// and the exact outcome it must meet. Kept apart so that the test reads as what is checked.
import type { ConnectionLimits } from '../../engine/host/conn-limits.ts'
import { upgradeRequest, wsFrame, type ProbeOptions } from './raw-conn.ts'

export interface Target {
  port: number
  token: string
  socketPath: string
  limits: ConnectionLimits
}

/** A connection that stalls at one stage: closed by the server at that stage's deadline. */
export interface StallCase {
  name: string
  probe: Omit<ProbeOptions, 'to'> & { to?: string }
  /** When the server must close it, from connect. */
  deadlineMs: number
  status: number | null
  body?: string
}

/** Sent whole: answered at once with this status and sentence (null: no HTTP answer), and closed. */
export type RefusalCase = [name: string, send: string | Buffer, status: number | null, body: string | null]

export const NOT_HTTP = 'that is not an HTTP/1.1 request this host can read; send a well-formed one'
const TOO_BIG = 'the request line and headers are over 16384 bytes; send fewer or shorter headers'
const NO_TOKEN = 'the token is missing or wrong; sign in with the URL vireo serve printed'
const SIGN_IN_TOO_BIG = 'a sign-in is at most 4096 bytes; send only {"token": "..."}'
/** A ClientHello cut short: its record says 200 bytes, 16 arrive. */
const PARTIAL_HELLO = Buffer.from('16030100c8010000c40303' + '00'.repeat(10), 'hex')

export function timedOut(l: ConnectionLimits): string {
  return `a request must arrive within ${l.headersMs} ms for its headers and ${l.requestMs} ms in all; send it at once`
}

export function stallCases(t: Target): StallCase[] {
  const l = t.limits
  const host = `Host: 127.0.0.1:${t.port}\r\n`
  const late = timedOut(l)
  const upgrade = (token: string | null, path = '/rpc') =>
    upgradeRequest({ host: `127.0.0.1:${t.port}`, token, path })
  return [
    { name: 'silence after connect', probe: {}, deadlineMs: l.firstByteMs, status: null },
    {
      name: '0x16, then silence',
      probe: { send: Buffer.from([0x16]) },
      deadlineMs: l.tlsHandshakeMs,
      status: null,
    },
    {
      name: 'a partial TLS ClientHello',
      probe: { send: PARTIAL_HELLO },
      deadlineMs: l.tlsHandshakeMs,
      status: null,
    },
    { name: '"G", then silence', probe: { send: 'G' }, deadlineMs: l.headersMs, status: 408, body: late },
    {
      name: 'headers never finished',
      probe: { send: `GET / HTTP/1.1\r\n${host}` },
      deadlineMs: l.headersMs,
      status: 408,
      body: late,
    },
    {
      name: 'slowloris: one header byte a second',
      probe: { send: `GET / HTTP/1.1\r\n${host}X-Slow: `, drip: { piece: 'a', everyMs: 1000 } },
      deadlineMs: l.headersMs,
      status: 408,
      body: late,
    },
    {
      name: 'a body that never finishes',
      probe: { send: `POST /sign-in HTTP/1.1\r\n${host}Content-Length: 100\r\n\r\n{"tok` },
      deadlineMs: l.requestMs,
      status: 408,
      body: late,
    },
    {
      name: 'a chunked body dripped forever',
      probe: {
        send: `POST /sign-in HTTP/1.1\r\n${host}Transfer-Encoding: chunked\r\n\r\n`,
        drip: { piece: '1\r\na\r\n', everyMs: 300 },
      },
      deadlineMs: l.requestMs,
      status: 408,
      body: late,
    },
    {
      name: 'a keep-alive connection left idle after its answer',
      // A 404 (not the page, which a fresh checkout has not built): keep-alive all the same.
      probe: { send: `GET /no-such-file HTTP/1.1\r\n${host}\r\n` },
      // Node's keep-alive timer runs a second past the advertised idle time (keepAliveTimeoutBuffer).
      deadlineMs: l.idleMs + 1000,
      status: 404,
    },
    {
      name: 'an upgrade with the token, then silence',
      probe: { send: upgrade(t.token) },
      deadlineMs: l.upgradeMs,
      status: 101,
    },
    {
      name: 'a pairing upgrade, then silence',
      probe: { send: upgrade(null, '/peer/pair') },
      deadlineMs: l.upgradeMs,
      status: 101,
    },
    {
      name: 'CLI socket: silence after connect',
      probe: { to: t.socketPath },
      deadlineMs: l.firstByteMs,
      status: null,
    },
    {
      name: 'CLI socket: headers never finished',
      probe: { to: t.socketPath, send: 'GET /rpc HTTP/1.1\r\nHost: x\r\n' },
      deadlineMs: l.headersMs,
      status: 408,
      body: late,
    },
    {
      name: 'CLI socket: an upgrade, then silence',
      probe: { to: t.socketPath, send: upgradeRequest({ host: 'localhost' }) },
      deadlineMs: l.upgradeMs,
      status: 101,
    },
  ]
}

export function refusalCases(t: Target): RefusalCase[] {
  const h = `Host: 127.0.0.1:${t.port}\r\n`
  const name = `127.0.0.1:${t.port}`
  const up = (o: Omit<Parameters<typeof upgradeRequest>[0], 'host'> & { host?: string }) =>
    upgradeRequest({ host: name, ...o })
  const big = 'a'.repeat(20_000)
  return [
    ['a garbage first byte', 'X', 400, NOT_HTTP],
    ['a NUL first byte', Buffer.from([0]), 400, NOT_HTTP],
    ['0x16, then a record that is not TLS', Buffer.from('160301000568656c6c6f', 'hex'), null, ''],
    ['an oversized header', `GET / HTTP/1.1\r\n${h}Cookie: ${big}\r\n\r\n`, 431, TOO_BIG],
    ['an oversized URL', `GET /${big} HTTP/1.1\r\n${h}\r\n`, 431, TOO_BIG],
    ['a header line without a colon', `GET / HTTP/1.1\r\n${h}nonsense\r\n\r\n`, 400, NOT_HTTP],
    [
      'Content-Length and Transfer-Encoding both',
      `POST /sign-in HTTP/1.1\r\n${h}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
      400,
      NOT_HTTP,
    ],
    [
      'two different Content-Lengths',
      `POST /sign-in HTTP/1.1\r\n${h}Content-Length: 4\r\nContent-Length: 5\r\n\r\nabcde`,
      400,
      NOT_HTTP,
    ],
    [
      'no Host header',
      'GET / HTTP/1.1\r\nConnection: close\r\n\r\n',
      400,
      'a request must name this host in its Host header; send one',
    ],
    [
      'a rebound Host name',
      'GET / HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n',
      421,
      'this host does not answer to the name "evil.example"; use its IP address or localhost',
    ],
    [
      'PUT',
      `PUT / HTTP/1.1\r\n${h}Content-Length: 0\r\nConnection: close\r\n\r\n`,
      405,
      'PUT is not served here; only GET, HEAD and the sign-in POST are',
    ],
    [
      'a sign-in posted from a foreign page',
      `POST /sign-in HTTP/1.1\r\n${h}Origin: http://evil.example\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`,
      403,
      'a page from http://evil.example may not post to this host; open the URL vireo serve printed',
    ],
    [
      'a sign-in body over 4 KiB',
      `POST /sign-in HTTP/1.1\r\n${h}Transfer-Encoding: chunked\r\n\r\n1388\r\n${'x'.repeat(5000)}\r\n`,
      413,
      SIGN_IN_TOO_BIG,
    ],
    [
      'a sign-in that announces 100 kB',
      `POST /sign-in HTTP/1.1\r\n${h}Content-Length: 100000\r\n\r\n`,
      413,
      SIGN_IN_TOO_BIG,
    ],
    [
      'a sign-in with a wrong token',
      `POST /sign-in HTTP/1.1\r\n${h}Content-Length: 17\r\nConnection: close\r\n\r\n{"token":"wrong"}`,
      401,
      '{"error":"the token was not accepted"}',
    ],
    [
      'a path out of the renderer',
      `GET /../../package.json HTTP/1.1\r\n${h}Connection: close\r\n\r\n`,
      400,
      'that path leaves the renderer; ask for a file of the page',
    ],
    ['an upgrade without the token', up({}), 401, NO_TOKEN],
    ['an upgrade with a wrong token', up({ token: 'x'.repeat(32) }), 401, NO_TOKEN],
    [
      'an upgrade from a foreign Origin',
      up({ token: t.token, headers: { Origin: 'http://evil.example' } }),
      403,
      'a page from http://evil.example may not use this host; open the URL vireo serve printed',
    ],
    [
      'an upgrade for a rebound Host',
      up({ host: `evil.example:${t.port}`, token: t.token }),
      421,
      `this host does not answer to the name "evil.example:${t.port}"; use its IP address or localhost and port ${t.port}`,
    ],
    [
      'an upgrade to another path',
      up({ token: t.token, path: '/' }),
      404,
      'there is no WebSocket at /; the RPC is at /rpc',
    ],
    [
      'a paired host’s upgrade outside TLS',
      up({ path: '/peer/rpc' }),
      404,
      'there is no WebSocket at /peer/rpc; the RPC is at /rpc',
    ],
    [
      'an upgrade without a key',
      up({ token: t.token, headers: { 'Sec-WebSocket-Key': null } }),
      400,
      'Missing or invalid Sec-WebSocket-Key header',
    ],
    [
      'an upgrade of an unknown version',
      up({ token: t.token, headers: { 'Sec-WebSocket-Version': '99' } }),
      400,
      'Missing or invalid Sec-WebSocket-Version header',
    ],
    [
      'a pairing from a web page',
      up({ path: '/peer/pair', headers: { Origin: `http://${name}` } }),
      403,
      'pairing is for other Vireo hosts, not web pages; run vireo remote add on the other host',
    ],
  ]
}

/** A frame sent after a good upgrade, and the close code the server must answer with. */
export function frameCases(l: ConnectionLimits): [name: string, frame: Buffer, code: number][] {
  return [
    ['an unmasked frame', wsFrame(0x1, Buffer.from('{}'), { masked: false }), 1002],
    ['a reserved opcode', wsFrame(0x3, Buffer.from('x')), 1002],
    ['a fragmented ping', wsFrame(0x9, Buffer.from('x'), { fin: false }), 1002],
    [
      `a message over ${l.maxMessageBytes} bytes`,
      wsFrame(0x1, Buffer.alloc(l.maxMessageBytes + 1, 0x61)),
      1009,
    ],
  ]
}
