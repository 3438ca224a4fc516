// Sizes as users write them ("8G", "512M", "1.5TiB") to bytes; binary units, as qemu-img uses.
import { VireoError } from '../api/errors.ts'

const UNITS: Record<string, number> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 }

export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*$/i.exec(text)
  if (!m?.[1]) throw new VireoError('invalid_request', `"${text}" is not a size (try 8G or 512M)`)
  const bytes = Math.round(Number(m[1]) * (UNITS[(m[2] ?? '').toUpperCase()] ?? 1))
  if (bytes < 2 ** 20) throw new VireoError('invalid_request', `a disk must be at least 1 MiB (got ${text})`)
  if (bytes > 64 * 2 ** 40)
    throw new VireoError('invalid_request', `a disk can be at most 64 TiB (got ${text})`)
  // qcow2 sizes are whole 512-byte sectors.
  return Math.ceil(bytes / 512) * 512
}
