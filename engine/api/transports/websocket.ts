// A transport over anything WebSocket-shaped: the `ws` package in Node, the browser's WebSocket.
// JSON envelopes travel as text frames, stream data as binary frames.
import { Listeners, type Transport } from '../transport.ts'

/** The subset of the WebSocket API both `ws` and browsers implement. */
export interface WebSocketLike {
  binaryType: string
  readyState: number
  send(data: string | ArrayBufferLike | ArrayBufferView): void
  close(code?: number, reason?: string): void
  addEventListener(type: 'message', listener: (ev: { data: unknown }) => void): void
  addEventListener(type: 'close', listener: () => void): void
  addEventListener(type: 'error', listener: (ev: unknown) => void): void
}

const OPEN = 1

export function webSocketTransport(ws: WebSocketLike): Transport {
  const messages = new Listeners<unknown>()
  const binaries = new Listeners<Uint8Array>()
  const closes = new Listeners<void>()
  let closed = false
  ws.binaryType = 'arraybuffer'
  ws.addEventListener('message', (ev) => {
    const data = ev.data
    if (typeof data === 'string') {
      let parsed: unknown
      try {
        parsed = JSON.parse(data)
      } catch {
        // A peer that sends garbage gets a protocol error from the RPC layer, not a crash here.
        parsed = { type: 'garbage' }
      }
      messages.emit(parsed)
    } else if (data instanceof ArrayBuffer) {
      binaries.emit(new Uint8Array(data))
    } else if (ArrayBuffer.isView(data)) {
      binaries.emit(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
    }
  })
  const onClosed = () => {
    if (closed) return
    closed = true
    closes.emit()
  }
  ws.addEventListener('close', onClosed)
  ws.addEventListener('error', () => {
    /* an error is always followed by close */
  })
  return {
    send(message) {
      if (!closed && ws.readyState === OPEN) ws.send(JSON.stringify(message))
    },
    sendBinary(frame) {
      if (!closed && ws.readyState === OPEN) ws.send(frame)
    },
    onMessage: (h) => messages.add(h),
    onBinary: (h) => binaries.add(h),
    onClose: (h) => closes.add(h),
    close() {
      ws.close(1000)
      onClosed()
    },
  }
}
