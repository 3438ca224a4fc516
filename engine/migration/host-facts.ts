// What this host's QEMU can run, as a destination tells a source: its machine types and device
// models, read once from `-machine help` and `-device help`.
import { execFileText } from '../qemu/exec.ts'

let cached: Promise<{ machines: string[]; devices: string[] }> | null = null

export function hostFacts(qemuSystem: string): Promise<{ machines: string[]; devices: string[] }> {
  cached ??= (async () => {
    const [m, d] = await Promise.all([
      execFileText(qemuSystem, ['-machine', 'help'], { timeoutMs: 20_000 }),
      execFileText(qemuSystem, ['-device', 'help'], { timeoutMs: 20_000 }),
    ])
    const machines = m.stdout
      .split('\n')
      .slice(1)
      .flatMap((l) => (/^(\S+)\s/.exec(l)?.[1] ? [/^(\S+)\s/.exec(l)![1]!] : []))
    const devices = [...d.stdout.matchAll(/^name "([^"]+)"/gm)].map((x) => x[1]!)
    return { machines, devices }
  })()
  return cached
}
