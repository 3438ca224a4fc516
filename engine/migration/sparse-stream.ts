// Files cross between hosts as records (offset, length, bytes) with the blocks of zeroes left out,
// so a 20 GiB disk with 1 GiB written sends 1 GiB and arrives as sparse as it left, and ends with a
// SHA-256 of the whole content (zeroes included) that the receiver checks before it keeps the file.
// No library does this framing for a raw HTTP body; it is small enough to own.
import { createHash } from 'node:crypto'
import { open, type FileHandle } from 'node:fs/promises'
import type { Readable, Writable } from 'node:stream'

const BLOCK = 64 * 1024
const READ = 1024 * 1024
const HEADER = 12
/** The offset that marks the final record: the digest. */
const END = 0xffff_ffff_ffff_ffffn

const ZEROES = Buffer.alloc(BLOCK)

/** memcmp against a block of zeroes: native, where a JavaScript loop over the bytes was not. */
function isZero(b: Buffer): boolean {
  return b.length === BLOCK ? b.equals(ZEROES) : b.equals(ZEROES.subarray(0, b.length))
}

function record(offset: bigint, payload: Buffer): Buffer {
  const h = Buffer.alloc(HEADER)
  h.writeBigUInt64BE(offset, 0)
  h.writeUInt32BE(payload.length, 8)
  return Buffer.concat([h, payload])
}

/** Resolves when `out` takes writes again; rejects once it is destroyed (a cancel, a cut link), which never drains. */
function drained(out: Writable): Promise<void> {
  const stopped = () => new Error('the transfer was stopped')
  if (out.destroyed) return Promise.reject(stopped())
  return new Promise((resolve, reject) => {
    const onDrain = () => {
      out.off('close', onClose)
      resolve()
    }
    const onClose = () => {
      out.off('drain', onDrain)
      reject(stopped())
    }
    out.once('drain', onDrain)
    out.once('close', onClose)
  })
}

/**
 * Writes `source` (a file, or bytes in memory) to `out` as records. `onBytes` is told of every
 * block read, zero or not; `throttle` may delay before each write (bandwidth limits).
 */
export async function sendSparse(
  source: { path: string } | { content: Buffer },
  out: Writable,
  onBytes: (n: number) => void,
  throttle: (n: number) => Promise<void> = async () => undefined,
): Promise<string> {
  const hash = createHash('sha256')
  const emit = async (offset: number, data: Buffer) => {
    await throttle(data.length)
    if (!out.write(record(BigInt(offset), data))) await drained(out)
  }
  const blocks = async (buf: Buffer, base: number) => {
    hash.update(buf)
    for (let at = 0; at < buf.length; at += BLOCK) {
      const b = buf.subarray(at, Math.min(at + BLOCK, buf.length))
      if (!isZero(b)) await emit(base + at, Buffer.from(b))
      onBytes(b.length)
    }
  }
  if ('content' in source) await blocks(source.content, 0)
  else {
    const fh = await open(source.path, 'r')
    try {
      const buf = Buffer.allocUnsafe(READ)
      for (let pos = 0; ;) {
        const { bytesRead } = await fh.read(buf, 0, READ, pos)
        if (bytesRead === 0) break
        await blocks(buf.subarray(0, bytesRead), pos)
        pos += bytesRead
      }
    } finally {
      await fh.close()
    }
  }
  const digest = hash.digest()
  if (!out.write(record(END, digest))) await drained(out)
  return digest.toString('hex')
}

export class TransferError extends Error {}

/** Reads records from `input` into `fh`, grown to `size`; resolves with the verified digest. */
export async function receiveSparse(input: Readable, fh: FileHandle, size: number): Promise<string> {
  const hash = createHash('sha256')
  const zeros = Buffer.alloc(READ)
  let covered = 0
  const hashZeros = (upTo: number) => {
    while (covered < upTo) {
      const n = Math.min(READ, upTo - covered)
      hash.update(zeros.subarray(0, n))
      covered += n
    }
  }
  let pending: Buffer = Buffer.alloc(0)
  let digest: Buffer | null = null
  for await (const chunk of input as AsyncIterable<Buffer>) {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk
    while (pending.length >= HEADER) {
      const offset = pending.readBigUInt64BE(0)
      const len = pending.readUInt32BE(8)
      if (len > READ) throw new TransferError('a record is larger than any sender makes')
      if (pending.length < HEADER + len) break
      const payload = pending.subarray(HEADER, HEADER + len)
      pending = pending.subarray(HEADER + len)
      if (offset === END) {
        digest = Buffer.from(payload)
        continue
      }
      if (digest) throw new TransferError('data came after the end of the file')
      const at = Number(offset)
      if (at < covered || at + len > size) throw new TransferError('a record lies outside the file')
      hashZeros(at)
      hash.update(payload)
      covered = at + len
      await fh.write(payload, 0, len, at)
    }
  }
  if (!digest) throw new TransferError('the transfer ended before the whole file arrived')
  hashZeros(size)
  await fh.truncate(size)
  const got = hash.digest()
  if (!got.equals(digest)) throw new TransferError('the file arrived damaged (its SHA-256 does not match)')
  return got.toString('hex')
}
