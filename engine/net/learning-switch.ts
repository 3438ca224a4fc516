// One internal network's Ethernet switch, as pure logic: which ports a frame goes to. It learns
// each unicast source address on the port it came from, sends a frame for a known address to that
// port alone, floods broadcast, multicast and unknown destinations to every other port, and never
// sends a frame back where it came from. Nothing here touches a socket.

export function macKey(frame: Uint8Array, offset: number): string {
  return Buffer.from(frame.buffer, frame.byteOffset + offset, 6).toString('hex')
}

/** Ethernet's header: destination and source address, then the type. */
const HEADER_BYTES = 14

export class LearningSwitch<Port> {
  private readonly ports = new Set<Port>()
  private readonly table = new Map<string, Port>()

  add(port: Port): void {
    this.ports.add(port)
  }

  /** The port goes away, and with it every address learned on it. */
  remove(port: Port): void {
    this.ports.delete(port)
    for (const [mac, p] of this.table) if (p === port) this.table.delete(mac)
  }

  get size(): number {
    return this.ports.size
  }

  /** The port that address was last seen on. */
  portOf(mac: string): Port | undefined {
    return this.table.get(mac)
  }

  /** Where a frame that came in on `from` goes out; nowhere for a runt or an unknown port. */
  route(from: Port, frame: Uint8Array): Port[] {
    if (frame.byteLength < HEADER_BYTES || !this.ports.has(from)) return []
    const group = (frame[0]! & 1) === 1
    // A group address as a source is bogus: never learned.
    if ((frame[6]! & 1) === 0) this.table.set(macKey(frame, 6), from)
    if (!group) {
      const to = this.table.get(macKey(frame, 0))
      if (to === from) return []
      if (to !== undefined) return [to]
    }
    return [...this.ports].filter((p) => p !== from)
  }
}
