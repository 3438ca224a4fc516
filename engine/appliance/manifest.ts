// OVF manifests (.mf): one digest per file, written `SHA256(file)= hex` by the standard, and
// `SHA1 (file) = hex` by some producers. Every file Vireo reads from an appliance with a manifest
// must be listed there and match.
import { createHash, type Hash } from 'node:crypto'
import { VireoError } from '../api/errors.ts'

export type DigestAlgorithm = 'sha1' | 'sha256' | 'sha512'
export type Manifest = Map<string, { algorithm: DigestAlgorithm; hex: string }>

export function parseManifest(text: string, what: string): Manifest {
  const entries: Manifest = new Map()
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim()
    if (!line) continue
    const m = /^(SHA1|SHA256|SHA512)\s*\((.+)\)\s*=\s*([0-9a-fA-F]+)$/i.exec(line)
    if (!m)
      throw new VireoError(
        'invalid_request',
        `${what}, line ${i + 1}, is not "SHA256(file)= digest": ${line.slice(0, 80)}`,
      )
    const algorithm = m[1]!.toLowerCase() as DigestAlgorithm
    const hex = m[3]!.toLowerCase()
    const expected = { sha1: 40, sha256: 64, sha512: 128 }[algorithm]
    if (hex.length !== expected)
      throw new VireoError(
        'invalid_request',
        `${what} gives ${m[2]} a ${algorithm} digest of the wrong length`,
      )
    entries.set(m[2]!.trim(), { algorithm, hex })
  }
  return entries
}

export type Digests = Partial<Record<DigestAlgorithm, string>>

/** The algorithms a manifest uses: only those are computed over gigabytes of disk. */
export function algorithmsOf(manifest: Manifest | null): DigestAlgorithm[] {
  return manifest ? [...new Set([...manifest.values()].map((e) => e.algorithm))] : []
}

/** Hashes a stream's bytes with several algorithms at once. */
export class MultiHash {
  private readonly hashes: [DigestAlgorithm, Hash][]
  constructor(algorithms: readonly DigestAlgorithm[]) {
    this.hashes = algorithms.map((a) => [a, createHash(a)])
  }
  update(chunk: Uint8Array): void {
    for (const [, h] of this.hashes) h.update(chunk)
  }
  digests(): Digests {
    return Object.fromEntries(this.hashes.map(([a, h]) => [a, h.digest('hex')]))
  }
}

/** Throws unless `name` (relative to the descriptor) is in the manifest with this content's digest. */
export function verifyDigest(manifest: Manifest, name: string, digests: Digests): void {
  const entry = manifest.get(name)
  if (!entry)
    throw new VireoError(
      'invalid_request',
      `the appliance's manifest does not list ${name}; it may have been altered`,
    )
  if (digests[entry.algorithm] !== entry.hex) {
    throw new VireoError(
      'invalid_request',
      `${name} does not match the appliance's manifest (${entry.algorithm.toUpperCase()} differs): the file is damaged or was altered`,
    )
  }
}
