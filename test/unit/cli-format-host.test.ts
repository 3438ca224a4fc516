// `vireo host status` in plain words: the accelerator's verdict and its reason, "probing…" while the
// probe the host started with still runs, why there is none when it failed, and what an older host
// (which sends no probe state) means by saying nothing.
import { describe, expect, it } from 'vitest'
import { HostInfo } from '../../engine/api/rpc.ts'
import { acceleratorLine, formatHostStatus } from '../../engine/cli/format-host.ts'

const base: HostInfo = {
  version: '0.1.0',
  pid: 4242,
  dataDir: '/home/u/.config/Vireo',
  socketPath: '/run/user/1000/vireo/host.sock',
  url: null,
  qemu: { binary: '/usr/bin/qemu-system-x86_64', version: '7.2.22' },
  accelerator: null,
  acceleratorProbe: { state: 'probing' },
  vms: { total: 2, running: 0 },
  demo: null,
}
const tcg = {
  chosen: 'tcg' as const,
  reason:
    'software emulation (TCG): kvm is present but unusable — a test Linux kernel did not finish booting under kvm within 12 s (nested virtualization that hangs guests?)',
  probedAt: '2026-12-08T01:54:50.381Z',
}

describe('host status, plain', () => {
  it('prints the host, its QEMU, the accelerator and the VMs, one line each', () => {
    const done = {
      ...base,
      url: 'http://127.0.0.1:8080/',
      accelerator: tcg,
      acceleratorProbe: { state: 'done' as const },
    }
    expect(formatHostStatus(done)).toBe(
      [
        'Vireo 0.1.0 host, pid 4242, data dir /home/u/.config/Vireo',
        'Socket: /run/user/1000/vireo/host.sock, serving http://127.0.0.1:8080/',
        'QEMU: 7.2.22 (/usr/bin/qemu-system-x86_64)',
        `Accelerator: ${tcg.reason}`,
        'VMs: 2, running 0',
      ].join('\n'),
    )
  })

  it('says "probing…" while the probe runs', () => {
    expect(acceleratorLine(base)).toBe(
      'Accelerator: probing… (a test Linux kernel is booting to see whether hardware acceleration works)',
    )
  })

  it('gives the verdict with its reason, KVM as well as TCG', () => {
    const kvm = {
      chosen: 'kvm' as const,
      reason: 'kvm: a test Linux kernel booted under it',
      probedAt: tcg.probedAt,
    }
    expect(acceleratorLine({ ...base, accelerator: kvm, acceleratorProbe: { state: 'done' } })).toBe(
      'Accelerator: kvm: a test Linux kernel booted under it',
    )
  })

  it('says why there is no verdict when the probe failed', () => {
    const reason =
      'QEMU is not installed: install qemu-system-x86 (Debian/Ubuntu: apt-get install qemu-system-x86 qemu-utils)'
    expect(acceleratorLine({ ...base, qemu: null, acceleratorProbe: { state: 'failed', reason } })).toBe(
      `Accelerator: unknown, the probe failed: ${reason}`,
    )
    expect(
      formatHostStatus({ ...base, qemu: null, acceleratorProbe: { state: 'failed', reason } }),
    ).toContain('\nQEMU: not found\n')
  })

  it('reads an older host, which sends no probe state and probes at the first start', () => {
    const { acceleratorProbe: _p, ...older } = base
    expect(HostInfo.parse(older)).toEqual(older)
    expect(acceleratorLine(older)).toBe(
      'Accelerator: not probed yet (this host probes when a VM first starts)',
    )
    expect(acceleratorLine({ ...older, accelerator: tcg })).toBe(`Accelerator: ${tcg.reason}`)
  })

  it('shows control characters in what the host sent as escapes, on one line', () => {
    const line = acceleratorLine({
      ...base,
      acceleratorProbe: { state: 'failed', reason: 'bad\x1b[2J\nVMs: 99' },
    })
    expect(line).not.toContain('\x1b')
    expect(line).not.toContain('\n')
    expect(line).toContain('\\x1b')
  })
})
