// A FIFO of received byte chunks that the RFB parser reads from without first joining everything:
// chunks arrive in whatever sizes the socket and the transport chose, and a message may span many.

export class ByteQueue {
  private chunks: Uint8Array[] = []
  /** Read offset into chunks[0]. */
  private head = 0
  private total = 0

  get length(): number {
    return this.total
  }

  push(chunk: Uint8Array): void {
    if (chunk.byteLength === 0) return
    this.chunks.push(chunk)
    this.total += chunk.byteLength
  }

  clear(): void {
    this.chunks = []
    this.head = 0
    this.total = 0
  }

  /** The byte at `offset` from the read position; the caller checked `length`. */
  peekU8(offset: number): number {
    let i = 0
    let off = offset + this.head
    for (;;) {
      const c = this.chunks[i]
      if (!c) throw new RangeError('ByteQueue: peek past the end')
      if (off < c.byteLength) return c[off] ?? 0
      off -= c.byteLength
      i++
    }
  }

  peekU16(offset: number): number {
    return (this.peekU8(offset) << 8) | this.peekU8(offset + 1)
  }

  peekU32(offset: number): number {
    return this.peekU16(offset) * 0x10000 + this.peekU16(offset + 2)
  }

  peekS32(offset: number): number {
    return this.peekU32(offset) | 0
  }

  skip(n: number): void {
    if (n > this.total) throw new RangeError('ByteQueue: skip past the end')
    this.total -= n
    while (n > 0) {
      const c = this.chunks[0]
      if (!c) break
      const left = c.byteLength - this.head
      if (n < left) {
        this.head += n
        return
      }
      n -= left
      this.chunks.shift()
      this.head = 0
    }
  }

  /** Copies the next `n` bytes into `dest` at `destOffset` and consumes them. */
  readInto(dest: Uint8Array, n: number, destOffset = 0): void {
    if (n > this.total) throw new RangeError('ByteQueue: read past the end')
    let written = 0
    while (written < n) {
      const c = this.chunks[0]
      if (!c) break
      const take = Math.min(n - written, c.byteLength - this.head)
      dest.set(c.subarray(this.head, this.head + take), destOffset + written)
      written += take
      this.skip(take)
    }
  }

  /** The next `n` bytes as a new array (its own ArrayBuffer), consumed. */
  read(n: number): Uint8Array<ArrayBuffer> {
    const out = new Uint8Array(n)
    this.readInto(out, n)
    return out
  }
}
