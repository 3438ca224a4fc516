// The RFB (VNC) protocol state machine: bytes in, bytes and drawing events out. Pure: no DOM, no
// timers, no sockets — whatever carries the bytes (here an engine display stream) feeds `receive`
// and sends what `send` is given; whatever draws (canvas-display.ts) listens to the events.
//
// What it speaks (RFC 6143 plus QEMU's extensions), chosen for a VNC server on the same host, where
// encoding costs far more than bytes (DESIGN.md, "QEMU facts checked"): version 3.8 (3.7 and 3.3
// understood), security type None, shared ClientInit, 32-bit true colour in the server's native
// little-endian BGRX layout (QEMU then copies its surface without converting; we turn it into RGBA
// here), encodings Raw, CopyRect and Hextile (Hextile first for flat screens, Raw first while the
// screen is noise: see adapt()), the DesktopSize pseudo-encoding and QEMU's Extended Key Event,
// which carries scancodes so the guest's keymap, not the host's, decides what a key means.

import { ByteQueue } from './byte-queue.ts'
import { HextileRect } from './hextile.ts'
import { keysymFor, qemuKeycode, xtScancode } from './scancodes.ts'

export const Encodings = {
  Raw: 0,
  CopyRect: 1,
  Hextile: 5,
  DesktopSize: -223,
  QemuExtendedKeyEvent: -258,
} as const

/**
 * What we ask for by default: the local-host set. No zlib or JPEG (they only cost time here);
 * Hextile because flat screens then cost bytes per tile, not per pixel, and noise goes as raw tiles.
 */
export const LOCAL_ENCODINGS: readonly number[] = [
  Encodings.CopyRect,
  Encodings.Hextile,
  Encodings.Raw,
  Encodings.DesktopSize,
  Encodings.QemuExtendedKeyEvent,
]

/**
 * The same set with Raw first (QEMU uses the first one it knows), while the screen is noise: video,
 * photos. Hextile then saves no bytes, and analysing every tile costs QEMU and decoding costs the
 * page more than Raw (measured with a full-screen noise repaint: about 2.3 ms of QEMU's VNC
 * thread and 1 ms of the page per 1024x768 frame).
 */
export const NOISE_ENCODINGS: readonly number[] = [
  Encodings.CopyRect,
  Encodings.Raw,
  Encodings.Hextile,
  Encodings.DesktopSize,
  Encodings.QemuExtendedKeyEvent,
]

export type RfbPhase =
  | 'version'
  | 'security-types'
  | 'security-33'
  | 'security-result'
  | 'server-init'
  | 'normal'
  | 'failed'
  | 'closed'

export type RfbEvent =
  | { type: 'connected'; width: number; height: number; name: string }
  | { type: 'resize'; width: number; height: number }
  /** Pixels in RGBA order, alpha 255, in their own ArrayBuffer (transferable). */
  | { type: 'raw'; x: number; y: number; width: number; height: number; rgba: Uint8ClampedArray<ArrayBuffer> }
  | { type: 'copy'; x: number; y: number; width: number; height: number; srcX: number; srcY: number }
  /** One FramebufferUpdate is complete; `pixels` tells whether it changed any. */
  | { type: 'update-end'; rects: number; pixels: boolean }
  | { type: 'bell' }
  | { type: 'clipboard'; text: string }
  | { type: 'error'; message: string }

export interface RfbClientOptions {
  send(bytes: Uint8Array): void
  onEvent(event: RfbEvent): void
  /**
   * Encodings to request, in order of preference. Default: LOCAL_ENCODINGS, switching to
   * NOISE_ENCODINGS and back as the screen's content goes from flat to noise and back.
   */
  encodings?: readonly number[]
}

export interface RfbCounters {
  bytesReceived: number
  bytesSent: number
  updates: number
  rects: number
  /** Updates that changed pixels. */
  frames: number
}

