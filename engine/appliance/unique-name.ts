// An imported VM's name when the user gave none: the appliance's own, made unique on this host.

/**
 * The appliance's name within VmName's rules (the user did not choose it, so it is cleaned rather
 * than refused): NFC, line breaks and control characters as spaces, invisible and text-direction
 * characters dropped, at most 120 characters so a " (2)" still fits.
 */
export function cleanApplianceName(name: string): string {
  const visible = name
    .normalize('NFC')
    .replace(/[\p{Cc}\p{Zl}\p{Zp}]/gu, ' ')
    .replace(/[\p{Cf}\p{Cs}]/gu, '')
    .replace(/\s+/g, ' ')
    .trim()
  return [...visible].slice(0, 120).join('').trim() || 'Imported appliance'
}

/** `name`, or `name (2)`, `name (3)`, …: the first that `free` accepts. */
export function uniqueName(name: string, free: (n: string) => boolean): string {
  const base = cleanApplianceName(name)
  if (free(base)) return base
  for (let i = 2; ; i++) if (free(`${base} (${i})`)) return `${base} (${i})`
}
