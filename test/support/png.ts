// Just enough PNG decoding (8-bit RGB or RGBA, not interlaced: what QEMU's screendump writes) to
// look at a guest's screen in a test, with node:zlib and no dependency.
import { inflateSync } from 'node:zlib'

export interface Pixels {
  width: number
  height: number
  /** RGB triplets, row by row. */
  rgb: Buffer
}

export function decodePng(png: Buffer): Pixels {
  if (png.toString('latin1', 1, 4) !== 'PNG') throw new Error('not a PNG')
  let width = 0
  let height = 0
  let channels = 0
  const idat: Buffer[] = []
  for (let off = 8; off < png.length;) {
    const len = png.readUInt32BE(off)
    const type = png.toString('latin1', off + 4, off + 8)
    const data = png.subarray(off + 8, off + 8 + len)
    if (type === 'IHDR') {
      width = data.readUInt32BE(0)
      height = data.readUInt32BE(4)
      const depth = data[8]
      const colour = data[9]
      if (depth !== 8 || (colour !== 2 && colour !== 6) || data[12] !== 0)
        throw new Error(`unsupported PNG: depth ${depth}, colour type ${colour}, interlace ${data[12]}`)
      channels = colour === 2 ? 3 : 4
    } else if (type === 'IDAT') idat.push(data)
    else if (type === 'IEND') break
    off += 12 + len
  }
  const raw = inflateSync(Buffer.concat(idat))
  const stride = width * channels
  const out = Buffer.alloc(width * height * 3)
  let prev = Buffer.alloc(stride)
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]
    const line = Buffer.from(raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)))
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? line[x - channels]! : 0
      const b = prev[x]!
      const c = x >= channels ? prev[x - channels]! : 0
      let add = 0
      if (filter === 1) add = a
      else if (filter === 2) add = b
      else if (filter === 3) add = (a + b) >> 1
      else if (filter === 4) {
        const p = a + b - c
        const pa = Math.abs(p - a)
        const pb = Math.abs(p - b)
        const pc = Math.abs(p - c)
        add = pa <= pb && pa <= pc ? a : pb <= pc ? b : c
      }
      line[x] = (line[x]! + add) & 0xff
    }
    for (let x = 0; x < width; x++) line.copy(out, (y * width + x) * 3, x * channels, x * channels + 3)
    prev = line
  }
  return { width, height, rgb: out }
}

export interface ScreenStats {
  width: number
  height: number
  /** The most common colour, taken as the background, as 0xRRGGBB. */
  background: number
  /** Share of pixels not of the background colour. */
  lit: number
  /** Colours that cover at least 0.05 % of the screen (anti-aliasing noise left out). */
  colours: number
  /** Share of pixels of each colour, most common first. */
  shares: [number, number][]
}

export function screenStats(p: Pixels): ScreenStats {
  const counts = new Map<number, number>()
  const n = p.width * p.height
  for (let i = 0; i < n; i++) {
    const c = (p.rgb[i * 3]! << 16) | (p.rgb[i * 3 + 1]! << 8) | p.rgb[i * 3 + 2]!
    counts.set(c, (counts.get(c) ?? 0) + 1)
  }
  const shares = [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([c, k]) => [c, k / n] as [number, number])
  const background = shares[0]?.[0] ?? 0
  return {
    width: p.width,
    height: p.height,
    background,
    lit: 1 - (shares[0]?.[1] ?? 0),
    colours: shares.filter(([, s]) => s >= 0.0005).length,
    shares: shares.slice(0, 8),
  }
}

/** The columns (in pixels) where the first lit pixel of each text row of `rowHeight` pixels sits. */
export function firstLitColumnPerRow(p: Pixels, background: number, rowHeight: number): (number | null)[] {
  const rows: (number | null)[] = []
  for (let top = 0; top + rowHeight <= p.height; top += rowHeight) {
    let first: number | null = null
    for (let y = top; y < top + rowHeight; y++) {
      for (let x = 0; x < (first ?? p.width); x++) {
        const i = (y * p.width + x) * 3
        const c = (p.rgb[i]! << 16) | (p.rgb[i + 1]! << 8) | p.rgb[i + 2]!
        if (c !== background) {
          first = x
          break
        }
      }
    }
    rows.push(first)
  }
  return rows
}
