// Raw clients for hostile-input tests: a TCP or unix socket that writes exactly what it is told
// (at once, or dripped), and reports what came back and when the server closed it.
import { connect, type Socket } from 'node:net'
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls'

export interface Probe {
  /** What the server sent, as latin1 (HTTP heads and sentences are ASCII). */
  got: string
  /** From connect to 'close'. */
  closedAfterMs: number
  /** Whether the client saw the server end first (FIN or reset), not a close of its own. */
  byServer: boolean
  /** The HTTP status of the first response line, if any. */
  status: number | null
  /** The body after the first response head, trimmed. */
  body: string
}

export interface ProbeOptions {
  /** Where to connect: a port on 127.0.0.1, or a unix socket path. */
  to: number | string
  /** Bound as the client's address (127.x.y.z), so that probes do not share one address's bound. */
  from?: string
  /** Written right after connecting. */
  send?: string | Buffer
  /** Then one piece every `everyMs`, until the server closes. */
  drip?: { piece: string | Buffer; everyMs: number }
  /** The client gives up (and the probe fails) after this long. */
  giveUpMs?: number
  /** Called with the socket once connected (to write more, say a WebSocket frame after the 101). */
  onConnect?: (socket: Socket) => void
  onData?: (socket: Socket, got: string) => void
}

export function probe(o: ProbeOptions): Promise<Probe> {
  return new Promise((resolvePromise, reject) => {
    const started = Date.now()
    const socket =
      typeof o.to === 'string'
        ? connect(o.to)
        : connect({ port: o.to, host: '127.0.0.1', ...(o.from ? { localAddress: o.from } : {}) })
    let got = ''
    let byServer = false
    let drip: NodeJS.Timeout | undefined
    const giveUp = setTimeout(() => {
      socket.destroy()
      reject(new Error(`the server kept the connection open for ${o.giveUpMs ?? 30_000} ms; got ${got}`))
    }, o.giveUpMs ?? 30_000)
    socket.on('connect', () => {
      if (o.send !== undefined) socket.write(o.send)
      if (o.drip) {
        const d = o.drip
        drip = setInterval(() => socket.writable && socket.write(d.piece), d.everyMs)
      }
      o.onConnect?.(socket)
    })
    socket.on('data', (d: Buffer) => {
      got += d.toString('latin1')
      o.onData?.(socket, got)
    })
    socket.on('end', () => (byServer = true))
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') byServer = true
      else reject(err)
    })
    socket.on('close', () => {
      clearTimeout(giveUp)
      clearInterval(drip)
      const m = /^HTTP\/1\.1 (\d{3}) /.exec(got)
      const head = got.indexOf('\r\n\r\n')
      resolvePromise({
        got,
        closedAfterMs: Date.now() - started,
        byServer,
        status: m ? Number(m[1]) : null,
        body:
          head >= 0
            ? Buffer.from(got.slice(head + 4), 'latin1')
                .toString('utf8')
                .trim()
            : '',
      })
    })
  })
}

/** A client frame of the WebSocket protocol (RFC 6455), masked unless told otherwise. */
export function wsFrame(
  opcode: number,
  payload: Buffer,
  o: { masked?: boolean; fin?: boolean } = {},
): Buffer {
  const masked = o.masked ?? true
  const len = payload.length
  const head: number[] = [((o.fin ?? true) ? 0x80 : 0) | opcode]
  const maskBit = masked ? 0x80 : 0
  if (len < 126) head.push(maskBit | len)
  else if (len < 65536) head.push(maskBit | 126, len >> 8, len & 0xff)
  else {
    head.push(maskBit | 127, 0, 0, 0, 0)
    head.push((len >>> 24) & 0xff, (len >>> 16) & 0xff, (len >>> 8) & 0xff, len & 0xff)
  }
  if (!masked) return Buffer.concat([Buffer.from(head), payload])
  const mask = Buffer.from([0x12, 0x34, 0x56, 0x78])
  const body = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!))
  return Buffer.concat([Buffer.from(head), mask, body])
}

/** A WebSocket upgrade request, by hand (to leave out or spoil what a library would always send). */
export function upgradeRequest(o: {
  host: string
  path?: string
  token?: string | null
  headers?: Record<string, string | null>
}): string {
  const headers: Record<string, string | null> = {
    Host: o.host,
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version': '13',
    ...(o.token ? { 'Sec-WebSocket-Protocol': `vireo.token.${o.token}` } : {}),
    ...o.headers,
  }
  const lines = Object.entries(headers).flatMap(([k, v]) => (v === null ? [] : [`${k}: ${v}`]))
  return `GET ${o.path ?? '/rpc'} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`
}

/** The close code in a server's close frame, if the data holds one after the 101 head. */
export function closeCode(got: string): number | null {
  const head = got.indexOf('\r\n\r\n')
  const frames = Buffer.from(head >= 0 ? got.slice(head + 4) : got, 'latin1')
  for (let i = 0; i + 1 < frames.length;) {
    const opcode = frames[i]! & 0x0f
    let len = frames[i + 1]! & 0x7f
    let at = i + 2
    if (len === 126) {
      len = frames.readUInt16BE(at)
      at += 2
    } else if (len === 127) {
      len = Number(frames.readBigUInt64BE(at))
      at += 8
    }
    if (opcode === 0x8 && len >= 2) return frames.readUInt16BE(at)
    i = at + len
  }
  return null
}

/**
 * An onData handler for a raw socket after its 101: answers every ping with a pong, and nothing
 * else, not even a close frame. A client alive by every measure the host has, which never lets go.
 */
export function answerPingsOnly(): (socket: Socket, got: string) => void {
  let at = -1
  return (socket, got) => {
    if (at < 0) {
      const head = got.indexOf('\r\n\r\n')
      if (head < 0) return
      at = head + 4
    }
    const bytes = Buffer.from(got.slice(at), 'latin1')
    let i = 0
    while (i + 2 <= bytes.length) {
      const opcode = bytes[i]! & 0x0f
      const len = bytes[i + 1]! & 0x7f
      if (len >= 126 || i + 2 + len > bytes.length) break
      if (opcode === 0x9) socket.write(wsFrame(0xa, bytes.subarray(i + 2, i + 2 + len)))
      i += 2 + len
    }
    at += i
  }
}

/** A TLS client from `from` to the port: how long until closed, and the error it saw. */
export function tlsAttempt(
  port: number,
  from: string,
  o: ConnectionOptions,
): Promise<{ ms: number; error: string }> {
  return new Promise((resolvePromise) => {
    const started = Date.now()
    const s = tlsConnect({ socket: connect({ host: '127.0.0.1', port, localAddress: from }), ...o })
    let error = ''
    s.on('error', (e) => (error = e.message))
    s.on('close', () => resolvePromise({ ms: Date.now() - started, error }))
  })
}

/** A WebSocket upgraded by hand that answers pings and nothing else (see answerPingsOnly). */
export function stubbornClient(o: ProbeOptions): { open: Promise<void>; closed: Promise<Probe> } {
  let resolveOpen!: () => void
  const open = new Promise<void>((r) => (resolveOpen = r))
  const pings = answerPingsOnly()
  const closed = probe({
    ...o,
    onData: (socket, got) => {
      if (got.startsWith('HTTP/1.1 101')) resolveOpen()
      pings(socket, got)
    },
  })
  return { open, closed }
}
