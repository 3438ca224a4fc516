// One disk file out of what the appliance holds: chunks (`name.000000000`, …) joined in order, and
// gzip undone, into the staging folder. A plain file is used as it is.
import { createReadStream, createWriteStream, rmSync } from 'node:fs'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGunzip } from 'node:zlib'
import { VireoError } from '../api/errors.ts'
import type { ApplianceFile } from './descriptor.ts'
import type { ApplianceSource } from './source.ts'
import { safeHref } from './tar-paths.ts'

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
 * are consumed, so a large appliance needs its size once more at most, not twice.
 */
export async function assemble(
  file: ApplianceFile,
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
  const writing = file.compression ? pipeline(joined, createGunzip(), sink) : pipeline(joined, sink)
  try {
    for (const piece of located) {
      await pipeline(createReadStream(piece), joined, { end: false })
      if (piece.startsWith(stagingDir)) rmSync(piece, { force: true })
    }
    joined.end()
    await writing
  } catch (err) {
    joined.destroy()
    await writing.catch(() => undefined)
    throw new VireoError(
      'invalid_request',
      `the appliance's file ${file.href} cannot be unpacked: ${(err as Error).message}`,
    )
  }
  return out
}
