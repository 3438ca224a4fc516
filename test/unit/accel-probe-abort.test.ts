// A probe stopped midway (its host is going away): QEMU is killed and gone before the promise
// settles, and an interrupted probe caches nothing. QEMU is stood in for by a script that hangs,
// as Linux does under this machine's nested KVM, and leaves its pid where the test can see it.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { bootsUnder, ProbeAborted, probeAccelerator } from '../../engine/qemu/accel-probe.ts'
import type { QemuInstallation } from '../../engine/qemu/binaries.ts'

const dir = mkdtempSync(join(tmpdir(), 'vireo-probe-abort-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const pidFile = join(dir, 'pid')
const hang = join(dir, 'qemu-that-hangs')
writeFileSync(hang, `#!/bin/sh\necho $$ > '${pidFile}'\nexec sleep 60\n`, { mode: 0o755 })
const qemu = { system: hang, version: '7.2.22' } as QemuInstallation
const image = { kernel: hang, initrd: hang }

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function startedPid(): Promise<number> {
  for (let i = 0; i < 100 && !existsSync(pidFile); i++) await new Promise((r) => setTimeout(r, 20))
  return Number(readFileSync(pidFile, 'utf8'))
}

describe('stopping the accelerator probe', () => {
  it('kills the probe QEMU and settles only once it has exited', async () => {
    rmSync(pidFile, { force: true })
    const stop = new AbortController()
    const probe = bootsUnder(qemu, image, 'kvm', 30_000, stop.signal)
    const pid = await startedPid()
    expect(alive(pid)).toBe(true)
    const t0 = Date.now()
    stop.abort()
    await expect(probe).rejects.toBeInstanceOf(ProbeAborted)
    expect(alive(pid)).toBe(false)
    expect(Date.now() - t0).toBeLessThan(2_000)
  })

  it('starts no QEMU when already stopped', async () => {
    rmSync(pidFile, { force: true })
    await expect(bootsUnder(qemu, image, 'kvm', 30_000, AbortSignal.abort())).rejects.toBeInstanceOf(
      ProbeAborted,
    )
    await new Promise((r) => setTimeout(r, 200))
    expect(existsSync(pidFile)).toBe(false)
  })

  it('caches no verdict from an interrupted probe', async () => {
    rmSync(pidFile, { force: true })
    const cacheFile = join(dir, 'accelerator.json')
    const stop = new AbortController()
    // macOS's candidate (HVF) needs no /dev/kvm check: the hanging "QEMU" is what gets probed.
    const probe = probeAccelerator({ qemu, image, cacheFile, platform: 'darwin', signal: stop.signal })
    await startedPid()
    stop.abort()
    await expect(probe).rejects.toBeInstanceOf(ProbeAborted)
    expect(existsSync(cacheFile)).toBe(false)
  })
})
