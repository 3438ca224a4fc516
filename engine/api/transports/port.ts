// A transport over a MessagePort in the shape of Electron's `MessagePortMain` and a utility
// process's `parentPort` (`postMessage`, and `on('message', e => e.data)`). Stream frames travel as
// Uint8Array inside the structured clone, never as JSON.
import { Listeners, type Transport } from '../transport.ts'

export interface PortLike {
  postMessage(message: unknown): void
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
      if (!closed) port.postMessage({ t: 'b', b: frame } satisfies PortMessage)
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
