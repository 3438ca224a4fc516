// Counters of the display, readable from outside the page (the end-to-end test and the benchmark
// read `window.__vireoDisplayStats`): proof that pixels arrive through RFB, and how fast.

export interface DisplayStats {
  /** The VM whose display is (or was last) shown. */
  vm: string | null
  connected: boolean
  width: number
  height: number
  /** FramebufferUpdates that changed pixels on the canvas, this session. */
  framesDrawn: number
  /** All FramebufferUpdates, this session (some only carry a resize or an acknowledgement). */
  updates: number
  rects: number
  bytesReceived: number
  bytesSent: number
  /** Display sessions opened since the page loaded. */
  sessions: number
  /** Date.now() when this session was opened, its first pixels drawn, its latest frame drawn. */
  openedAt: number | null
  firstFrameAt: number | null
  lastFrameAt: number | null
  /** Why the last session failed, in plain words. */
  error: string | null
}

declare global {
  var __vireoDisplayStats: DisplayStats | undefined
}

export function displayStats(): DisplayStats {
  globalThis.__vireoDisplayStats ??= {
    vm: null,
    connected: false,
    width: 0,
    height: 0,
    framesDrawn: 0,
    updates: 0,
    rects: 0,
    bytesReceived: 0,
    bytesSent: 0,
    sessions: 0,
    openedAt: null,
    firstFrameAt: null,
    lastFrameAt: null,
    error: null,
  }
  return globalThis.__vireoDisplayStats
}

/** Starts the per-session counters afresh for a new display session of `vm`. */
export function beginSession(vm: string): DisplayStats {
  const s = displayStats()
  Object.assign(s, {
    vm,
    connected: false,
    width: 0,
    height: 0,
    framesDrawn: 0,
    updates: 0,
    rects: 0,
    bytesReceived: 0,
    bytesSent: 0,
    openedAt: Date.now(),
    firstFrameAt: null,
    lastFrameAt: null,
    error: null,
  } satisfies Partial<DisplayStats>)
  s.sessions++
  return s
}