/** RFB pointer button bits. */
export const Buttons = {
  left: 1,
  middle: 2,
  right: 4,
  wheelUp: 8,
  wheelDown: 16,
  wheelLeft: 32,
  wheelRight: 64,
} as const

const MAX_NAME = 4096
const MAX_TEXT = 1 << 20

export class RfbClient {
  private readonly opts: RfbClientOptions
  private readonly queue = new ByteQueue()
  private minor = 8
  private phaseNow: RfbPhase = 'version'
  private fbWidth = 0
  private fbHeight = 0
  private rectsLeft = 0
  private rectsInUpdate = 0
  private pixelsInUpdate = false
  private resized = false
  private inUpdate = false
  /** A Hextile rectangle half received. */
  private hextile: HextileRect | null = null
  private extKeys = false
  private encodings: readonly number[]
  /** Whether the client picks between LOCAL_ENCODINGS and NOISE_ENCODINGS itself (see adapt()). */
  private readonly adaptive: boolean
  /** Large updates in a row that Hextile sent as (nearly) all raw tiles. */
  private noisyUpdates = 0
  /** This update's pixels in Hextile rectangles (while Hextile is first) or sampled Raw ones. */
  private judgedArea = 0
  /** The bytes those Hextile rectangles took. */
  private hextileBytes = 0
  /** Tiles sampled from this update's Raw rectangles, and those of one or two colours. */
  private sampledTiles = 0
  private flatTiles = 0
  readonly counters: RfbCounters = { bytesReceived: 0, bytesSent: 0, updates: 0, rects: 0, frames: 0 }

  constructor(opts: RfbClientOptions) {
    this.opts = opts
    this.encodings = opts.encodings ?? LOCAL_ENCODINGS
    this.adaptive = opts.encodings === undefined
  }

  get phase(): RfbPhase {
    return this.phaseNow
  }
  get width(): number {
    return this.fbWidth
  }
  get height(): number {
    return this.fbHeight
  }
  /** True once the server acknowledged QEMU's Extended Key Event (scancodes reach the guest). */
  get extendedKeys(): boolean {
    return this.extKeys
  }
  /** The encodings asked for now, in order of preference. */
  get requestedEncodings(): readonly number[] {
    return this.encodings
  }

  /** Bytes from the server. Never throws: a protocol error ends in an `error` event and `failed`. */
  receive(bytes: Uint8Array): void {
    if (this.phaseNow === 'failed' || this.phaseNow === 'closed') return
    this.counters.bytesReceived += bytes.byteLength
    this.queue.push(bytes)
    try {
      while (this.step()) {
        /* keep parsing while whole messages are there */
      }
    } catch (err) {
      this.fail(err instanceof Error ? err.message : String(err))
    }
  }

  /** Stops parsing and sending; what arrives later is dropped. */
  close(): void {
    if (this.phaseNow !== 'failed') this.phaseNow = 'closed'
    this.queue.clear()
  }

  /**
   * A key by its physical position (KeyboardEvent.code) and, as a hint, the character it made
   * (KeyboardEvent.key). Returns false when nothing could be sent (unknown key, or not connected).
   */
  sendKey(code: string, down: boolean, key?: string): boolean {
    if (this.phaseNow !== 'normal') return false
    const xt = xtScancode(code)
    const keysym = keysymFor(code, key)
    if (this.extKeys && xt !== undefined) {
      const m = new Uint8Array(12)
      const v = new DataView(m.buffer)
      m[0] = 255
      m[1] = 0
      v.setUint16(2, down ? 1 : 0)
      v.setUint32(4, keysym)
      v.setUint32(8, qemuKeycode(xt))
      this.write(m)
      return true
    }
    // Before (or without) QEMU's extension: a plain KeyEvent, which needs a keysym.
    if (keysym === 0) return false
    const m = new Uint8Array(8)
    m[0] = 4
    m[1] = down ? 1 : 0
    new DataView(m.buffer).setUint32(4, keysym)
    this.write(m)
    return true
  }

