// The renderer's RFB client against scripted server bytes: handshake, Raw, CopyRect, DesktopSize,
// QEMU extended key events and pointer events, byte for byte.
import { describe, expect, it } from 'vitest'
import { ByteQueue } from '../../renderer/display/byte-queue.ts'
import {
  bgrxToRgba,
  Buttons,
  Encodings,
  LOCAL_ENCODINGS,
  NOISE_ENCODINGS,
  RfbClient,
  type RfbEvent,
} from '../../renderer/display/rfb-client.ts'

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0))

function u16(n: number): number[] {
  return [(n >> 8) & 0xff, n & 0xff]
}
function u32(n: number): number[] {
  return [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]
}
function s32(n: number): number[] {
  return u32(n >>> 0)
}

function serverInit(width: number, height: number, name: string): Uint8Array {
  const pf = [32, 24, 0, 1, ...u16(255), ...u16(255), ...u16(255), 16, 8, 0, 0, 0, 0]
  return Uint8Array.from([...u16(width), ...u16(height), ...pf, ...u32(name.length), ...ascii(name)])
}

function rect(x: number, y: number, w: number, h: number, encoding: number, body: number[] = []): number[] {
  return [...u16(x), ...u16(y), ...u16(w), ...u16(h), ...s32(encoding), ...body]
}

function update(...rects: number[][]): Uint8Array {
  return Uint8Array.from([0, 0, ...u16(rects.length), ...rects.flat()])
}

function harness() {
  const sent: Uint8Array[] = []
  const events: RfbEvent[] = []
  const rfb = new RfbClient({ send: (b) => sent.push(b.slice()), onEvent: (e) => events.push(e) })
  return { rfb, sent, events, take: () => sent.splice(0).map((b) => [...b]) }
}

/** A client through the whole 3.8 handshake onto a width×height framebuffer. */
function connected(width = 4, height = 2) {
  const h = harness()
  h.rfb.receive(ascii('RFB 003.008\n'))
  h.rfb.receive(Uint8Array.of(1, 1))
  h.rfb.receive(Uint8Array.of(0, 0, 0, 0))
  h.rfb.receive(serverInit(width, height, 'QEMU (vm)'))
  h.take()
  h.events.splice(0)
  return h
}

describe('RFB handshake', () => {
  it('speaks 3.8 with security None, shares the session and sets pixel format, encodings and a full request', () => {
    const { rfb, take, events } = harness()
    rfb.receive(ascii('RFB 003.008\n'))
    expect(take()).toEqual([[...ascii('RFB 003.008\n')]])
    rfb.receive(Uint8Array.of(2, 2, 1)) // offers VNC auth and None: None is picked
    expect(take()).toEqual([[1]])
    expect(rfb.phase).toBe('security-result')
    rfb.receive(Uint8Array.of(0, 0, 0, 0))
    expect(take()).toEqual([[1]]) // ClientInit, shared
    rfb.receive(serverInit(640, 480, 'QEMU (web)'))
    expect(rfb.phase).toBe('normal')
    const [pixelFormat, encodings, request] = take()
    // SetPixelFormat: 32 bpp, depth 24, little-endian, true colour, max 255, shifts R16 G8 B0 (BGRX in memory).
    expect(pixelFormat).toEqual([0, 0, 0, 0, 32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0])
    expect(encodings).toEqual([
      2,
      0,
      ...u16(5),
      ...s32(Encodings.CopyRect),
      ...s32(Encodings.Hextile),
      ...s32(Encodings.Raw),
      ...s32(Encodings.DesktopSize),
      ...s32(Encodings.QemuExtendedKeyEvent),
    ])
    expect(request).toEqual([3, 0, ...u16(0), ...u16(0), ...u16(640), ...u16(480)])
    expect(events).toEqual([{ type: 'connected', width: 640, height: 480, name: 'QEMU (web)' }])
  })

  it('parses the handshake fed one byte at a time', () => {
    const { rfb, events } = harness()
    const all = [
      ...ascii('RFB 003.008\n'),
      1,
      1,
      0,
      0,
      0,
      0,
      ...serverInit(8, 8, 'x'),
      ...update(rect(0, 0, 1, 1, Encodings.Raw, [1, 2, 3, 0])),
    ]
    for (const b of all) rfb.receive(Uint8Array.of(b))
    expect(events.map((e) => e.type)).toEqual(['connected', 'raw', 'update-end'])
  })

  it('understands an RFB 3.3 server (security type as a u32, no result)', () => {
    const { rfb, take } = harness()
    rfb.receive(ascii('RFB 003.003\n'))
    expect(take()).toEqual([[...ascii('RFB 003.003\n')]])
    rfb.receive(Uint8Array.of(...u32(1)))
    expect(take()).toEqual([[1]])
    rfb.receive(serverInit(2, 2, ''))
    expect(rfb.phase).toBe('normal')
  })

  it('reports a server that wants a password in plain words', () => {
    const { rfb, events } = harness()
    rfb.receive(ascii('RFB 003.008\n'))
    rfb.receive(Uint8Array.of(1, 2))
    expect(rfb.phase).toBe('failed')
    expect(events).toEqual([{ type: 'error', message: expect.stringMatching(/requires authentication/) }])
  })

  it('reports the reason of a refused connection', () => {
    const { rfb, events } = harness()
    rfb.receive(ascii('RFB 003.008\n'))
    rfb.receive(Uint8Array.from([0, ...u32(9), ...ascii('too many!')]))
    expect(events).toEqual([{ type: 'error', message: 'the display refused the connection: too many!' }])
  })

  it('rejects something that is not a VNC server', () => {
    const { rfb, events } = harness()
    rfb.receive(ascii('HTTP/1.1 400'))
    expect(rfb.phase).toBe('failed')
    expect(events[0]?.type).toBe('error')
  })
})

