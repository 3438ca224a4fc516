// A transport over a MessagePort: one wire format for both ends. The engine's end holds Electron's
// `MessagePortMain` or a utility process's `parentPort` (`on('message', e => e.data)`); the page's
// end holds a DOM MessagePort (`addEventListener`, `start()`), which `domPortTransport` adapts.
// JSON envelopes travel as `{t:'m', m}`, stream frames as `{t:'b', b}` with the Uint8Array inside
// the structured clone, never as JSON.
import { Listeners, type Transport } from '../transport.ts'

/** A port in the shape the engine's end has (Electron's MessagePortMain). */
export interface PortLike {
  postMessage(message: unknown): void
  /**
   * Posts a message moving `buffer` rather than copying it. Only a DOM MessagePort can: Electron's
   * MessagePortMain and parentPort take nothing but ports in a transfer list.
   */
  postMessageMoving?(message: unknown, buffer: ArrayBuffer): void
  on(event: 'message', listener: (event: { data: unknown }) => void): unknown
  on(event: 'close', listener: () => void): unknown
  start?(): void
  close?(): void
}

type PortMessage = { t: 'm'; m: unknown } | { t: 'b'; b: Uint8Array }

export function portTransport(port: PortLike): Transport {
  const messages = new Listeners<unknown>()
  const binaries = new Listeners<Uint8Array>()
  const closes = new Listeners<void>()
  let closed = false
  port.on('message', (event) => {
    const msg = event.data as PortMessage | null
    if (msg && typeof msg === 'object' && msg.t === 'b' && msg.b instanceof Uint8Array) binaries.emit(msg.b)
    else if (msg && typeof msg === 'object' && msg.t === 'm') messages.emit(msg.m)
    else messages.emit({ type: 'garbage' })
  })
  port.on('close', () => {
    if (closed) return
    closed = true
    closes.emit()
  })
  port.start?.()
  return {
    send(message) {
      if (!closed) port.postMessage({ t: 'm', m: message } satisfies PortMessage)
    },
    sendBinary(frame) {
      if (closed) return
      const message = { t: 'b', b: frame } satisfies PortMessage
      // A frame that owns its whole buffer (encodeFrame makes one per write) can move; a view into a
      // larger buffer cannot without taking the rest of that buffer from its owner.
      const whole =
        frame.buffer instanceof ArrayBuffer &&
        frame.byteOffset === 0 &&
        frame.byteLength === frame.buffer.byteLength
      if (whole && port.postMessageMoving) port.postMessageMoving(message, frame.buffer)
      else port.postMessage(message)
    },
    onMessage: (h) => messages.add(h),
    onBinary: (h) => binaries.add(h),
    onClose: (h) => closes.add(h),
    close() {
      if (closed) return
      closed = true
      port.close?.()
      closes.emit()
    },
  }
}

/** The part of a DOM MessagePort (the page's end of the engine's port) the adapter needs. */
export interface DomPort {
  postMessage(message: unknown, transfer: ArrayBuffer[]): void
  addEventListener(type: 'message' | 'close', listener: (event: { data: unknown }) => void): void
  start(): void
  close(): void
}

/** A DOM MessagePort in the engine's port shape. */
export function fromDomPort(port: DomPort): PortLike {
  return {
    postMessage: (message) => port.postMessage(message, []),
    postMessageMoving: (message, buffer) => port.postMessage(message, [buffer]),
    // Chromium fires `close` on a MessagePort whose other end went away (the engine exited).
    on: (event: 'message' | 'close', listener: (event: { data: unknown }) => void) =>
      port.addEventListener(event, listener),
    start: () => port.start(),
    close: () => port.close(),
  }
}

export function domPortTransport(port: DomPort): Transport {
  return portTransport(fromDomPort(port))
}
