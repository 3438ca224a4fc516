// Draws what the RFB client decoded onto a canvas: Raw rectangles with putImageData straight from
// their own ArrayBuffers, CopyRect with a canvas-to-itself drawImage, resizes by resizing the
// canvas. Nothing else ever paints it (no screendump polling): every pixel came through RFB.
import type { RfbEvent } from './rfb-client.ts'

export class CanvasDisplay {
  readonly canvas: HTMLCanvasElement
  private readonly ctx: CanvasRenderingContext2D

  constructor(canvas: HTMLCanvasElement) {
    this.canvas = canvas
    const ctx = canvas.getContext('2d', { alpha: false })
    if (!ctx) throw new Error('this browser cannot draw the display (no 2D canvas)')
    this.ctx = ctx
    this.ctx.imageSmoothingEnabled = false
  }

  get width(): number {
    return this.canvas.width
  }
  get height(): number {
    return this.canvas.height
  }

  /** Applies one RFB event; true when it was the end of an update that changed pixels. */
  apply(event: RfbEvent): boolean {
    switch (event.type) {
      case 'connected':
      case 'resize':
        this.resize(event.width, event.height)
        return false
      case 'raw':
        this.drawRaw(event.x, event.y, event.width, event.height, event.rgba)
        return false
      case 'copy':
        this.copyRect(event.srcX, event.srcY, event.x, event.y, event.width, event.height)
        return false
      case 'update-end':
        return event.pixels
      default:
        return false
    }
  }

  resize(width: number, height: number): void {
    if (this.canvas.width !== width) this.canvas.width = width
    if (this.canvas.height !== height) this.canvas.height = height
    this.ctx.imageSmoothingEnabled = false
    this.ctx.fillStyle = '#000'
    this.ctx.fillRect(0, 0, width, height)
  }

  drawRaw(x: number, y: number, width: number, height: number, rgba: Uint8ClampedArray<ArrayBuffer>): void {
    if (width === 0 || height === 0) return
    this.ctx.putImageData(new ImageData(rgba, width, height), x, y)
  }

  copyRect(srcX: number, srcY: number, x: number, y: number, width: number, height: number): void {
    if (width === 0 || height === 0) return
    this.ctx.drawImage(this.canvas, srcX, srcY, width, height, x, y, width, height)
  }
}
