// An imported VM's name when the user gave none: the appliance's own, made unique on this host.

/** `name`, or `name (2)`, `name (3)`, …: the first that `free` accepts, within VmName's rules. */
export function uniqueName(name: string, free: (n: string) => boolean): string {
  const base =
    name
      .replace(/\p{Cc}/gu, ' ')
      .trim()
      .slice(0, 120) || 'Imported appliance'
  if (free(base)) return base
  for (let i = 2; ; i++) if (free(`${base} (${i})`)) return `${base} (${i})`
}
