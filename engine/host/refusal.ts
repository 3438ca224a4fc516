// Every refusal: an HTTP status with one sentence the client can read; on a raw socket, the socket
// closed after it, whatever the client does.
import type { ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'

/** An answer through Node's HTTP server; its length is given, so that no chunking wraps the sentence. */
export function say(res: ServerResponse, status: number, sentence: string, json = false): void {
  const body = json ? sentence : `${sentence}\n`
  res
    .writeHead(status, {
      'Content-Type': json ? 'application/json' : 'text/plain; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
    })
    .end(body)
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  408: 'Request Timeout',
  413: 'Content Too Large',
  421: 'Misdirected Request',
  431: 'Request Header Fields Too Large',
  503: 'Service Unavailable',
}

/**
 * `drain` reads and drops what the client sends meanwhile (for a socket nothing else reads), so
 * that closing does not reset the connection before the answer arrives. A client that never closes
 * its side is cut after a second.
 */
export function sayAndClose(
  socket: Duplex,
  status: number,
  sentence: string,
  o: { drain?: boolean } = {},
): void {
  socket.on('error', () => socket.destroy())
  if (!socket.writable) return void socket.destroy()
  if (o.drain) socket.resume()
  const body = `${sentence}\n`
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\nConnection: close\r\n` +
      `Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  )
  const cut = setTimeout(() => socket.destroy(), 1_000)
  cut.unref()
  socket.once('close', () => clearTimeout(cut))
}
