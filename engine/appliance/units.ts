// OVF's allocation units (DSP0004 programmatic units) as producers really write them:
// `byte * 2^20`, `byte * 2 ^ 20`, `byte*2^30`, `bytes * 1024`, and VirtualBox's `MegaBytes`.
import { VireoError } from '../api/errors.ts'
import { quoted } from '../api/visible-text.ts'

const NAMED: Record<string, number> = {
  byte: 1,
  bytes: 1,
  b: 1,
  kilobytes: 2 ** 10,
  kb: 2 ** 10,
  kib: 2 ** 10,
  megabytes: 2 ** 20,
  mb: 2 ** 20,
  mib: 2 ** 20,
  gigabytes: 2 ** 30,
  gb: 2 ** 30,
  gib: 2 ** 30,
  terabytes: 2 ** 40,
  tb: 2 ** 40,
  tib: 2 ** 40,
}

/** How many bytes one unit is; absent units mean bytes (OVF's default for capacities). */
export function bytesPerUnit(unit: string | undefined, what: string): number {
  if (unit === undefined || unit.trim() === '') return 1
  const u = unit.replace(/\s+/g, '').toLowerCase()
  // Producers mean binary multiples by MegaBytes and friends (VirtualBox writes RAM as MegaBytes).
  const named = NAMED[u]
  if (named !== undefined) return named
  const m = /^bytes?((?:\*\d+(?:\^\d+)?)*)$/.exec(u)
  if (m) {
    let n = 1
    for (const factor of m[1]!.split('*').filter(Boolean)) {
      const [base, exp] = factor.split('^')
      n *= Number(base) ** Number(exp ?? 1)
    }
    // An exbibyte is beyond any allocation unit; 2^1000 bytes is no unit but an attack on the sums.
    if (Number.isFinite(n) && n >= 1 && n <= 2 ** 60) return n
  }
  throw new VireoError('invalid_request', `${what}: the unit ${quoted(unit)} is not one Vireo understands`)
}

/** A whole non-negative number as written in a descriptor, or a refusal naming it. */
export function parseCount(value: string | undefined, what: string): number {
  const v = value?.trim()
  if (!v || !/^\d{1,30}$/.test(v))
    throw new VireoError('invalid_request', `${what} is ${quoted(value ?? '')}, not a whole number`)
  return Number(v)
}

export function toBytes(value: string | undefined, unit: string | undefined, what: string): number {
  return parseCount(value, what) * bytesPerUnit(unit, what)
}
