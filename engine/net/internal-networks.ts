// The engine's internal networks: one learning switch per network name, whose ports are the
// stream sockets QEMU listens on for each card on that network (engine/qemu/argv/nic.ts), plus a
// DHCP server while a plugged card asks for one. The engine connects as the client, so a new
// engine after a crash simply connects again and the network heals. Frames only ever go from one
// such socket to another, or to the DHCP server: nothing leaves the host.
import { connect, type Socket } from 'node:net'
import { join } from 'node:path'
import { VireoError } from '../api/errors.ts'
import type { VmConfig } from '../api/vm-config.ts'
import { internalNicSocketName } from '../qemu/argv/index.ts'
import { DhcpServer } from './dhcp-server.ts'
import { LearningSwitch } from './learning-switch.ts'
import { encodeFrame, FrameReader } from './stream-framing.ts'

export interface PortSpec {
  nicId: string
  network: string
  /** The unix socket QEMU listens on for this card. */
  socketPath: string
  /** The subnet this card asks the network's DHCP server to lease from. */
  dhcpSubnet?: string
}

/** The ports a running VM's cards need. */
export function internalPorts(config: VmConfig, runtimeDir: string): PortSpec[] {
  return config.nics.flatMap((n) =>
    n.network.mode === 'internal'
      ? [
          {
            nicId: n.id,
            network: n.network.name,
            socketPath: join(runtimeDir, internalNicSocketName(n.id)),
            ...(n.network.dhcp ? { dhcpSubnet: n.network.dhcp.subnet } : {}),
          },
        ]
      : [],
  )
}

export interface InternalNetworksOptions {
  /** How long to keep trying to reach a card's socket (QEMU may still be creating it). */
  connectTimeoutMs?: number
  /** A port whose socket holds more unsent bytes than this drops frames instead of queueing them. */
  maxQueuedBytes?: number
}

/** Anything plugged into a switch: it takes the frames the switch sends its way. */
interface Endpoint {
  deliver(frame: Buffer): void
}

class SocketPort implements Endpoint {
  socket: Socket | null = null
  connected = false
  closed = false
  timer: NodeJS.Timeout | null = null
  readonly vmId: string
  readonly spec: PortSpec
  private readonly maxQueuedBytes: number

  constructor(vmId: string, spec: PortSpec, maxQueuedBytes: number) {
    this.vmId = vmId
    this.spec = spec
    this.maxQueuedBytes = maxQueuedBytes
  }

  get label(): string {
    return `${this.vmId}/${this.spec.nicId}`
  }

  deliver(frame: Buffer): void {
    const s = this.socket
    // A card that cannot keep up loses frames, as on a real switch; the others are not held back.
    if (!s || !this.connected || s.writableLength > this.maxQueuedBytes) return
    s.write(encodeFrame(frame))
  }
}

class DhcpPort implements Endpoint {
  readonly server: DhcpServer
  private readonly reply: (from: Endpoint, frame: Buffer) => void

  constructor(server: DhcpServer, reply: (from: Endpoint, frame: Buffer) => void) {
    this.server = server
    this.reply = reply
  }

  deliver(frame: Buffer): void {
    for (const r of this.server.handle(frame)) this.reply(this, r)
  }
}

interface Segment {
  sw: LearningSwitch<Endpoint>
  dhcp: DhcpPort | null
}

export class InternalNetworks {
  private readonly segments = new Map<string, Segment>()
  private readonly byVm = new Map<string, SocketPort[]>()
  private readonly connectTimeoutMs: number
  private readonly maxQueuedBytes: number

  constructor(opts: InternalNetworksOptions = {}) {
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 10_000
    this.maxQueuedBytes = opts.maxQueuedBytes ?? 4 * 1024 * 1024
  }

  /** Refuses cards that ask a network for DHCP from another subnet than its plugged cards do. */
  assertCompatible(vmId: string, specs: PortSpec[]): void {
    for (const s of specs) {
      if (!s.dhcpSubnet) continue
      const other = this.dhcpSubnetOf(s.network, vmId)
      if (other && other !== s.dhcpSubnet) {
        throw new VireoError(
          'conflict',
          `the internal network "${s.network}" already leases addresses from ${other}, not ${s.dhcpSubnet}: give the card "${s.nicId}" the same subnet, or no DHCP`,
        )
      }
    }
  }

