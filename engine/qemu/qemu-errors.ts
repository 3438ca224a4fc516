// QEMU's stderr, said in plain words. QEMU's own line is kept at the end so nothing is hidden.

const rules: { re: RegExp; say: (m: RegExpExecArray) => string }[] = [
  {
    re: /Failed to get "(?:write|consistent read)" lock[\s\S]*?Is another process using the image \[?([^\]\n]+)\]?/,
    say: (m) => `the disk ${m[1]} is in use by another VM or program`,
  },
  {
    re: /Could not open '([^']+)': No such file or directory/,
    say: (m) => `the file ${m[1]} does not exist`,
  },
  {
    re: /Could not open '([^']+)': Permission denied/,
    say: (m) => `QEMU may not read ${m[1]} (permission denied)`,
  },
  {
    re: /'([^']+)' is not a valid device model name/,
    say: (m) => `this QEMU has no device "${m[1]}"`,
  },
  {
    re: /failed to initialize kvm|Could not access KVM kernel module/i,
    say: () => 'hardware acceleration (KVM) could not be used; set the VM to software emulation',
  },
  {
    re: /cannot set up guest memory|Cannot allocate memory/,
    say: () => 'the host does not have enough free memory for this VM',
  },
  {
    re: /Address already in use/,
    say: () => 'a port forward asks for a host port that is already in use',
  },
]

export function explainQemuFailure(
  stderr: string,
  exit: { code: number | null; signal: string | null },
): string {
  const lines = stderr
    .split('\n')
    // `-msg timestamp=on` puts a timestamp before QEMU's own prefix.
    .map((l) =>
      l
        .replace(/^\d{4}-\d\d-\d\dT\S+\s+/, '')
        .replace(/^\S*qemu-system-\w+: /, '')
        .trim(),
    )
    .filter((l) => l && !l.startsWith('warning:'))
  const text = lines.join('\n')
  for (const rule of rules) {
    const m = rule.re.exec(text)
    if (m) return `${rule.say(m)} (QEMU: ${lines.find((l) => rule.re.test(l)) ?? lines.at(-1) ?? ''})`
  }
  const last = lines.at(-1)
  if (last) return `QEMU stopped: ${last}`
  if (exit.signal) return `QEMU was killed by ${exit.signal}`
  return `QEMU exited with code ${exit.code ?? 'unknown'}`
}
