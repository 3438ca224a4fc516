// The display session: a scripted VNC server on a fake display stream, drawing onto a fake canvas;
// the counters the end-to-end test reads; pointer scaling and keys from canvas events.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { ClientStream } from '../../engine/api/client.ts'
import { DisplaySession, type DisplayStatus } from '../../renderer/display/display-session.ts'
import { Encodings } from '../../renderer/display/rfb-client.ts'

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0))
const u16 = (n: number) => [(n >> 8) & 0xff, n & 0xff]
const u32 = (n: number) => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]

function serverInit(w: number, h: number): Uint8Array {
  return Uint8Array.from([...u16(w), ...u16(h), ...new Array<number>(16).fill(0), ...u32(0)])
}
function rawUpdate(x: number, y: number, w: number, h: number): Uint8Array {
  return Uint8Array.from([
    0,
    0,
    ...u16(1),
    ...u16(x),
    ...u16(y),
    ...u16(w),
    ...u16(h),
    ...u32(Encodings.Raw),
    ...new Array<number>(w * h * 4).fill(7),
  ])
}

class FakeImageData {
  readonly data: Uint8ClampedArray
  readonly width: number
  readonly height: number
  constructor(data: Uint8ClampedArray, width: number, height: number) {
    this.data = data
    this.width = width
    this.height = height
  }
}

function fakeCanvas() {
  const ctx = {
    putImageData: vi.fn(),
    drawImage: vi.fn(),
    fillRect: vi.fn(),
    fillStyle: '',
    imageSmoothingEnabled: true,
  }
  const target = new EventTarget()
  const canvas = Object.assign(target, {
    width: 300,
    height: 150,
    getContext: () => ctx,
    getBoundingClientRect: () => ({ left: 10, top: 20, width: 320, height: 240 }),
    focus: vi.fn(),
    blur: vi.fn(),
    setPointerCapture: vi.fn(),
    hasPointerCapture: () => false,
    releasePointerCapture: vi.fn(),
  })
  return { canvas: canvas as unknown as HTMLCanvasElement, ctx }
}

function fakeStream() {
  let onData: (b: Uint8Array) => void = () => undefined
  let onEnd: (r: string) => void = () => undefined
  const written: number[][] = []
  const stream: ClientStream = {
    channel: 3,
    onData: (h) => ((onData = h), { dispose: () => undefined }),
    onEnd: (h) => ((onEnd = h), { dispose: () => undefined }),
    write: (b) => void written.push([...(b as Uint8Array)]),
    close: vi.fn(async () => undefined),
  }
  return { stream, written, server: (b: Uint8Array) => onData(b), end: (r: string) => onEnd(r) }
}

function event(type: string, props: Record<string, unknown>): Event {
  return Object.assign(new Event(type, { cancelable: true }), props)
}

async function openSession(onReleaseKeyboard?: () => void) {
  const { canvas, ctx } = fakeCanvas()
  const s = fakeStream()
  const statuses: DisplayStatus[] = []
  const session = await DisplaySession.open({
    source: { openStream: async () => s.stream },
    vm: 'web',
    canvas,
    onStatus: (st) => statuses.push(st),
    ...(onReleaseKeyboard ? { onReleaseKeyboard } : {}),
  })
  s.server(ascii('RFB 003.008\n'))
  s.server(Uint8Array.of(1, 1, 0, 0, 0, 0))
  s.server(serverInit(640, 480))
  return { session, canvas, ctx, statuses, ...s }
}

beforeEach(() => {
  vi.stubGlobal('ImageData', FakeImageData)
  globalThis.__vireoDisplayStats = undefined
})
afterEach(() => vi.unstubAllGlobals())

