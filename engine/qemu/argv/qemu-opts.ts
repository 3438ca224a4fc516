// Legacy QEMU option strings (`key=value,key=value`): a comma inside a value is written twice.
// Everything that can go as JSON does; this is for -name, -machine, -chardev, -vnc and the like.

export function qemuOptValue(s: string): string {
  return s.replaceAll(',', ',,')
}

/** Joins key=value pairs, escaping each value; a bare first entry is the option's implied key. */
export function qemuOpts(first: string | null, props: Record<string, string>): string {
  const parts = Object.entries(props).map(([k, v]) => `${k}=${qemuOptValue(v)}`)
  return (first === null ? parts : [qemuOptValue(first), ...parts]).join(',')
}
