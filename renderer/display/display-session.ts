// One VM display on one canvas: an engine display stream (RFB bytes both ways) into the RFB state
// machine, its events onto the canvas, and the canvas's keyboard and pointer back to the guest.
import type { ClientStream } from '../../engine/api/client.ts'
import { CanvasDisplay } from './canvas-display.ts'
import { Buttons, RfbClient, type RfbEvent } from './rfb-client.ts'
import { beginSession, type DisplayStats } from './stats.ts'

export interface DisplayStreamSource {
  openStream(kind: 'display', vm: string): Promise<ClientStream>
}

export type DisplayStatus =
  | { state: 'connecting' }
  | { state: 'connected'; width: number; height: number; name: string }
  | { state: 'closed'; reason: string }
  | { state: 'failed'; message: string }

export interface DisplaySessionOptions {
  source: DisplayStreamSource
  vm: string
  canvas: HTMLCanvasElement
  onStatus?(status: DisplayStatus): void
  onResize?(width: number, height: number): void
  /** The user pressed and released Ctrl+Alt alone: give the keyboard back to the page. */
  onReleaseKeyboard?(): void
}

/** Pixels of wheel travel per RFB wheel click (a line or a page counts as one click). */
const WHEEL_STEP = 50

export class DisplaySession {
  private readonly opts: DisplaySessionOptions
  private readonly display: CanvasDisplay
  private readonly rfb: RfbClient
  private readonly stats: DisplayStats
  private stream: ClientStream | null = null
  private disposed = false
  /** Keys the guest believes are down: code → the key text at press time (its release must match). */
  private readonly pressed = new Map<string, string>()
  private buttons = 0
  private lastX = 0
  private lastY = 0
  private wheelX = 0
  private wheelY = 0
  /** Ctrl+Alt pressed with nothing else: releasing either then frees the keyboard. */
  private releaseArmed = false
  private readonly cleanups: Array<() => void> = []

  private constructor(opts: DisplaySessionOptions) {
    this.opts = opts
    this.display = new CanvasDisplay(opts.canvas)
    this.stats = beginSession(opts.vm)
    this.rfb = new RfbClient({
      send: (bytes) => {
        this.stats.bytesSent += bytes.byteLength
        this.stream?.write(bytes)
      },
      onEvent: (event) => this.onRfbEvent(event),
    })
  }