  /** Ctrl+Alt+Del, pressed and released, which a host OS would never let a page send. */
  sendCtrlAltDel(): boolean {
    return this.sendCombo(['ControlLeft', 'AltLeft', 'Delete'])
  }

  /** Presses the keys (KeyboardEvent.code values) in order and releases them in reverse. */
  sendCombo(codes: readonly string[]): boolean {
    if (this.phaseNow !== 'normal') return false
    for (const k of codes) this.sendKey(k, true)
    for (const k of [...codes].reverse()) this.sendKey(k, false)
    return true
  }

  /** An absolute pointer position in framebuffer pixels and the RFB button mask (see Buttons). */
  sendPointer(x: number, y: number, buttons: number): boolean {
    if (this.phaseNow !== 'normal') return false
    const cx = Math.max(0, Math.min(Math.max(0, this.fbWidth - 1), Math.round(x)))
    const cy = Math.max(0, Math.min(Math.max(0, this.fbHeight - 1), Math.round(y)))
    const m = new Uint8Array(6)
    const v = new DataView(m.buffer)
    m[0] = 5
    m[1] = buttons & 0xff
    v.setUint16(2, cx)
    v.setUint16(4, cy)
    this.write(m)
    return true
  }

  /** Asks for a whole new frame (after a resize, or to recover a damaged canvas). */
  requestFullUpdate(): void {
    if (this.phaseNow === 'normal') this.requestUpdate(false)
  }

  private write(bytes: Uint8Array): void {
    this.counters.bytesSent += bytes.byteLength
    this.opts.send(bytes)
  }

  private emit(event: RfbEvent): void {
    this.opts.onEvent(event)
  }

  private fail(message: string): void {
    if (this.phaseNow === 'failed' || this.phaseNow === 'closed') return
    this.phaseNow = 'failed'
    this.queue.clear()
    this.emit({ type: 'error', message })
  }

  private requestUpdate(incremental: boolean): void {
    const m = new Uint8Array(10)
    const v = new DataView(m.buffer)
    m[0] = 3
    m[1] = incremental ? 1 : 0
    v.setUint16(2, 0)
    v.setUint16(4, 0)
    v.setUint16(6, this.fbWidth)
    v.setUint16(8, this.fbHeight)
    this.write(m)
  }

  /** Parses one unit if it is complete; false when more bytes are needed (or parsing stopped). */
  private step(): boolean {
    const q = this.queue
    switch (this.phaseNow) {
      case 'version': {
        if (q.length < 12) return false
        const text = latin1(q.read(12))
        const m = /^RFB (\d{3})\.(\d{3})\n$/.exec(text)
        if (!m) throw new Error('the display did not answer as a VNC server')
        const major = Number(m[1])
        const minor = Number(m[2])
        if (major !== 3) throw new Error(`the display speaks RFB ${major}.${minor}, which Vireo does not`)
        this.minor = minor >= 8 ? 8 : minor === 7 ? 7 : 3
        this.write(ascii(`RFB 003.00${this.minor}\n`))
        this.phaseNow = this.minor >= 7 ? 'security-types' : 'security-33'
        return true
      }
      case 'security-types': {
        if (q.length < 1) return false
        const n = q.peekU8(0)
        if (n === 0) {
          const reason = this.readReason(1)
          if (reason === null) return false
          throw new Error(`the display refused the connection: ${reason}`)
        }
        if (q.length < 1 + n) return false
        q.skip(1)
        const types = [...q.read(n)]
        if (!types.includes(1)) {
          throw new Error(
            `the display requires authentication (security types ${types.join(', ')}); Vireo's display needs type 1 (None)`,
          )
        }
        this.write(Uint8Array.of(1))
        // RFB 3.7 sends no SecurityResult for None; 3.8 always does.
        if (this.minor === 8) this.phaseNow = 'security-result'
        else this.clientInit()
        return true
      }
      case 'security-33': {
        if (q.length < 4) return false
        const type = q.peekU32(0)
        if (type === 0) {
          const reason = this.readReason(4)
          if (reason === null) return false
          throw new Error(`the display refused the connection: ${reason}`)
        }
        q.skip(4)
        if (type !== 1) throw new Error(`the display requires authentication (security type ${type})`)
        this.clientInit()
        return true
      }
      case 'security-result': {
        if (q.length < 4) return false
        const result = q.peekU32(0)
        if (result === 0) {
          q.skip(4)
          this.clientInit()
          return true
        }
        const reason = this.readReason(4)
        if (reason === null) return false
        throw new Error(`the display refused the connection: ${reason}`)
      }
      case 'server-init': {
        if (q.length < 24) return false
        const nameLength = q.peekU32(20)
        if (nameLength > MAX_NAME) throw new Error('the display sent an implausible desktop name')
        if (q.length < 24 + nameLength) return false
        const width = q.peekU16(0)
        const height = q.peekU16(2)
        q.skip(24)
        const name = utf8(q.read(nameLength))
        this.fbWidth = width
        this.fbHeight = height
        this.phaseNow = 'normal'
        this.sendPixelFormat()
        this.sendEncodings()
        this.requestUpdate(false)
        this.emit({ type: 'connected', width, height, name })
        return true
      }
      case 'normal':
        return this.inUpdate ? this.stepRect() : this.stepMessage()
      case 'failed':
      case 'closed':
        return false
    }
  }

