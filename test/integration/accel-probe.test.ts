// The accelerator probe boots a real kernel before trusting hardware acceleration. On hosts whose
// /dev/kvm opens but hangs Linux (nested KVM here), it must reject KVM with a reason and pick TCG.
import { accessSync, constants, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { bootsUnder, findProbeImage, probeAccelerator } from '../../engine/qemu/accel-probe.ts'
import { findQemu } from '../../engine/qemu/binaries.ts'
import { requireTestGuest } from '../support/guest.ts'

requireTestGuest()

function kvmOpens(): boolean {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK)
    return true
  } catch {
    return false
  }
}

describe('accelerator probe', () => {
  it('boots the probe kernel under TCG (the probe image itself works)', async () => {
    const qemu = await findQemu()
    const image = findProbeImage()
    expect(image).not.toBeNull()
    const r = await bootsUnder(qemu, image!, 'tcg', 60_000)
    expect(r).toEqual({ ok: true, detail: 'a test Linux kernel booted' })
  })

  it('chooses with nothing configured, and its verdict agrees with a longer direct boot', async () => {
    const qemu = await findQemu()
    const image = findProbeImage()!
    const cacheFile = join(mkdtempSync(join(tmpdir(), 'vireo-probe-')), 'accelerator.json')
    // A direct KVM boot with twice the probe's patience runs alongside, as the referee.
    const [verdict, referee] = await Promise.all([
      probeAccelerator({ qemu, image, cacheFile, fresh: true }),
      kvmOpens() ? bootsUnder(qemu, image, 'kvm', 25_000) : Promise.resolve(null),
    ])
    expect(verdict.reason.length).toBeGreaterThan(20)
    if (!kvmOpens()) {
      expect(verdict.chosen).toBe('tcg')
      expect(verdict.reason).toMatch(/\/dev\/kvm/)
    } else if (referee?.ok) {
      expect(verdict.chosen).toBe('kvm')
    } else {
      // This machine: /dev/kvm opens, Linux hangs under it.
      expect(verdict.chosen).toBe('tcg')
      expect(verdict.reason).toMatch(
        /kvm is present but unusable — a test Linux kernel did not finish booting/,
      )
    }
    // Cached per host and QEMU: a second call returns the same verdict, probe time included.
    expect(await probeAccelerator({ qemu, image, cacheFile })).toEqual(verdict)
  })
})
