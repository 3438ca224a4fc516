// Two connected transports in one process (tests, and an engine embedded in its host).
// Messages are cloned, so neither side can mutate what the other holds, as on a real wire.
import { Listeners, type Transport } from '../transport.ts'

class InProcessEnd implements Transport {
  peer: InProcessEnd | null = null
  closed = false
  readonly messages = new Listeners<unknown>()
  readonly binaries = new Listeners<Uint8Array>()
  readonly closes = new Listeners<void>()

  send(message: unknown): void {
    const peer = this.peer
    if (this.closed || !peer) return
    const copy = structuredClone(message)
    queueMicrotask(() => peer.messages.emit(copy))
  }
  sendBinary(frame: Uint8Array): void {
    const peer = this.peer
    if (this.closed || !peer) return
    const copy = frame.slice()
    queueMicrotask(() => peer.binaries.emit(copy))
  }
  onMessage(h: (m: unknown) => void) {
    return this.messages.add(h)
  }
  onBinary(h: (f: Uint8Array) => void) {
    return this.binaries.add(h)
  }
  onClose(h: () => void) {
    return this.closes.add(h)
  }
  close(): void {
    if (this.closed) return
    this.closed = true
    const peer = this.peer
    queueMicrotask(() => {
      this.closes.emit()
      if (peer && !peer.closed) {
        peer.closed = true
        peer.closes.emit()
      }
    })
  }
}

export function inProcessPair(): [Transport, Transport] {
  const a = new InProcessEnd()
  const b = new InProcessEnd()
  a.peer = b
  b.peer = a
  return [a, b]
}
