// Sizes as the engine writes them (SizeString: "16G", "512M", "1.5T") in the GiB the form shows.
const GIB_PER_UNIT: Record<string, number> = {
  '': 1 / 1024 ** 3,
  K: 1 / 1024 ** 2,
  M: 1 / 1024,
  G: 1,
  T: 1024,
}

/** GiB, rounded to a tenth; null for text that is not a size. */
export function parseSizeGiB(size: string): number | null {
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?$/i.exec(size.trim())
  if (!m) return null
  const gib = Number(m[1]) * (GIB_PER_UNIT[m[2]!.toUpperCase()] ?? 1)
  return Math.round(gib * 10) / 10
}