  /** A reason string (u32 length + text) after `skipBytes` bytes; null while incomplete. */
  private readReason(skipBytes: number): string | null {
    const q = this.queue
    if (q.length < skipBytes + 4) return null
    const len = q.peekU32(skipBytes)
    if (len > MAX_TEXT) return 'no reason given'
    if (q.length < skipBytes + 4 + len) return null
    q.skip(skipBytes + 4)
    return utf8(q.read(len)) || 'no reason given'
  }

  private clientInit(): void {
    this.write(Uint8Array.of(1)) // shared: other viewers stay connected
    this.phaseNow = 'server-init'
  }

  private sendPixelFormat(): void {
    const m = new Uint8Array(20)
    const v = new DataView(m.buffer)
    m[0] = 0 // SetPixelFormat
    m[4] = 32 // bits per pixel
    m[5] = 24 // depth
    m[6] = 0 // little-endian: bytes arrive as B, G, R, X
    m[7] = 1 // true colour
    v.setUint16(8, 255)
    v.setUint16(10, 255)
    v.setUint16(12, 255)
    m[14] = 16 // red shift
    m[15] = 8 // green shift
    m[16] = 0 // blue shift
    this.write(m)
  }

  private sendEncodings(): void {
    const m = new Uint8Array(4 + 4 * this.encodings.length)
    const v = new DataView(m.buffer)
    m[0] = 2
    v.setUint16(2, this.encodings.length)
    this.encodings.forEach((e, i) => v.setInt32(4 + 4 * i, e))
    this.write(m)
  }

