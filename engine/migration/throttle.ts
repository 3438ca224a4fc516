// A bandwidth limit for the file copy, the same figure QEMU gets for the memory copy and mirrors.
export class Throttle {
  private readonly bytesPerSecond: number | null
  private readonly signal: AbortSignal
  private sent = 0
  private readonly started = Date.now()

  constructor(mbps: number | undefined, signal: AbortSignal) {
    this.bytesPerSecond = mbps ? (mbps * 1_000_000) / 8 : null
    this.signal = signal
  }

  async take(n: number): Promise<void> {
    this.sent += n
    if (!this.bytesPerSecond) return
    const due = (this.sent / this.bytesPerSecond) * 1000 - (Date.now() - this.started)
    if (due > 5 && !this.signal.aborted) await new Promise((r) => setTimeout(r, Math.min(due, 1000)))
  }
}