describe('RFB framebuffer updates', () => {
  it('turns a Raw rectangle from BGRX into RGBA and asks for the next incremental update', () => {
    const { rfb, events, take } = connected(4, 2)
    rfb.receive(update(rect(1, 1, 2, 1, Encodings.Raw, [0x10, 0x20, 0x30, 0x00, 0x40, 0x50, 0x60, 0x99])))
    expect(events).toHaveLength(2)
    const raw = events[0]
    expect(raw).toMatchObject({ type: 'raw', x: 1, y: 1, width: 2, height: 1 })
    if (raw?.type !== 'raw') throw new Error('no raw event')
    expect([...raw.rgba]).toEqual([0x30, 0x20, 0x10, 255, 0x60, 0x50, 0x40, 255])
    expect(raw.rgba.byteOffset).toBe(0)
    expect(raw.rgba.buffer.byteLength).toBe(8) // its own, transferable buffer
    expect(events[1]).toEqual({ type: 'update-end', rects: 1, pixels: true })
    expect(take()).toEqual([[3, 1, ...u16(0), ...u16(0), ...u16(4), ...u16(2)]])
    expect(rfb.counters).toMatchObject({ updates: 1, frames: 1, rects: 1 })
  })

  it('decodes Hextile: raw tiles, background and foreground carried over, coloured subrects, edge tiles', () => {
    const { rfb, events } = connected(20, 2)
    const px = (b: number, g: number, r: number) => [b, g, r, 0]
    // A 20x2 rectangle is two tiles: 16x2, then a 4x2 edge tile.
    const tile1 = [
      2 | 4 | 8, // background, foreground, subrects
      ...px(0, 0, 0x10), // background: red 0x10
      ...px(0, 0x20, 0), // foreground: green 0x20
      1, // one subrect in the foreground colour
      (2 << 4) | 1, // at x 2, y 1
      (1 << 4) | 0, // 2 wide, 1 high
    ]
    const tile2 = [1, ...Array.from({ length: 8 }, (_, i) => px(i, 0, 0)).flat()] // raw: blue = index
    const bytes = update(rect(0, 0, 20, 2, Encodings.Hextile, [...tile1, ...tile2]))
    // Fed a byte at a time: the decoder resumes at any cut.
    for (let i = 0; i < bytes.length; i++) rfb.receive(bytes.subarray(i, i + 1))
    expect(events.map((e) => e.type)).toEqual(['raw', 'update-end'])
    const raw = events[0]
    if (raw?.type !== 'raw') throw new Error('no raw event')
    const at = (x: number, y: number) => [...raw.rgba.subarray((y * 20 + x) * 4, (y * 20 + x) * 4 + 4)]
    expect(at(0, 0)).toEqual([0x10, 0, 0, 255])
    expect(at(2, 1)).toEqual([0, 0x20, 0, 255])
    expect(at(3, 1)).toEqual([0, 0x20, 0, 255])
    expect(at(4, 1)).toEqual([0x10, 0, 0, 255])
    expect(at(16, 0)).toEqual([0, 0, 0, 255])
    expect(at(19, 1)).toEqual([0, 0, 7, 255])
  })

  it('fills Hextile tiles of background only, whichever colour and row they are in', () => {
    const { rfb, events } = connected(40, 20)
    // 3 tiles across (16, 16, 8 wide), 2 down (16, 4 high).
    const bytes = update(
      rect(0, 0, 40, 20, Encodings.Hextile, [
        ...[2, 1, 2, 3, 0], // background 1,2,3
        0, // carried over
        ...[2, 4, 5, 6, 0], // background 4,5,6
        0, // next row of tiles, still 4,5,6
        ...[2 | 4 | 8, 7, 8, 9, 0, 10, 11, 12, 0, 1, 0x00, 0x00], // background 7,8,9, a 1x1 subrect in 10,11,12
        0,
      ]),
    )
    for (let i = 0; i < bytes.length; i++) rfb.receive(bytes.subarray(i, i + 1))
    const raw = events[0]
    if (raw?.type !== 'raw') throw new Error('no raw event')
    const at = (x: number, y: number) => [...raw.rgba.subarray((y * 40 + x) * 4, (y * 40 + x) * 4 + 3)]
    expect([at(0, 0), at(31, 15), at(32, 0), at(39, 15)]).toEqual([
      [3, 2, 1],
      [3, 2, 1],
      [6, 5, 4],
      [6, 5, 4],
    ])
    expect([at(0, 16), at(15, 19), at(16, 16), at(17, 16), at(39, 19)]).toEqual([
      [6, 5, 4],
      [6, 5, 4],
      [12, 11, 10],
      [9, 8, 7],
      [9, 8, 7],
    ])
  })

  it('clips a Hextile subrect that reaches past its tile instead of drawing outside it', () => {
    const { rfb, events } = connected(4, 4)
    rfb.receive(
      update(rect(0, 0, 4, 4, Encodings.Hextile, [2 | 8 | 16, 1, 2, 3, 0, 1, 9, 9, 9, 0, 0x22, 0xff])),
    )
    const raw = events[0]
    if (raw?.type !== 'raw') throw new Error('no raw event')
    expect(raw.rgba.byteLength).toBe(4 * 4 * 4)
    expect([...raw.rgba.subarray(60, 64)]).toEqual([9, 9, 9, 255])
  })

  it('asks for Raw first while Hextile brings only noise, and for Hextile again once the screen is flat', () => {
    const { rfb, take } = connected(32, 16)
    const request = [3, 1, ...u16(0), ...u16(0), ...u16(32), ...u16(16)]
    const setEncodings = (list: readonly number[]) => [2, 0, ...u16(list.length), ...list.flatMap(s32)]
    const noise = (n: number, seed: number) =>
      Array.from({ length: n }, (_, i) => (i * 97 + seed * 31) & 0xff)
    // Two 16x16 tiles, both raw: Hextile saved nothing.
    const noisy = (seed: number) =>
      update(rect(0, 0, 32, 16, Encodings.Hextile, [1, ...noise(1024, seed), 1, ...noise(1024, seed + 1)]))
    rfb.receive(noisy(1))
    rfb.receive(noisy(2))
    expect(take()).toEqual([request, request])
    rfb.receive(noisy(3))
    expect(take()).toEqual([request, setEncodings(NOISE_ENCODINGS)])
    expect(rfb.requestedEncodings).toBe(NOISE_ENCODINGS)
    // Noise as Raw keeps Raw first; a screen of one colour brings Hextile back at once.
    rfb.receive(update(rect(0, 0, 32, 16, Encodings.Raw, noise(2048, 5))))
    expect(take()).toEqual([request])
    rfb.receive(update(rect(0, 0, 32, 16, Encodings.Raw, new Array<number>(2048).fill(0x40))))
    expect(take()).toEqual([request, setEncodings(LOCAL_ENCODINGS)])
    // Small updates judge nothing.
    for (let i = 0; i < 4; i++) {
      rfb.receive(update(rect(0, 0, 16, 4, Encodings.Hextile, [1, ...noise(256, i)])))
    }
    expect(take()).toEqual([request, request, request, request])
  })

  it('keeps the encodings it was given', () => {
    const sent: number[][] = []
    const rfb = new RfbClient({
      send: (b) => sent.push([...b]),
      onEvent: () => undefined,
      encodings: [Encodings.Hextile],
    })
    rfb.receive(ascii('RFB 003.008\n'))
    rfb.receive(Uint8Array.of(1, 1))
    rfb.receive(Uint8Array.of(0, 0, 0, 0))
    rfb.receive(serverInit(16, 16, 'x'))
    sent.length = 0
    for (let i = 0; i < 4; i++) {
      rfb.receive(update(rect(0, 0, 16, 16, Encodings.Hextile, [1, ...new Array<number>(1024).fill(i * 50)])))
    }
    expect(sent.every((m) => m[0] === 3)).toBe(true)
  })

  it('asks for the next update as soon as an update begins, not after its last byte', () => {
    const { rfb, events, take } = connected(4, 2)
    const bytes = update(rect(0, 0, 4, 2, Encodings.Raw, new Array<number>(32).fill(7)))
    rfb.receive(bytes.subarray(0, 4))
    expect(take()).toEqual([[3, 1, ...u16(0), ...u16(0), ...u16(4), ...u16(2)]])
    rfb.receive(bytes.subarray(4))
    expect(events.map((e) => e.type)).toEqual(['raw', 'update-end'])
    expect(take()).toEqual([])
  })

  it('waits for a Raw rectangle split over many chunks', () => {
    const { rfb, events } = connected(4, 2)
    const bytes = update(
      rect(
        0,
        0,
        4,
        2,
        Encodings.Raw,
        Array.from({ length: 32 }, (_, i) => i),
      ),
    )
    rfb.receive(bytes.subarray(0, 10))
    rfb.receive(bytes.subarray(10, 21))
    expect(events).toHaveLength(0)
    rfb.receive(bytes.subarray(21))
    const raw = events[0]
    if (raw?.type !== 'raw') throw new Error('no raw event')
    expect([...raw.rgba.subarray(0, 8)]).toEqual([2, 1, 0, 255, 6, 5, 4, 255])
  })

  it('passes CopyRect on with its source', () => {
    const { rfb, events } = connected(8, 8)
    rfb.receive(update(rect(4, 5, 2, 3, Encodings.CopyRect, [...u16(1), ...u16(2)])))
    expect(events).toEqual([
      { type: 'copy', x: 4, y: 5, width: 2, height: 3, srcX: 1, srcY: 2 },
      { type: 'update-end', rects: 1, pixels: true },
    ])
  })

  it('resizes on DesktopSize and then asks for a whole frame of the new size', () => {
    const { rfb, events, take } = connected(4, 2)
    rfb.receive(update(rect(0, 0, 1024, 768, Encodings.DesktopSize)))
    expect(events).toEqual([
      { type: 'resize', width: 1024, height: 768 },
      { type: 'update-end', rects: 1, pixels: false },
    ])
    expect(rfb.width).toBe(1024)
    // The next incremental update was asked for as this one began; the resize adds a whole frame.
    expect(take()).toEqual([
      [3, 1, ...u16(0), ...u16(0), ...u16(4), ...u16(2)],
      [3, 0, ...u16(0), ...u16(0), ...u16(1024), ...u16(768)],
    ])
    expect(rfb.counters.frames).toBe(0)
  })

  it('handles several rectangles and messages in one chunk, and skips bell and clipboard', () => {
    const { rfb, events } = connected(4, 4)
    const bytes = Uint8Array.from([
      2, // bell
      ...update(
        rect(0, 0, 1, 1, Encodings.Raw, [0, 0, 255, 0]),
        rect(1, 1, 1, 1, Encodings.CopyRect, [...u16(0), ...u16(0)]),
      ),
      3,
      0,
      0,
      0,
      ...u32(2),
      ...ascii('hi'),
    ])
    rfb.receive(bytes)
    expect(events.map((e) => e.type)).toEqual(['bell', 'raw', 'copy', 'update-end', 'clipboard'])
    expect(events[4]).toEqual({ type: 'clipboard', text: 'hi' })
  })

  it('fails plainly on an encoding it did not ask for', () => {
    const { rfb, events } = connected()
    rfb.receive(update(rect(0, 0, 1, 1, 16)))
    expect(rfb.phase).toBe('failed')
    expect(events.at(-1)).toEqual({ type: 'error', message: expect.stringMatching(/did not ask for \(16\)/) })
  })
})