  private stepMessage(): boolean {
    const q = this.queue
    if (q.length < 1) return false
    const type = q.peekU8(0)
    switch (type) {
      case 0: {
        // FramebufferUpdate: type, padding, number of rectangles.
        if (q.length < 4) return false
        this.rectsLeft = q.peekU16(2)
        q.skip(4)
        this.inUpdate = true
        this.rectsInUpdate = 0
        this.pixelsInUpdate = false
        this.resized = false
        this.judgedArea = 0
        this.hextileBytes = 0
        this.sampledTiles = 0
        this.flatTiles = 0
        // Ask for the next update now, not after this one's last byte: QEMU then starts the next
        // frame as soon as it has handed this one to the socket, instead of idling for the whole
        // relay (QEMU → engine → page) and the request's way back (measured here: 6 → 12 frames/s in Chromium).
        if (this.phaseNow === 'normal') this.requestUpdate(true)
        return true
      }
      case 1: {
        // SetColourMapEntries: never used with true colour, but skipped whole if sent.
        if (q.length < 6) return false
        const n = q.peekU16(4)
        if (q.length < 6 + 6 * n) return false
        q.skip(6 + 6 * n)
        return true
      }
      case 2:
        q.skip(1)
        this.emit({ type: 'bell' })
        return true
      case 3: {
        // ServerCutText: type, 3 padding, length, Latin-1 text.
        if (q.length < 8) return false
        const len = q.peekU32(4)
        if (len > MAX_TEXT) throw new Error('the display sent an oversized clipboard')
        if (q.length < 8 + len) return false
        q.skip(8)
        this.emit({ type: 'clipboard', text: latin1(q.read(len)) })
        return true
      }
      default:
        throw new Error(`the display sent an unknown message (type ${type})`)
    }
  }

  private stepRect(): boolean {
    const q = this.queue
    if (this.rectsLeft === 0) {
      this.finishUpdate()
      return true
    }
    if (this.hextile) return this.stepHextile()
    if (q.length < 12) return false
    const x = q.peekU16(0)
    const y = q.peekU16(2)
    const width = q.peekU16(4)
    const height = q.peekU16(6)
    const encoding = q.peekS32(8)
    switch (encoding) {
      case Encodings.Raw: {
        const size = width * height * 4
        if (q.length < 12 + size) return false
        q.skip(12)
        const rgba = new Uint8ClampedArray(size)
        q.readInto(new Uint8Array(rgba.buffer), size)
        bgrxToRgba(rgba)
        if (this.adaptive && this.encodings === NOISE_ENCODINGS) this.sampleTiles(rgba, width, height)
        this.rectDone(true)
        if (size > 0) this.emit({ type: 'raw', x, y, width, height, rgba })
        return true
      }
      case Encodings.Hextile: {
        q.skip(12)
        this.hextile = new HextileRect(x, y, width, height)
        return true
      }
      case Encodings.CopyRect: {
        if (q.length < 16) return false
        const srcX = q.peekU16(12)
        const srcY = q.peekU16(14)
        q.skip(16)
        this.rectDone(true)
        this.emit({ type: 'copy', x, y, width, height, srcX, srcY })
        return true
      }
      case Encodings.DesktopSize: {
        q.skip(12)
        this.fbWidth = width
        this.fbHeight = height
        this.resized = true
        this.rectDone(false)
        this.emit({ type: 'resize', width, height })
        return true
      }
      case Encodings.QemuExtendedKeyEvent: {
        q.skip(12)
        this.extKeys = true
        this.rectDone(false)
        return true
      }
      default:
        throw new Error(`the display sent a rectangle in an encoding Vireo did not ask for (${encoding})`)
    }
  }

  private stepHextile(): boolean {
    const h = this.hextile!
    const before = this.queue.length
    const done = h.decode(this.queue)
    this.hextileBytes += before - this.queue.length
    if (!done) return false
    this.hextile = null
    this.judgedArea += h.width * h.height
    this.rectDone(true)
    if (h.width > 0 && h.height > 0) {
      this.emit({ type: 'raw', x: h.x, y: h.y, width: h.width, height: h.height, rgba: h.rgba })
    }
    return true
  }

  private rectDone(pixels: boolean): void {
    this.rectsLeft--
    this.rectsInUpdate++
    this.counters.rects++
    if (pixels) this.pixelsInUpdate = true
  }

