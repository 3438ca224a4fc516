// The test guest built by scripts/build-test-guest.sh (Debian kernel + busybox), and its markers.
import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const guestDir = process.env.VIREO_TEST_GUEST_DIR ?? join(repoRoot, '.cache', 'test-guest')
export const GUEST_MARKER = 'VIREO-TEST-GUEST-READY'

export const testGuest = {
  iso: join(guestDir, 'test-guest.iso'),
  kernel: join(guestDir, 'vmlinuz'),
  initrd: join(guestDir, 'initrd.img'),
  probeInitrd: join(guestDir, 'probe-initrd.img'),
}

export function requireTestGuest(): typeof testGuest {
  for (const f of Object.values(testGuest)) {
    if (!existsSync(f)) throw new Error(`the test guest is missing (${f}): run scripts/build-test-guest.sh`)
  }
  return testGuest
}
