// What every transport offers: JSON-shaped messages, binary frames for streams, and a close.
// Nothing above this interface knows whether a MessagePort, a WebSocket or a function call carries it.

export interface Disposable {
  dispose(): void
}

export interface Transport {
  /** A JSON-serialisable envelope. */
  send(message: unknown): void
  /** A stream frame: 4-byte big-endian channel id, then the payload. */
  sendBinary(frame: Uint8Array): void
  onMessage(handler: (message: unknown) => void): Disposable
  onBinary(handler: (frame: Uint8Array) => void): Disposable
  onClose(handler: () => void): Disposable
  close(): void
}

export function encodeFrame(channel: number, payload: Uint8Array): Uint8Array {
  const frame = new Uint8Array(4 + payload.byteLength)
  new DataView(frame.buffer).setUint32(0, channel)
  frame.set(payload, 4)
  return frame
}

export function decodeFrame(frame: Uint8Array): { channel: number; payload: Uint8Array } | null {
  if (frame.byteLength < 4) return null
  const channel = new DataView(frame.buffer, frame.byteOffset, 4).getUint32(0)
  return { channel, payload: frame.subarray(4) }
}

/** A tiny listener list; each transport owns a few of these. */
export class Listeners<T> {
  private readonly handlers = new Set<(value: T) => void>()
  add(handler: (value: T) => void): Disposable {
    this.handlers.add(handler)
    return { dispose: () => this.handlers.delete(handler) }
  }
  emit(value: T): void {
    for (const h of [...this.handlers]) h(value)
  }
  clear(): void {
    this.handlers.clear()
  }
}