  /** Plugs a VM's cards into their networks (at start, or when a new engine re-attaches). */
  attach(vmId: string, specs: PortSpec[]): void {
    this.detach(vmId)
    if (specs.length === 0) return
    const ports = specs.map((s) => new SocketPort(vmId, s, this.maxQueuedBytes))
    this.byVm.set(vmId, ports)
    for (const p of ports) {
      this.refreshDhcp(p.spec.network)
      this.connect(p, Date.now() + this.connectTimeoutMs)
    }
  }

  /** Unplugs a VM's cards (it stopped, or the engine lets go of it). */
  detach(vmId: string): void {
    const ports = this.byVm.get(vmId)
    if (!ports) return
    this.byVm.delete(vmId)
    for (const p of ports) {
      this.close(p)
      this.refreshDhcp(p.spec.network)
    }
  }

  /** Plugs one card hot-plugged into a running VM, leaving its other cards connected. */
  plug(vmId: string, spec: PortSpec): void {
    this.unplug(vmId, spec.nicId)
    const port = new SocketPort(vmId, spec, this.maxQueuedBytes)
    this.byVm.set(vmId, [...(this.byVm.get(vmId) ?? []), port])
    this.refreshDhcp(spec.network)
    this.connect(port, Date.now() + this.connectTimeoutMs)
  }

  /** Unplugs one card hot-unplugged from a running VM. */
  unplug(vmId: string, nicId: string): void {
    const ports = this.byVm.get(vmId) ?? []
    const port = ports.find((p) => p.spec.nicId === nicId)
    if (!port) return
    const rest = ports.filter((p) => p !== port)
    if (rest.length > 0) this.byVm.set(vmId, rest)
    else this.byVm.delete(vmId)
    this.close(port)
    this.refreshDhcp(port.spec.network)
  }

  /** Which cards are plugged into a network right now: `vmId/nicId`. */
  connectedPorts(network: string): string[] {
    return this.plugged(network)
      .filter((p) => p.connected)
      .map((p) => p.label)
  }

  /** The DHCP server of a network, while one runs. */
  dhcpServer(network: string): DhcpServer | null {
    return this.segments.get(network)?.dhcp?.server ?? null
  }

  dispose(): void {
    for (const vmId of [...this.byVm.keys()]) this.detach(vmId)
    this.segments.clear()
  }

  private plugged(network: string): SocketPort[] {
    return [...this.byVm.values()].flat().filter((p) => p.spec.network === network)
  }

  private dhcpSubnetOf(network: string, exceptVm?: string): string | undefined {
    return this.plugged(network).find((p) => p.vmId !== exceptVm && p.spec.dhcpSubnet)?.spec.dhcpSubnet
  }

  /** Kept while the engine runs, empty or not: one per network name ever used, and small. */
  private segment(network: string): Segment {
    let seg = this.segments.get(network)
    if (!seg) {
      seg = { sw: new LearningSwitch<Endpoint>(), dhcp: null }
      this.segments.set(network, seg)
    }
    return seg
  }

  /** A DHCP server runs while a plugged card asks for one, on the subnet the first of them names. */
  private refreshDhcp(network: string): void {
    const seg = this.segment(network)
    const subnet = this.dhcpSubnetOf(network)
    if (seg.dhcp && seg.dhcp.server.cidr === subnet) return
    if (seg.dhcp) seg.sw.remove(seg.dhcp)
    seg.dhcp = null
    if (!subnet) return
    seg.dhcp = new DhcpPort(new DhcpServer(subnet, network), (from, frame) => this.forward(seg, from, frame))
    seg.sw.add(seg.dhcp)
  }

  private forward(seg: Segment, from: Endpoint, frame: Buffer): void {
    for (const to of seg.sw.route(from, frame)) to.deliver(frame)
  }

  private connect(port: SocketPort, deadline: number): void {
    if (port.closed) return
    const seg = this.segment(port.spec.network)
    const reader = new FrameReader((frame) => this.forward(seg, port, frame))
    const socket = connect(port.spec.socketPath)
    port.socket = socket
    socket.on('connect', () => {
      port.connected = true
      seg.sw.add(port)
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
      seg.sw.remove(port)
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

  private close(port: SocketPort): void {
    port.closed = true
    if (port.timer) clearTimeout(port.timer)
    port.timer = null
    port.socket?.destroy()
  }
}
