// A WebSocket stays open only while its other end answers. TCP keepalive here is two hours, and a
// client that upgraded and then fell silent (or froze, or lost its link) would otherwise hold its
// connection forever. Every real WebSocket client answers a ping by itself, browsers included, even
// in a background tab; so a socket is pinged at once after the upgrade and then at an interval, and
// one that says nothing back is cut.
import type { WebSocket } from 'ws'

export interface Liveness {
  /** The first pong (or message) must come within this after the upgrade. */
  firstMs: number
  /** Ping interval once alive. */
  intervalMs: number
  /** Intervals without a pong before the socket counts as dead. */
  missed: number
}

/** Watches `ws` until it closes; `onDead` hears why it was cut (for the log). */
export function watchLiveness(ws: WebSocket, l: Liveness, onDead?: (why: string) => void): void {
  let lastHeard = Date.now()
  let proven = false
  const heard = () => {
    lastHeard = Date.now()
    proven = true
  }
  ws.on('pong', heard)
  ws.on('message', heard)
  const cut = (why: string) => {
    onDead?.(why)
    ws.terminate()
  }
  const first = setTimeout(() => {
    if (!proven) cut(`it did not answer within ${l.firstMs} ms of the upgrade`)
  }, l.firstMs)
  // Until its first word the upgrade deadline decides; from then on, the pings.
  const timer = setInterval(() => {
    if (proven && Date.now() - lastHeard > l.intervalMs * l.missed) cut(`it missed ${l.missed} pings`)
    else ping(ws)
  }, l.intervalMs)
  first.unref()
  timer.unref()
  ws.on('close', () => {
    clearTimeout(first)
    clearInterval(timer)
  })
  ping(ws)
}

function ping(ws: WebSocket): void {
  try {
    ws.ping()
  } catch {
    /* not open after all: its close clears the timers */
  }
}