  /** Opens the VM's display stream and starts the RFB handshake; input is live once connected. */
  static async open(opts: DisplaySessionOptions): Promise<DisplaySession> {
    const session = new DisplaySession(opts)
    opts.onStatus?.({ state: 'connecting' })
    try {
      const stream = await opts.source.openStream('display', opts.vm)
      if (session.disposed) {
        void stream.close().catch(() => undefined)
        return session
      }
      session.stream = stream
      stream.onData((bytes) => {
        session.stats.bytesReceived += bytes.byteLength
        session.rfb.receive(bytes)
      })
      stream.onEnd((reason) => session.ended(reason))
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err)
      session.stats.error = message
      opts.onStatus?.({ state: 'failed', message })
      return session
    }
    session.attachInput()
    return session
  }

  get rfbClient(): RfbClient {
    return this.rfb
  }

  sendCombo(codes: readonly string[]): boolean {
    return this.rfb.sendCombo(codes)
  }

  sendCtrlAltDel(): void {
    this.rfb.sendCtrlAltDel()
  }

  /** Lets go of every key and button the guest believes is held (focus left the display). */
  releaseAll(): void {
    for (const [code, key] of this.pressed) this.rfb.sendKey(code, false, key)
    this.pressed.clear()
    if (this.buttons !== 0) {
      this.buttons = 0
      this.rfb.sendPointer(this.lastX, this.lastY, 0)
    }
    this.releaseArmed = false
  }

  dispose(): void {
    if (this.disposed) return
    this.releaseAll()
    this.disposed = true
    for (const c of this.cleanups.splice(0)) c()
    this.rfb.close()
    this.stats.connected = false
    const s = this.stream
    this.stream = null
    if (s) void s.close().catch(() => undefined)
  }

  private ended(reason: string): void {
    if (this.disposed) return
    this.stats.connected = false
    this.rfb.close()
    this.opts.onStatus?.({ state: 'closed', reason })
  }

  private onRfbEvent(event: RfbEvent): void {
    if (this.disposed) return
    const changed = this.display.apply(event)
    const s = this.stats
    switch (event.type) {
      case 'connected':
        s.connected = true
        s.width = event.width
        s.height = event.height
        this.opts.onResize?.(event.width, event.height)
        this.opts.onStatus?.({
          state: 'connected',
          width: event.width,
          height: event.height,
          name: event.name,
        })
        break
      case 'resize':
        s.width = event.width
        s.height = event.height
        this.opts.onResize?.(event.width, event.height)
        break
      case 'update-end': {
        s.updates++
        s.rects += event.rects
        if (changed) {
          const now = Date.now()
          s.framesDrawn++
          s.firstFrameAt ??= now
          s.lastFrameAt = now
        }
        break
      }
      case 'error':
        s.connected = false
        s.error = event.message
        this.opts.onStatus?.({ state: 'failed', message: event.message })
        break
      default:
        break
    }
  }

  /** Canvas-relative client coordinates → framebuffer pixels, whatever the CSS scaling. */
  private toFramebuffer(clientX: number, clientY: number): [number, number] {
    const r = this.opts.canvas.getBoundingClientRect()
    const w = this.display.width
    const h = this.display.height
    const x = r.width > 0 ? ((clientX - r.left) * w) / r.width : 0
    const y = r.height > 0 ? ((clientY - r.top) * h) / r.height : 0
    return [Math.max(0, Math.min(w - 1, Math.floor(x))), Math.max(0, Math.min(h - 1, Math.floor(y)))]
  }

  private listen<K extends keyof HTMLElementEventMap>(
    type: K,
    handler: (ev: HTMLElementEventMap[K]) => void,
    options?: AddEventListenerOptions,
  ): void {
    const canvas = this.opts.canvas
    canvas.addEventListener(type, handler, options)
    this.cleanups.push(() => canvas.removeEventListener(type, handler, options))
  }

  private attachInput(): void {
    const canvas = this.opts.canvas
    this.listen('keydown', (e) => {
      const armed = e.ctrlKey && e.altKey && !e.shiftKey && !e.metaKey
      this.releaseArmed = armed && /^(Control|Alt)(Left|Right)$/.test(e.code)
      const key = this.pressed.get(e.code) ?? e.key
      if (this.rfb.sendKey(e.code, true, key)) this.pressed.set(e.code, key)
      e.preventDefault()
      e.stopPropagation()
    })
    this.listen('keyup', (e) => {
      const key = this.pressed.get(e.code)
      if (key !== undefined) {
        this.pressed.delete(e.code)
        this.rfb.sendKey(e.code, false, key)
      }
      e.preventDefault()
      e.stopPropagation()
      if (this.releaseArmed && /^(Control|Alt)(Left|Right)$/.test(e.code)) {
        this.releaseAll()
        this.opts.onReleaseKeyboard?.()
      }
    })
    this.listen('blur', () => this.releaseAll())
    this.listen('pointerdown', (e) => {
      canvas.focus({ preventScroll: true })
      if (e.pointerType !== 'touch') canvas.setPointerCapture?.(e.pointerId)
      this.pointer(e)
      e.preventDefault()
    })
    this.listen('pointermove', (e) => this.pointer(e))
    this.listen('pointerup', (e) => {
      this.pointer(e)
      if (canvas.hasPointerCapture?.(e.pointerId)) canvas.releasePointerCapture(e.pointerId)
    })
    this.listen('pointercancel', (e) => this.pointer(e))
    this.listen('contextmenu', (e) => e.preventDefault())
    this.listen(
      'wheel',
      (e) => {
        e.preventDefault()
        const [x, y] = this.toFramebuffer(e.clientX, e.clientY)
        const unit = e.deltaMode === 0 ? 1 : WHEEL_STEP
        this.wheelX += e.deltaX * unit
        this.wheelY += e.deltaY * unit
        const click = (bit: number) => {
          this.rfb.sendPointer(x, y, this.buttons | bit)
          this.rfb.sendPointer(x, y, this.buttons)
        }
        while (Math.abs(this.wheelY) >= WHEEL_STEP) {
          click(this.wheelY < 0 ? Buttons.wheelUp : Buttons.wheelDown)
          this.wheelY -= Math.sign(this.wheelY) * WHEEL_STEP
        }
        while (Math.abs(this.wheelX) >= WHEEL_STEP) {
          click(this.wheelX < 0 ? Buttons.wheelLeft : Buttons.wheelRight)
          this.wheelX -= Math.sign(this.wheelX) * WHEEL_STEP
        }
      },
      { passive: false },
    )
  }

  private pointer(e: PointerEvent): void {
    const [x, y] = this.toFramebuffer(e.clientX, e.clientY)
    // DOM buttons: 1 left, 2 right, 4 middle. RFB: 1 left, 2 middle, 4 right.
    const b = e.buttons
    this.buttons = (b & 1 ? Buttons.left : 0) | (b & 4 ? Buttons.middle : 0) | (b & 2 ? Buttons.right : 0)
    this.lastX = x
    this.lastY = y
    this.rfb.sendPointer(x, y, this.buttons)
  }
}
