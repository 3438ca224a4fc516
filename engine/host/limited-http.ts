// The HTTP servers of a host, with every deadline of engine/host/conn-limits.ts. They never listen
// themselves: a front door (engine/host/front-door.ts) accepts, counts and reads the first byte,
// then hands them the socket.
import { createServer, type RequestListener, type Server } from 'node:http'
import type { Duplex } from 'node:stream'
import type { ThrottledLog } from './conn-guard.ts'
import type { ConnectionLimits } from './conn-limits.ts'
import { sayAndClose } from './refusal.ts'

export interface HttpKind {
  /**
   * Whether a request's body must be complete within requestMs. A browser's bodies are a few bytes;
   * a paired host uploads disk images, whose stalls (no byte for stallMs) end them instead.
   */
  wholeRequest: boolean
  log: ThrottledLog
  /** For the log: "the serve port", "the CLI socket". */
  name: string
}

export function limitedHttpServer(
  limits: ConnectionLimits,
  kind: HttpKind,
  handler?: RequestListener,
): Server {
  const requestMs = kind.wholeRequest ? limits.requestMs : 0
  const shortest = requestMs > 0 ? Math.min(limits.headersMs, requestMs) : limits.headersMs
  const server = createServer(
    {
      headersTimeout: limits.headersMs,
      requestTimeout: requestMs,
      keepAliveTimeout: limits.idleMs,
      maxHeaderSize: limits.maxHeaderBytes,
      // A missing Host is refused by the handler, with a sentence (Node's own 400 has none).
      requireHostHeader: false,
      // How often Node looks for requests past their deadline: a deadline is met within this.
      connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(shortest / 5))),
    },
    handler,
  )
  // No byte either way for this long while a request is in flight (a client that never reads its
  // answer, a stalled upload): the socket is closed.
  server.timeout = limits.stallMs
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    const who = (socket as { remoteAddress?: string }).remoteAddress ?? 'a local client'
    const r = refusalFor(err.code, limits, requestMs)
    if (r.status === 408)
      kind.log.say(
        `${kind.name}: slow request`,
        `closed a connection to ${kind.name} from ${who}: its request did not arrive in time`,
      )
    answerAndClose(socket, r.status, r.sentence)
  })
  // Node runs its header and request deadlines only for a server that has emitted 'listening' (it
  // starts the checks from that event); one that is handed its sockets never does by itself.
  server.emit('listening')
  return server
}

export function refusalFor(
  code: string | undefined,
  limits: ConnectionLimits,
  requestMs: number,
): { status: number; sentence: string } {
  switch (code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return {
        status: 408,
        sentence:
          requestMs > 0
            ? `a request must arrive within ${limits.headersMs} ms for its headers and ${requestMs} ms in all; send it at once`
            : `a request's headers must arrive within ${limits.headersMs} ms; send them at once`,
      }
    case 'HPE_HEADER_OVERFLOW':
      return {
        status: 431,
        sentence: `the request line and headers are over ${limits.maxHeaderBytes} bytes; send fewer or shorter headers`,
      }
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return { status: 413, sentence: 'the chunk extensions are too large; send the body without them' }
    default:
      return {
        status: 400,
        sentence: 'that is not an HTTP/1.1 request this host can read; send a well-formed one',
      }
  }
}

/** Said only where no answer has begun on this socket; otherwise just closed. */
function answerAndClose(socket: Duplex, status: number, sentence: string): void {
  const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage
  if (inFlight?.headersSent) socket.destroy()
  else sayAndClose(socket, status, sentence)
}
