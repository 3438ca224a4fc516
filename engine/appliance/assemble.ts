// One disk file out of what the appliance holds: chunks (`name.000000000`, …) joined in order, and
// gzip undone, into the staging folder. A plain file is used as it is.
import { createReadStream, createWriteStream, rmSync } from 'node:fs'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGunzip } from 'node:zlib'
import { VireoError } from '../api/errors.ts'
import { quoted } from '../api/visible-text.ts'
import type { ApplianceDisk, ApplianceFile } from './descriptor.ts'
import type { ApplianceSource } from './source.ts'
import { safeHref } from './tar-paths.ts'
import { expandedBound, limitBytes, storedBound } from './unpack-bounds.ts'

/** The names of the pieces of a file inside the appliance, checked to exist. */
export function piecesOf(file: ApplianceFile, source: ApplianceSource): string[] {
  const href = safeHref(file.href)
  if (file.chunkSize === null) {
    if (!source.has(href))
      throw new VireoError('invalid_request', `${source.path} lacks ${href}, which its descriptor names`)
    return [href]
  }
  const pieces: string[] = []
  for (let i = 0; source.has(`${href}.${String(i).padStart(9, '0')}`); i++)
    pieces.push(`${href}.${String(i).padStart(9, '0')}`)
  if (pieces.length === 0) {
    throw new VireoError(
      'invalid_request',
      `${source.path} lacks ${href}.000000000, the first chunk of ${href}`,
    )
  }
  return pieces
}

/**
 * The readable disk image for `file`, given where its pieces are. Staged pieces are removed as they
 * are consumed, so a large appliance needs its size once more at most, not twice. The joined pieces
 * may not hold more than the descriptor declares, nor unpack past what the disk's image can take.
 */
export async function assemble(
  file: ApplianceFile,
  disk: ApplianceDisk,
  pieces: readonly string[],
  paths: Map<string, string>,
  stagingDir: string,
  index: number,
): Promise<string> {
  const located = pieces.map((p) => paths.get(p)!)
  if (located.length === 1 && !file.compression) return located[0]!
  const out = join(stagingDir, `disk-${index}.img`)
  const joined = new PassThrough()
  const sink = createWriteStream(out, { flags: 'wx' })
  const stored = limitBytes(storedBound(file, disk))
  const writing = file.compression
    ? pipeline(joined, stored, createGunzip(), limitBytes(expandedBound(file, disk)), sink)
    : pipeline(joined, stored, sink)
  // The pipeline may fail (a bound reached) while a piece is still being read into it.
  writing.catch(() => joined.destroy())
  try {
    for (const piece of located) {
      if (joined.destroyed) break
      await pipeline(createReadStream(piece), joined, { end: false })
      if (piece.startsWith(stagingDir)) rmSync(piece, { force: true })
    }
    joined.end()
    await writing
  } catch (err) {
    joined.destroy()
    const cause = await writing.then(
      () => err,
      (e: unknown) => e,
    )
    rmSync(out, { force: true })
    if (cause instanceof VireoError) throw cause
    throw new VireoError(
      'invalid_request',
      `the appliance's file ${quoted(file.href)} cannot be unpacked: ${(cause as Error).message}`,
    )
  }
  return out
}