describe('display session', () => {
  it('draws RFB updates on the canvas and counts them on __vireoDisplayStats', async () => {
    const { canvas, ctx, server, statuses, session } = await openSession()
    expect(statuses.at(-1)).toEqual({ state: 'connected', width: 640, height: 480, name: '' })
    expect(canvas.width).toBe(640)
    expect(canvas.height).toBe(480)
    server(rawUpdate(1, 2, 3, 4))
    server(rawUpdate(0, 0, 1, 1))
    expect(ctx.putImageData).toHaveBeenCalledTimes(2)
    const [image, x, y] = ctx.putImageData.mock.calls[0] as [FakeImageData, number, number]
    expect([image.width, image.height, x, y]).toEqual([3, 4, 1, 2])
    expect(image.data[3]).toBe(255)
    const stats = globalThis.__vireoDisplayStats
    expect(stats).toMatchObject({
      vm: 'web',
      connected: true,
      width: 640,
      height: 480,
      framesDrawn: 2,
      updates: 2,
    })
    expect(stats?.bytesReceived).toBeGreaterThan(100)
    expect(stats?.firstFrameAt).toBeTypeOf('number')
    session.dispose()
    expect(stats?.connected).toBe(false)
  })

  it('scales pointer positions from the shown size to the framebuffer', async () => {
    const { canvas, written } = await openSession()
    written.length = 0
    // Shown at 320×240 from (10, 20); the framebuffer is 640×480.
    canvas.dispatchEvent(event('pointermove', { clientX: 170, clientY: 140, buttons: 0 }))
    canvas.dispatchEvent(
      event('pointerdown', { clientX: 170, clientY: 140, buttons: 2, pointerId: 1, pointerType: 'mouse' }),
    )
    expect(written).toEqual([
      [5, 0, ...u16(320), ...u16(240)],
      [5, 4, ...u16(320), ...u16(240)],
    ])
  })

  it('sends keys by scancode, releases held keys on blur, and gives the keyboard back on Ctrl+Alt', async () => {
    const released = vi.fn()
    const { canvas, server, written } = await openSession(released)
    server(
      Uint8Array.from([
        0,
        0,
        ...u16(1),
        ...u16(0),
        ...u16(0),
        ...u16(0),
        ...u16(0),
        ...u32(Encodings.QemuExtendedKeyEvent),
      ]),
    )
    written.length = 0
    const down = event('keydown', { code: 'KeyA', key: 'a' })
    canvas.dispatchEvent(down)
    expect(down.defaultPrevented).toBe(true)
    expect(written.pop()).toEqual([255, 0, 0, 1, ...u32(0x61), ...u32(0x1e)])
    canvas.dispatchEvent(event('blur', {}))
    expect(written.pop()).toEqual([255, 0, 0, 0, ...u32(0x61), ...u32(0x1e)])
    expect(released).not.toHaveBeenCalled()
    // Ctrl+Alt alone, then releasing one of them: the page gets the keyboard back.
    canvas.dispatchEvent(event('keydown', { code: 'ControlLeft', key: 'Control', ctrlKey: true }))
    canvas.dispatchEvent(event('keydown', { code: 'AltLeft', key: 'Alt', ctrlKey: true, altKey: true }))
    canvas.dispatchEvent(event('keyup', { code: 'AltLeft', key: 'Alt', ctrlKey: true }))
    expect(released).toHaveBeenCalledTimes(1)
    // …and the guest saw both keys go up again.
    expect(written.slice(-2).map((m) => [m[3], m[11]])).toEqual([
      [0, 0x38],
      [0, 0x1d],
    ])
    // Ctrl+Alt+T is a shortcut for the guest, not a release.
    canvas.dispatchEvent(event('keydown', { code: 'ControlLeft', key: 'Control', ctrlKey: true }))
    canvas.dispatchEvent(event('keydown', { code: 'AltLeft', key: 'Alt', ctrlKey: true, altKey: true }))
    canvas.dispatchEvent(event('keydown', { code: 'KeyT', key: 't', ctrlKey: true, altKey: true }))
    canvas.dispatchEvent(event('keyup', { code: 'AltLeft', key: 'Alt', ctrlKey: true }))
    expect(released).toHaveBeenCalledTimes(1)
  })

  it('reports a failed stream open and a stream that ended', async () => {
    const { canvas } = fakeCanvas()
    const statuses: DisplayStatus[] = []
    await DisplaySession.open({
      source: { openStream: async () => Promise.reject(new Error('the VM is not running')) },
      vm: 'web',
      canvas,
      onStatus: (s) => statuses.push(s),
    })
    expect(statuses.at(-1)).toEqual({ state: 'failed', message: 'the VM is not running' })
    const s = await openSession()
    s.end('the VM stopped')
    expect(s.statuses.at(-1)).toEqual({ state: 'closed', reason: 'the VM stopped' })
  })
})
