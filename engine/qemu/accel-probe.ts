// Chooses the accelerator by running a real Linux kernel under it. Firmware alone runs fine under
// this kind of host's nested KVM while Linux hangs, so only a kernel that reaches userspace counts.
import { spawn } from 'node:child_process'
import { accessSync, constants, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs'
import { release } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Accelerator, AcceleratorVerdict } from '../api/rpc.ts'
import { writeJsonAtomic } from '../util/atomic-file.ts'
import type { QemuInstallation } from './binaries.ts'
import { prlimit } from './exec.ts'

export const PROBE_MARKER = 'VIREO-PROBE-OK'
/** How long the probe kernel gets to boot under a hardware accelerator before it counts as hanging. */
export const PROBE_TIMEOUT_MS = 12_000

export interface ProbeImage {
  kernel: string
  initrd: string
}

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')

/** The probe image ships in assets/probe; a development checkout also finds the built test guest. */
export function findProbeImage(env: NodeJS.ProcessEnv = process.env): ProbeImage | null {
  const dirs = [
    env.VIREO_PROBE_DIR,
    join(repoRoot, 'assets', 'probe'),
    env.VIREO_TEST_GUEST_DIR,
    join(repoRoot, '.cache', 'test-guest'),
  ].filter((d): d is string => !!d)
  for (const dir of dirs) {
    const kernel = join(dir, 'vmlinuz')
    const initrd = join(dir, 'probe-initrd.img')
    if (existsSync(kernel) && existsSync(initrd)) return { kernel, initrd }
  }
  return null
}

function hardwareCandidate(platform: NodeJS.Platform): { accel: Accelerator; unavailable: string | null } {
  if (platform === 'linux') {
    try {
      accessSync('/dev/kvm', constants.R_OK | constants.W_OK)
      return { accel: 'kvm', unavailable: null }
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      return {
        accel: 'kvm',
        unavailable:
          code === 'ENOENT'
            ? 'this host has no /dev/kvm (virtualization is off in firmware, or this is a VM without nested virtualization)'
            : `/dev/kvm is not accessible to this user (${code}); add the user to the kvm group`,
      }
    }
  }
  if (platform === 'darwin') return { accel: 'hvf', unavailable: null }
  if (platform === 'win32') return { accel: 'whpx', unavailable: null }
  return { accel: 'tcg', unavailable: `no hardware accelerator is supported on ${platform}` }
}

/** Why a probe ended without a verdict: its host went away (nothing is cached). */
export class ProbeAborted extends Error {
  constructor() {
    super('the accelerator probe was stopped')
    this.name = 'ProbeAborted'
  }
}

/**
 * Boots the probe kernel under `accel`; true only if it printed its marker before the deadline.
 * An abort kills QEMU and rejects with ProbeAborted once QEMU has exited, so a stopping host never
 * leaves a probe behind.
 */
