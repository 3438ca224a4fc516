// `vireo host status` answers "will my VMs be accelerated, and why not" before any VM has started: a
// host probes the accelerator as it starts, in the background, and says "probing" until the verdict
// is in. Each host here gets an empty cache, so the probe really boots its kernel; and its own copy
// of the probe image, so that its QEMU can be told apart from any other on this machine.
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { HostInfo } from '../../engine/api/rpc.ts'
import { findProbeImage, PROBE_TIMEOUT_MS } from '../../engine/qemu/accel-probe.ts'
import type { CliResult } from '../support/cli.ts'
import { repoRoot, requireTestGuest } from '../support/guest.ts'

requireTestGuest()
const scratch = mkdtempSync(join(tmpdir(), 'vireo-status-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

interface Host {
  dataDir: string
  cache: string
  /** The probe kernel's path as this host's QEMU gets it. */
  kernel: string
  run(args: string[]): Promise<CliResult>
  status(): Promise<HostInfo & { running: boolean }>
}

function freshHost(name: string): Host {
  const dir = join(scratch, name)
  const probeDir = join(dir, 'probe')
  mkdirSync(probeDir, { recursive: true })
  const image = findProbeImage()!
  symlinkSync(image.kernel, join(probeDir, 'vmlinuz'))
  symlinkSync(image.initrd, join(probeDir, 'probe-initrd.img'))
  const env = {
    ...process.env,
    VIREO_TEST: '1',
    XDG_CACHE_HOME: join(dir, 'cache'),
    VIREO_PROBE_DIR: probeDir,
  }
  const dataDir = join(dir, 'data') // not made yet: the CLI makes it
  const run = (args: string[]) =>
    new Promise<CliResult>((resolvePromise, reject) => {
      const child = spawn(process.execPath, [join(repoRoot, 'bin/vireo'), '--data-dir', dataDir, ...args], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env,
      })
      let stdout = ''
      let stderr = ''
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
      child.on('error', reject)
      child.on('close', (code) => resolvePromise({ code, stdout, stderr }))
    })
  return {
    dataDir,
    cache: join(dir, 'cache', 'vireo', 'accelerator.json'),
    kernel: join(probeDir, 'vmlinuz'),
    run,
    async status() {
      const r = await run(['host', 'status', '--json'])
      expect(r.code, r.stderr).toBe(0)
      return JSON.parse(r.stdout) as HostInfo & { running: boolean }
    },
  }
}

/** QEMU processes booting this host's probe kernel (found by its unique path in their argv). */
function probesOf(host: Host): number[] {
  const pids: number[] = []
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')
      if (argv.includes(host.kernel) && argv.some((a) => a.includes('qemu-system'))) pids.push(Number(pid))
    } catch {
      /* gone meanwhile */
    }
  }
  return pids
}

/** The probe starts once the host has found QEMU (a few runs of `qemu --version` and such). */
async function probeAppears(host: Host): Promise<number[]> {
  for (let i = 0; i < 50 && probesOf(host).length === 0; i++) await new Promise((r) => setTimeout(r, 100))
  return probesOf(host)
}

const hosts: Host[] = []
afterAll(async () => {
  for (const h of hosts) await h.run(['host', 'stop'])
})

describe('host status and the accelerator probe', () => {
  it('shows the probe running from the start, then its verdict and reason, with no VM ever started', async () => {
    const host = freshHost('verdict')
    hosts.push(host)
    // Any command starts the background host; `list` starts no VM.
    const listed = await host.run(['list', '--json'])
    expect(listed.code, listed.stderr).toBe(0)
    expect(JSON.parse(listed.stdout)).toEqual([])

    const first = await host.status()
    expect(first.running).toBe(true)
    const verdictAtOnce = first.acceleratorProbe?.state === 'done'
    if (!verdictAtOnce) {
      // Where a hardware accelerator needs checking, its kernel is booting now, in the background.
      expect(first.acceleratorProbe).toEqual({ state: 'probing' })
      expect(first.accelerator).toBeNull()
      expect((await probeAppears(host)).length).toBe(1)
      expect((await host.run(['host', 'status'])).stdout).toContain('\nAccelerator: probing… (')
    }

    const deadline = Date.now() + PROBE_TIMEOUT_MS + 20_000
    let info = first
    while (info.acceleratorProbe?.state === 'probing' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500))
      info = await host.status()
    }
    expect(info.acceleratorProbe).toEqual({ state: 'done' })
    const verdict = info.accelerator!
    expect(['kvm', 'tcg']).toContain(verdict.chosen)
    expect(verdict.reason).toMatch(
      verdict.chosen === 'tcg' ? /^software emulation \(TCG\): .{20,}/ : /^kvm: /,
    )
    // Cached for the next host on this machine and this QEMU.
    expect(JSON.parse(readFileSync(host.cache, 'utf8'))).toMatchObject({ verdict })

    const plain = await host.run(['host', 'status'])
    expect(plain.stdout).toContain(`\nAccelerator: ${verdict.reason}\n`)
    expect(info.vms).toEqual({ total: 0, running: 0 })
    const vms = join(host.dataDir, 'vms')
    expect(existsSync(vms) ? readdirSync(vms) : []).toEqual([])
    expect(probesOf(host)).toEqual([])
  })

  it('leaves no probe QEMU behind when the host stops while it runs', async () => {
    const host = freshHost('stopped')
    hosts.push(host)
    expect((await host.run(['list'])).code).toBe(0)
    const info = await host.status()
    if (info.acceleratorProbe?.state !== 'probing') return // no hardware accelerator to probe here
    const probes = await probeAppears(host)
    expect(probes.length).toBe(1)

    const stopped = await host.run(['host', 'stop'])
    expect(stopped.code, stopped.stderr).toBe(0)
    expect(probesOf(host)).toEqual([])
    expect(existsSync(`/proc/${probes[0]}`)).toBe(false)
    // An interrupted probe is no verdict: nothing cached.
    expect(existsSync(host.cache)).toBe(false)
  })
})
