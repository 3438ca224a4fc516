// Disk sizes as users write them ("8G", "512M", "1.5TiB"), in binary units as qemu-img reads them,
// and the one range every new or grown disk is held to: --disk-size, attach --size, disk resize and
// an appliance's disks alike.
import { quoted } from './visible-text.ts'

export const MIN_DISK_BYTES = 2 ** 20
/** Far beyond any real disk here; a typo ("20000T") or a hostile descriptor is refused, not tried. */
export const MAX_DISK_BYTES = 64 * 2 ** 40

const UNITS: Record<string, number> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 }
const GRAMMAR = /^\s*(\d{1,20}(?:\.\d{1,20})?)\s*([KMGT]?)(?:i?B)?\s*$/i

/** The bytes `text` means, or null when it is no size at all. */
export function sizeBytes(text: string): number | null {
  const m = GRAMMAR.exec(text)
  if (!m?.[1]) return null
  return Math.round(Number(m[1]) * (UNITS[(m[2] ?? '').toUpperCase()] ?? 1))
}

/** Why `text` is not a disk size Vireo makes, in a sentence; null when it is one. */
export function diskSizeProblem(text: string): string | null {
  const bytes = sizeBytes(text)
  if (bytes === null)
    return `a size is a number with an optional unit, e.g. 8G or 512M, not ${text.trim() === '' ? 'an empty string' : quoted(text)}`
  if (bytes < MIN_DISK_BYTES) return `a disk must be at least 1 MiB, not ${quoted(text.trim())}`
  if (bytes > MAX_DISK_BYTES) return `a disk can be at most 64 TiB, not ${quoted(text.trim())}`
  return null
}
