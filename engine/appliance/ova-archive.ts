// Reading an OVA: a USTAR archive (gzip-compressed by some producers) whose descriptor comes first by
// the standard but, in real files, anywhere and in a subfolder. The archive is read twice: once to
// check every entry and read the descriptor and manifest (nothing written), once to extract the
// files the import needs.
import { closeSync, createReadStream, createWriteStream, openSync, readSync, statSync } from 'node:fs'
import { join, posix } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { Readable, Transform } from 'node:stream'
import { createGunzip } from 'node:zlib'
import { extract, type Header } from 'tar-stream'
import { VireoError } from '../api/errors.ts'
import { MAX_DESCRIPTOR_BYTES } from './limits.ts'
import { algorithmsOf, MultiHash, parseManifest, verifyDigest, type Manifest } from './manifest.ts'
import type { ApplianceSource } from './source.ts'
import { safeEntryName } from './tar-paths.ts'
import { limitBytes } from './unpack-bounds.ts'

function isGzip(path: string): boolean {
  const head = Buffer.alloc(2)
  const fd = openSync(path, 'r')
  try {
    readSync(fd, head, 0, 2, 0)
  } finally {
    closeSync(fd)
  }
  return head[0] === 0x1f && head[1] === 0x8b
}

/** An entry's bytes (tar-stream's streamx stream): read it to the end, or resume() to skip it. */
type Body = AsyncIterable<Buffer> & { resume(): unknown }

/** Calls `onEntry` for every entry in order; the entry's stream must be consumed or resumed. */
async function walk(
  path: string,
  onEntry: (name: string, header: Header, body: Body) => Promise<void>,
  onBytes?: (done: number) => void,
): Promise<void> {
  const input = createReadStream(path)
  let read = 0
  if (onBytes) input.on('data', (c) => onBytes((read += c.length)))
  const ex = extract()
  const source = isGzip(path) ? input.pipe(createGunzip()) : input
  const fail = (err: Error) => ex.destroy(err)
  input.on('error', fail)
  source.on('error', fail)
  source.pipe(ex)
  try {
    for await (const entry of ex) {
      const name = safeEntryName(entry.header.name, entry.header.type)
      if (entry.header.type === 'directory' || name === '') {
        entry.resume()
        continue
      }
      await onEntry(name, entry.header, entry as unknown as Body)
    }
  } catch (err) {
    if (err instanceof VireoError) throw err
    throw new VireoError(
      'invalid_request',
      `${path} is not a readable OVA (tar) archive: ${(err as Error).message}`,
    )
  } finally {
    input.destroy()
    source.destroy()
  }
}

async function readSmall(body: Body, name: string): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const c of body) {
    size += (c as Buffer).length
    if (size > MAX_DESCRIPTOR_BYTES)
      throw new VireoError('invalid_request', `the appliance's ${name} is too large to be an OVF file`)
    chunks.push(c as Buffer)
  }
  return Buffer.concat(chunks)
}

export async function openOva(path: string): Promise<ApplianceSource> {
  const all = new Map<string, number>()
  const texts = new Map<string, { text: string; hash: MultiHash }>()
  await walk(path, async (name, header, body) => {
    if (all.has(name))
      throw new VireoError(
        'invalid_request',
        `the appliance holds ${JSON.stringify(name)} twice; Vireo refuses ambiguous archives`,
      )
    all.set(name, header.size ?? 0)
    if (/\.(ovf|mf)$/i.test(name)) {
      const bytes = await readSmall(body, name)
      const hash = new MultiHash(['sha1', 'sha256', 'sha512'])
      hash.update(bytes)
      texts.set(name, { text: bytes.toString('utf8'), hash })
    } else body.resume()
  })
  const descriptors = [...texts.keys()].filter((n) => /\.ovf$/i.test(n))
  if (descriptors.length === 0)
    throw new VireoError('invalid_request', `${path} holds no OVF descriptor (.ovf)`)
  if (descriptors.length > 1) {
    throw new VireoError(
      'invalid_request',
      `${path} holds ${descriptors.length} OVF descriptors; Vireo imports one appliance at a time`,
    )
  }
  const descriptorName = descriptors[0]!
  const base = posix.dirname(descriptorName)
  const rel = (n: string) => (base === '.' ? n : n.startsWith(`${base}/`) ? n.slice(base.length + 1) : null)
  const members = new Map<string, number>()
  for (const [n, size] of all) {
    const r = rel(n)
    if (r !== null) members.set(r, size)
  }
  const mfName = [...members.keys()].find(
    (n) =>
      n.toLowerCase() ===
      posix
        .basename(descriptorName)
        .replace(/\.ovf$/i, '.mf')
        .toLowerCase(),
  )
  const mf = mfName ? texts.get(base === '.' ? mfName : `${base}/${mfName}`) : undefined
  const manifest: Manifest | null = mf ? parseManifest(mf.text, `the manifest ${mfName}`) : null
  const descriptor = texts.get(descriptorName)!
  if (manifest) verifyDigest(manifest, posix.basename(descriptorName), descriptor.hash.digests())

  return {
    path,
    descriptor: descriptor.text,
    manifest,
    has: (name) => members.has(name),
    async materialize(names, stagingDir, onBytes, bounds) {
      const wanted = new Map(
        names.map((n, i) => [
          base === '.' ? n : `${base}/${n}`,
          { rel: n, out: join(stagingDir, `member-${i}`) },
        ]),
      )
      const algorithms = algorithmsOf(manifest)
      const total = statSync(path).size
      const out = new Map<string, string>()
      await walk(
        path,
        async (name, header, body) => {
          const w = wanted.get(name)
          if (!w) {
            body.resume()
            return
          }
          // A gzip-compressed OVA's entries are as large as their headers say: checked before any write.
          const bound = bounds?.get(w.rel)
          if (bound && (header.size ?? 0) > bound.max) throw bound.refusal()
          const hash = new MultiHash(algorithms)
          const hasher = new Transform({
            transform(chunk: Buffer, _enc, cb) {
              hash.update(chunk)
              cb(null, chunk)
            },
          })
          const sink = createWriteStream(w.out, { flags: 'wx', mode: 0o600 })
          await (bound
            ? pipeline(Readable.from(body), limitBytes(bound), hasher, sink)
            : pipeline(Readable.from(body), hasher, sink))
          if (manifest) verifyDigest(manifest, w.rel, hash.digests())
          out.set(w.rel, w.out)
        },
        onBytes ? (done) => onBytes(done, total) : undefined,
      )
      const missing = names.filter((n) => !out.has(n))
      if (missing.length > 0)
        throw new VireoError(
          'invalid_request',
          `${path} lacks ${missing.join(', ')}, which its descriptor names`,
        )
      return out
    },
  }
}
