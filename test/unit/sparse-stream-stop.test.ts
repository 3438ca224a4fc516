// A file upload of a migration whose request is destroyed (a cancel, a cut link caught by the
// watchdog) must end, not wait for a 'drain' that a destroyed stream never emits.
import { Writable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { sendSparse } from '../../engine/migration/sparse-stream.ts'

/** A peer that takes nothing more: every write stays pending, as on a link that went down. */
function stuck(): Writable {
  return new Writable({ highWaterMark: 1024, write: () => undefined })
}

describe('sendSparse on a stream that is destroyed', () => {
  it('rejects when the stream is destroyed while it waits to write', async () => {
    const out = stuck()
    const sending = sendSparse({ content: Buffer.alloc(4 * 1024 * 1024, 7) }, out, () => undefined)
    setTimeout(() => out.destroy(), 50)
    await expect(sending).rejects.toThrow(/the transfer was stopped/)
  })

  it('rejects at once on a stream destroyed before it starts', async () => {
    const out = stuck()
    out.destroy()
    await expect(sendSparse({ content: Buffer.alloc(256 * 1024, 1) }, out, () => undefined)).rejects.toThrow(
      /the transfer was stopped/,
    )
  })

  it('still sends the whole file to a stream that drains', async () => {
    const chunks: Buffer[] = []
    const out = new Writable({
      highWaterMark: 1024,
      write: (c: Buffer, _e, cb) => {
        chunks.push(c)
        setImmediate(cb)
      },
    })
    await sendSparse({ content: Buffer.alloc(512 * 1024, 3) }, out, () => undefined)
    // 8 records of 64 KiB (12-byte headers) and the digest record.
    expect(Buffer.concat(chunks).length).toBe(8 * (12 + 65536) + 12 + 32)
  })
})