describe('RFB input', () => {
  it('sends QEMU extended key events with XT scancodes once the server acknowledged them', () => {
    const { rfb, take } = connected()
    expect(rfb.extendedKeys).toBe(false)
    rfb.receive(update(rect(0, 0, 4, 2, Encodings.QemuExtendedKeyEvent)))
    expect(rfb.extendedKeys).toBe(true)
    take()
    rfb.sendKey('KeyA', true, 'a')
    rfb.sendKey('KeyA', false, 'a')
    rfb.sendKey('ArrowUp', true, 'ArrowUp')
    rfb.sendKey('ControlRight', true, 'Control')
    rfb.sendKey('KeyQ', true, 'a') // AZERTY: the key at Q's place, the guest decides what it means
    expect(take()).toEqual([
      [255, 0, ...u16(1), ...u32(0x61), ...u32(0x1e)],
      [255, 0, ...u16(0), ...u32(0x61), ...u32(0x1e)],
      [255, 0, ...u16(1), ...u32(0xff52), ...u32(0xc8)],
      [255, 0, ...u16(1), ...u32(0xffe4), ...u32(0x9d)],
      [255, 0, ...u16(1), ...u32(0x61), ...u32(0x10)],
    ])
  })

  it('falls back to plain key events (keysyms) before the acknowledgement', () => {
    const { rfb, take } = connected()
    expect(rfb.sendKey('KeyA', true, 'a')).toBe(true)
    expect(rfb.sendKey('Enter', false, 'Enter')).toBe(true)
    expect(rfb.sendKey('Unidentified', true, 'Dead')).toBe(false)
    expect(take()).toEqual([
      [4, 1, 0, 0, ...u32(0x61)],
      [4, 0, 0, 0, ...u32(0xff0d)],
    ])
  })

  it('sends Ctrl+Alt+Del as three presses and three releases', () => {
    const { rfb, take } = connected()
    rfb.receive(update(rect(0, 0, 0, 0, Encodings.QemuExtendedKeyEvent)))
    take()
    rfb.sendCtrlAltDel()
    const codes = take().map((m) => [m[3], m[11]])
    expect(codes).toEqual([
      [1, 0x1d],
      [1, 0x38],
      [1, 0xd3],
      [0, 0xd3],
      [0, 0x38],
      [0, 0x1d],
    ])
  })

  it('sends absolute pointer events clamped to the framebuffer', () => {
    const { rfb, take } = connected(640, 480)
    rfb.sendPointer(3, 1, Buttons.left)
    rfb.sendPointer(700, -5, Buttons.right | Buttons.middle)
    rfb.sendPointer(10.6, 20.2, Buttons.wheelDown)
    expect(take()).toEqual([
      [5, 1, ...u16(3), ...u16(1)],
      [5, 6, ...u16(639), ...u16(0)],
      [5, 16, ...u16(11), ...u16(20)],
    ])
  })

  it('sends nothing before the handshake is done or after close', () => {
    const { rfb, take } = harness()
    expect(rfb.sendPointer(1, 1, 0)).toBe(false)
    expect(rfb.sendKey('KeyA', true, 'a')).toBe(false)
    expect(take()).toEqual([])
    const c = connected()
    c.rfb.close()
    expect(c.rfb.sendPointer(1, 1, 0)).toBe(false)
    c.rfb.receive(update(rect(0, 0, 1, 1, Encodings.Raw, [0, 0, 0, 0])))
    expect(c.events).toEqual([])
  })
})

describe('pixel conversion and the byte queue', () => {
  it('converts BGRX to RGBA on aligned and unaligned views alike', () => {
    const a = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8])
    bgrxToRgba(a)
    expect([...a]).toEqual([3, 2, 1, 255, 7, 6, 5, 255])
    const buf = new Uint8Array(9)
    buf.set([1, 2, 3, 4, 5, 6, 7, 8], 1)
    bgrxToRgba(buf.subarray(1))
    expect([...buf.subarray(1)]).toEqual([3, 2, 1, 255, 7, 6, 5, 255])
  })

  it('peeks and reads across chunk boundaries', () => {
    const q = new ByteQueue()
    q.push(Uint8Array.of(0x12))
    q.push(Uint8Array.of(0x34, 0x56))
    q.push(Uint8Array.of(0x78, 0x9a))
    expect(q.length).toBe(5)
    expect(q.peekU32(0)).toBe(0x12345678)
    expect(q.peekS32(1)).toBe(0x3456789a)
    q.skip(2)
    expect([...q.read(3)]).toEqual([0x56, 0x78, 0x9a])
    expect(q.length).toBe(0)
  })
})