export function bootsUnder(
  qemu: QemuInstallation,
  image: ProbeImage,
  accel: Accelerator,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<{ ok: boolean; detail: string }> {
  if (signal?.aborted) return Promise.reject(new ProbeAborted())
  return new Promise((resolvePromise, rejectPromise) => {
    const args = [
      '-accel',
      accel,
      '-machine',
      'q35',
      '-m',
      '128',
      '-nodefaults',
      '-no-user-config',
      '-display',
      'none',
      '-serial',
      'stdio',
      '-no-reboot',
      '-kernel',
      image.kernel,
      '-initrd',
      image.initrd,
      '-append',
      'console=ttyS0 quiet panic=-1',
    ]
    // A CPU-time bound of its own: should the engine be killed mid-probe, a probe QEMU spinning in
    // a guest that hangs under KVM dies of it instead of running on without its parent.
    const limiter = prlimit()
    const cpuSeconds = Math.ceil(timeoutMs / 1000) * 4
    const child = limiter
      ? spawn(limiter, [`--cpu=${cpuSeconds}`, '--', qemu.system, ...args], {
          stdio: ['ignore', 'pipe', 'pipe'],
          shell: false,
        })
      : spawn(qemu.system, args, { stdio: ['ignore', 'pipe', 'pipe'], shell: false })
    let out = ''
    let err = ''
    let settled = false
    const onAbort = () => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      const gone = child.pid === undefined || child.exitCode !== null || child.signalCode !== null
      if (gone) rejectPromise(new ProbeAborted())
      else {
        child.once('exit', () => rejectPromise(new ProbeAborted()))
        child.kill('SIGKILL')
      }
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    const finish = (ok: boolean, detail: string) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      child.kill('SIGKILL')
      resolvePromise({ ok, detail })
    }
    const timer = setTimeout(
      () =>
        finish(
          false,
          `a test Linux kernel did not finish booting under ${accel} within ${timeoutMs / 1000} s`,
        ),
      timeoutMs,
    )
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d
      if (out.includes(PROBE_MARKER)) finish(true, 'a test Linux kernel booted')
    })
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d))
    child.on('error', (e) => finish(false, e.message))
    child.on('exit', (code) => {
      // Let the stdout pipe drain before judging: the marker may still be in flight.
      setTimeout(() => {
        if (out.includes(PROBE_MARKER)) finish(true, 'a test Linux kernel booted')
        else finish(false, `QEMU exited (${code}) under ${accel}: ${err.trim().split('\n').pop() ?? ''}`)
      }, 50)
    })
  })
}

interface CacheEntry {
  key: string
  verdict: AcceleratorVerdict
}

export interface ProbeOptions {
  qemu: QemuInstallation
  image: ProbeImage | null
  cacheFile: string
  timeoutMs?: number
  platform?: NodeJS.Platform
  /** Ignore a cached verdict. */
  fresh?: boolean
  /** Stops the probe (rejecting with ProbeAborted); nothing is cached then. */
  signal?: AbortSignal
}

export async function probeAccelerator(opts: ProbeOptions): Promise<AcceleratorVerdict> {
  const platform = opts.platform ?? process.platform
  const imageStamp = opts.image ? statSync(opts.image.kernel).size : 0
  const key = [opts.qemu.system, opts.qemu.version, platform, release(), imageStamp].join('|')
  if (!opts.fresh) {
    try {
      const cached = JSON.parse(readFileSync(opts.cacheFile, 'utf8')) as CacheEntry
      if (cached.key === key) return cached.verdict
    } catch {
      /* no cache yet */
    }
  }
  const verdict = await decide(opts, platform)
  try {
    mkdirSync(dirname(opts.cacheFile), { recursive: true })
    writeJsonAtomic(opts.cacheFile, { key, verdict } satisfies CacheEntry)
  } catch {
    /* a cache that cannot be written only costs a probe next time */
  }
  return verdict
}

async function decide(opts: ProbeOptions, platform: NodeJS.Platform): Promise<AcceleratorVerdict> {
  const now = new Date().toISOString()
  const hw = hardwareCandidate(platform)
  if (hw.accel === 'tcg' || hw.unavailable) {
    return { chosen: 'tcg', reason: `software emulation (TCG): ${hw.unavailable}`, probedAt: now }
  }
  if (!opts.image) {
    return {
      chosen: 'tcg',
      reason: `software emulation (TCG): ${hw.accel} could not be verified, the probe image (assets/probe) is missing`,
      probedAt: now,
    }
  }
  const result = await bootsUnder(
    opts.qemu,
    opts.image,
    hw.accel,
    opts.timeoutMs ?? PROBE_TIMEOUT_MS,
    opts.signal,
  )
  if (result.ok) return { chosen: hw.accel, reason: `${hw.accel}: ${result.detail} under it`, probedAt: now }
  return {
    chosen: 'tcg',
    reason: `software emulation (TCG): ${hw.accel} is present but unusable — ${result.detail} (nested virtualization that hangs guests?)`,
    probedAt: now,
  }
}
