// The page's end of the engine's MessagePort. The engine's side (engine/api/transports/port.ts) sees
// Electron's MessagePortMain (`on('message', e => e.data)`); the page holds a DOM MessagePort
// (`addEventListener('message', e => e.data)`, `start()`), so it gets this adapter, with the same
// message shape: `{t:'m', m}` for JSON envelopes and `{t:'b', b}` for stream frames. Frames the page
// sends are transferred (their buffer moves, nothing is copied); the engine's arrive as Uint8Array.
import { Listeners, type Transport } from '../../engine/api/transport.ts'

/** The part of the DOM MessagePort this needs. */
export interface BrowserPort {
  postMessage(message: unknown, transfer: Transferable[]): void
  addEventListener(type: 'message' | 'close', listener: (event: MessageEvent) => void): void
  start(): void
  close(): void
}

type PortMessage = { t: 'm'; m: unknown } | { t: 'b'; b: Uint8Array }

export function browserPortTransport(port: BrowserPort): Transport {
  const messages = new Listeners<unknown>()
  const binaries = new Listeners<Uint8Array>()
  const closes = new Listeners<void>()
  let closed = false
  port.addEventListener('message', (event) => {
    const msg = event.data as PortMessage | null
    if (msg && typeof msg === 'object' && msg.t === 'b' && msg.b instanceof Uint8Array) binaries.emit(msg.b)
    else if (msg && typeof msg === 'object' && msg.t === 'm') messages.emit(msg.m)
    else messages.emit({ type: 'garbage' })
  })
  // Chromium fires `close` on a MessagePort whose other end went away (the engine exited).
  port.addEventListener('close', () => {
    if (closed) return
    closed = true
    closes.emit()
  })
  port.start()
  return {
    send(message) {
      if (!closed) port.postMessage({ t: 'm', m: message } satisfies PortMessage, [])
    },
    sendBinary(frame) {
      if (closed) return
      // A frame that owns its whole buffer (encodeFrame makes one per write) moves instead of copying.
      const whole =
        frame.buffer instanceof ArrayBuffer &&
        frame.byteOffset === 0 &&
        frame.byteLength === frame.buffer.byteLength
      port.postMessage({ t: 'b', b: frame } satisfies PortMessage, whole ? [frame.buffer as ArrayBuffer] : [])
    },
    onMessage: (h) => messages.add(h),
    onBinary: (h) => binaries.add(h),
    onClose: (h) => closes.add(h),
    close() {
      if (closed) return
      closed = true
      port.close()
      closes.emit()
    },
  }
}
