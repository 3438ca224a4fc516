// QEMU's stream netdev framing: each Ethernet frame is preceded by its length, 4 bytes big-endian.

/** Longer than any frame QEMU sends (64 KiB plus headers): a larger length means a broken stream. */
export const MAX_FRAME_BYTES = 128 * 1024

export function encodeFrame(frame: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(4 + frame.byteLength)
  out.writeUInt32BE(frame.byteLength, 0)
  out.set(frame, 4)
  return out
}

/** Cuts a byte stream into frames, however the reads split it. */
export class FrameReader {
  private pending: Buffer = Buffer.alloc(0)
  private readonly onFrame: (frame: Buffer) => void

  constructor(onFrame: (frame: Buffer) => void) {
    this.onFrame = onFrame
  }

  /** Throws on a length no frame can have: the stream is out of step and must be dropped. */
  push(chunk: Buffer): void {
    let buf = this.pending.byteLength ? Buffer.concat([this.pending, chunk]) : chunk
    while (buf.byteLength >= 4) {
      const length = buf.readUInt32BE(0)
      if (length > MAX_FRAME_BYTES) throw new Error(`a frame of ${length} bytes is not Ethernet`)
      if (buf.byteLength < 4 + length) break
      // A copy: the reader's chunk may be reused, and a frame can be queued on other ports.
      this.onFrame(Buffer.from(buf.subarray(4, 4 + length)))
      buf = buf.subarray(4 + length)
    }
    this.pending = Buffer.from(buf)
  }
}