  /**
   * Picks Raw or Hextile for what the screen shows now, judged on updates covering at least a
   * quarter of it. Hextile goes first until three such updates in a row came as raw tiles all but
   * entirely; Raw goes first until a sample of a Raw update finds a third of its tiles in one or
   * two colours, which Hextile sends in a few bytes. QEMU takes the new order from the next update.
   */
  private adapt(): void {
    const large = this.judgedArea * 4 >= this.fbWidth * this.fbHeight && this.judgedArea > 0
    if (this.encodings === LOCAL_ENCODINGS) {
      if (!large) return
      this.noisyUpdates = this.hextileBytes >= 0.9 * 4 * this.judgedArea ? this.noisyUpdates + 1 : 0
      if (this.noisyUpdates < 3) return
      this.encodings = NOISE_ENCODINGS
    } else {
      if (!large || this.flatTiles * 3 < this.sampledTiles) return
      this.encodings = LOCAL_ENCODINGS
    }
    this.noisyUpdates = 0
    this.sendEncodings()
  }

  /** Looks at a spread of the rectangle's 16x16 tiles and counts those of at most two colours. */
  private sampleTiles(rgba: Uint8ClampedArray<ArrayBuffer>, width: number, height: number): void {
    const words = new Uint32Array(rgba.buffer, 0, width * height)
    const across = Math.ceil(width / 16)
    const down = Math.ceil(height / 16)
    const n = Math.min(SAMPLE_TILES, across * down)
    for (let i = 0; i < n; i++) {
      // Rows evenly, columns stepped by a prime: the sample covers the rectangle, not one column.
      const tx = ((i * 37) % across) * 16
      const ty = Math.floor((i * down) / n) * 16
      const tw = Math.min(16, width - tx)
      const th = Math.min(16, height - ty)
      const a = words[ty * width + tx]!
      let b = a
      let colours = 1
      for (let y = ty; y < ty + th && colours < 3; y++) {
        for (let x = tx; x < tx + tw; x++) {
          const v = words[y * width + x]!
          if (v === a || v === b) continue
          if (colours === 1) {
            b = v
            colours = 2
          } else {
            colours = 3
            break
          }
        }
      }
      this.sampledTiles++
      if (colours < 3) this.flatTiles++
    }
    this.judgedArea += width * height
  }

  private finishUpdate(): void {
    this.inUpdate = false
    this.counters.updates++
    if (this.pixelsInUpdate) this.counters.frames++
    this.emit({ type: 'update-end', rects: this.rectsInUpdate, pixels: this.pixelsInUpdate })
    if (this.adaptive && this.pixelsInUpdate) this.adapt()
    // The next incremental update was asked for when this one began; after a resize the whole new
    // screen is wanted, not a difference.
    if (this.phaseNow === 'normal' && this.resized) this.requestUpdate(false)
  }
}

const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1

/** How many 16x16 tiles of a Raw rectangle are looked at to judge whether Hextile would pay. */
const SAMPLE_TILES = 32

/** In place: B,G,R,X → R,G,B,255. */
export function bgrxToRgba(px: Uint8ClampedArray | Uint8Array): void {
  const n = px.length & ~3
  if (LITTLE_ENDIAN && px.byteOffset % 4 === 0) {
    // One 32-bit word per pixel: X<<24|R<<16|G<<8|B becomes 0xFF<<24|B<<16|G<<8|R.
    const words = new Uint32Array(px.buffer, px.byteOffset, n / 4)
    for (let i = 0; i < words.length; i++) {
      const v = words[i] as number
      words[i] = 0xff000000 | ((v & 0xff) << 16) | (v & 0xff00) | ((v >>> 16) & 0xff)
    }
    return
  }
  for (let i = 0; i < n; i += 4) {
    const b = px[i] as number
    px[i] = px[i + 2] as number
    px[i + 2] = b
    px[i + 3] = 255
  }
}

function latin1(bytes: Uint8Array): string {
  let s = ''
  for (const b of bytes) s += String.fromCharCode(b)
  return s
}

function utf8(bytes: Uint8Array): string {
  return new TextDecoder('utf-8', { fatal: false }).decode(bytes)
}

function ascii(text: string): Uint8Array {
  const out = new Uint8Array(text.length)
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0x7f
  return out
}
