// Counts a listener's open connections, per client address and in all, and refuses those beyond the
// bounds at once, before a byte of theirs is read: a client that opens connections faster than the
// deadlines close them never holds more than its share.
import { isIPv6 } from 'node:net'
import type { Socket } from 'node:net'
import { sayAndClose } from './refusal.ts'

/**
 * The address a bound applies to: IPv4 as is (also when mapped into IPv6), IPv6 by its /64, the
 * block one subscriber usually gets, so that stepping through one's own addresses does not help.
 */
export function clientKey(address: string | undefined): string {
  if (!address) return 'local'
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  if (mapped) return mapped[1]!
  if (!isIPv6(address)) return address
  const [head = '', tail = ''] = address.toLowerCase().split('::')
  const left = head ? head.split(':') : []
  const right = tail ? tail.split(':') : []
  const groups = address.includes('::')
    ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right]
    : left
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`
}

/** At most one line per reason and window, then how many more there were: a flood does not flood the log. */
export class ThrottledLog {
  private readonly windows = new Map<string, { until: number; more: number }>()
  private readonly log: (line: string) => void
  private readonly windowMs: number
  private readonly now: () => number
  constructor(log: (line: string) => void, windowMs = 10_000, now: () => number = Date.now) {
    this.log = log
    this.windowMs = windowMs
    this.now = now
  }

  say(reason: string, line: string): void {
    const t = this.now()
    const w = this.windows.get(reason)
    if (w && t < w.until) {
      w.more++
      return
    }
    if (w && w.more > 0) this.log(`${w.more} more like it: ${reason}`)
    this.windows.set(reason, { until: t + this.windowMs, more: 0 })
    this.log(line)
  }
}

export interface GuardOptions {
  perAddress: number
  total: number
  log: ThrottledLog
  /** Said in the log and in the refusal: "the serve port", "the CLI socket". */
  name: string
  /** The unix socket has one local client kind: only the total applies. */
  perAddressApplies?: boolean
}

export class ConnectionGuard {
  private readonly open = new Set<Socket>()
  private readonly perKey = new Map<string, number>()
  private readonly opts: GuardOptions
  constructor(opts: GuardOptions) {
    this.opts = opts
  }

  get size(): number {
    return this.open.size
  }

  /** Counts the socket until it closes, or refuses it (answered and closed) and says false. */
  admit(socket: Socket): boolean {
    const key = clientKey(socket.remoteAddress)
    const mine = this.perKey.get(key) ?? 0
    if (this.open.size >= this.opts.total) {
      this.opts.log.say(
        `${this.opts.name}: total bound`,
        `refused a connection to ${this.opts.name} from ${key}: ${this.opts.total} connections are open (the bound)`,
      )
      refuse(socket, `this Vireo host has ${this.opts.total} connections open, its bound; try again later`)
      return false
    }
    if (this.opts.perAddressApplies !== false && mine >= this.opts.perAddress) {
      this.opts.log.say(
        `${this.opts.name}: bound for ${key}`,
        `refused a connection to ${this.opts.name} from ${key}: it has ${mine} open (the bound per address)`,
      )
      refuse(
        socket,
        `${key} has ${mine} connections open to this Vireo host, its bound; close some and try again`,
      )
      return false
    }
    this.open.add(socket)
    this.perKey.set(key, mine + 1)
    socket.once('close', () => {
      this.open.delete(socket)
      const left = (this.perKey.get(key) ?? 1) - 1
      if (left > 0) this.perKey.set(key, left)
      else this.perKey.delete(key)
    })
    return true
  }

  /** Every connection still open, ended now: the host is stopping or the listener is gone. */
  destroyAll(): void {
    for (const s of this.open) s.destroy()
  }
}

/** A 503 with the sentence: a browser shows it, the CLI reports it, a TLS client fails at once. */
function refuse(socket: Socket, sentence: string): void {
  sayAndClose(socket, 503, sentence, { drain: true })
}

/** Destroys the socket unless `clear` is called within `ms`: one stage's deadline. */
export function deadline(socket: Socket, ms: number, onExpire: () => void): { clear(): void } {
  const timer = setTimeout(() => {
    onExpire()
    socket.destroy()
  }, ms)
  timer.unref()
  const clear = () => clearTimeout(timer)
  socket.once('close', clear)
  return { clear }
}
