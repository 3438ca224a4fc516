// The engine's internal networks: one learning switch per network name, whose ports are the
// stream sockets QEMU listens on for each card on that network (engine/qemu/argv/nic.ts). The
// engine connects as the client, so a new engine after a crash simply connects again and the
// network heals. Frames only ever go from one such socket to another: nothing leaves the host.
import { connect, type Socket } from 'node:net'
import { join } from 'node:path'
import type { VmConfig } from '../api/vm-config.ts'
import { internalNicSocketName } from '../qemu/argv/index.ts'
import { LearningSwitch } from './learning-switch.ts'
import { encodeFrame, FrameReader } from './stream-framing.ts'

export interface PortSpec {
  nicId: string
  network: string
  /** The unix socket QEMU listens on for this card. */
  socketPath: string
}

/** The ports a running VM's cards need. */
export function internalPorts(config: VmConfig, runtimeDir: string): PortSpec[] {
  return config.nics.flatMap((n) =>
    n.network.mode === 'internal'
      ? [{ nicId: n.id, network: n.network.name, socketPath: join(runtimeDir, internalNicSocketName(n.id)) }]
      : [],
  )
}

export interface InternalNetworksOptions {
  /** How long to keep trying to reach a card's socket (QEMU may still be creating it). */
  connectTimeoutMs?: number
  /** A port whose socket holds more unsent bytes than this drops frames instead of queueing them. */
  maxQueuedBytes?: number
}

class Port {
  socket: Socket | null = null
  connected = false
  closed = false
  timer: NodeJS.Timeout | null = null
  readonly vmId: string
  readonly spec: PortSpec

  constructor(vmId: string, spec: PortSpec) {
    this.vmId = vmId
    this.spec = spec
  }

  get label(): string {
    return `${this.vmId}/${this.spec.nicId}`
  }
}

export class InternalNetworks {
  private readonly switches = new Map<string, LearningSwitch<Port>>()
  private readonly byVm = new Map<string, Port[]>()
  private readonly connectTimeoutMs: number
  private readonly maxQueuedBytes: number

  constructor(opts: InternalNetworksOptions = {}) {
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 10_000
    this.maxQueuedBytes = opts.maxQueuedBytes ?? 4 * 1024 * 1024
  }

  /** Plugs a VM's cards into their networks (at start, or when a new engine re-attaches). */
  attach(vmId: string, specs: PortSpec[]): void {
    this.detach(vmId)
    if (specs.length === 0) return
    const ports = specs.map((s) => new Port(vmId, s))
    this.byVm.set(vmId, ports)
    for (const p of ports) this.connect(p, Date.now() + this.connectTimeoutMs)
  }

  /** Unplugs a VM's cards (it stopped, or the engine lets go of it). */
  detach(vmId: string): void {
    const ports = this.byVm.get(vmId)
    if (!ports) return
    this.byVm.delete(vmId)
    for (const p of ports) this.close(p)
  }

  /** Which cards are plugged into a network right now: `vmId/nicId`. */
  connectedPorts(network: string): string[] {
    return [...this.byVm.values()]
      .flat()
      .filter((p) => p.connected && p.spec.network === network)
      .map((p) => p.label)
  }

  dispose(): void {
    for (const vmId of [...this.byVm.keys()]) this.detach(vmId)
    this.switches.clear()
  }

  /** Kept while the engine runs, empty or not: one per network name ever used, and small. */
  private switchFor(network: string): LearningSwitch<Port> {
    let sw = this.switches.get(network)
    if (!sw) {
      sw = new LearningSwitch<Port>()
      this.switches.set(network, sw)
    }
    return sw
  }

  private connect(port: Port, deadline: number): void {
    if (port.closed) return
    const sw = this.switchFor(port.spec.network)
    const reader = new FrameReader((frame) => {
      for (const to of sw.route(port, frame)) this.send(to, frame)
    })
    const socket = connect(port.spec.socketPath)
    port.socket = socket
    socket.on('connect', () => {
      port.connected = true
      sw.add(port)
    })
    socket.on('data', (chunk: Buffer) => {
      try {
        reader.push(chunk)
      } catch {
        // Out of step with QEMU's framing: start over on a fresh connection.
        socket.destroy()
      }
    })
    socket.on('error', () => undefined)
    socket.on('close', () => {
      const wasConnected = port.connected
      port.connected = false
      port.socket = null
      sw.remove(port)
      if (port.closed) return
      // QEMU listens again once a client left, and at start-up its socket may not be there yet.
      const next = wasConnected ? Date.now() + this.connectTimeoutMs : deadline
      if (Date.now() >= next) return
      port.timer = setTimeout(() => {
        port.timer = null
        this.connect(port, next)
      }, 100)
    })
  }

  private send(port: Port, frame: Buffer): void {
    const s = port.socket
    // A card that cannot keep up loses frames, as on a real switch; the others are not held back.
    if (!s || !port.connected || s.writableLength > this.maxQueuedBytes) return
    s.write(encodeFrame(frame))
  }

  private close(port: Port): void {
    port.closed = true
    if (port.timer) clearTimeout(port.timer)
    port.timer = null
    port.socket?.destroy()
  }
}
