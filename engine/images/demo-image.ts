// The demo guest the library's empty state offers: Vireo's own test guest (a Debian kernel and
// busybox, built by scripts/build-test-guest.sh), where one is at hand. Nothing is downloaded.
import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')

export const DEMO_VM_NAME = 'Vireo demo'

export function findDemoIso(env: NodeJS.ProcessEnv = process.env): string | null {
  const candidates = [
    env.VIREO_DEMO_ISO,
    env.VIREO_TEST_GUEST_DIR ? join(env.VIREO_TEST_GUEST_DIR, 'test-guest.iso') : undefined,
    join(repoRoot, 'assets', 'demo', 'test-guest.iso'),
    join(repoRoot, '.cache', 'test-guest', 'test-guest.iso'),
  ]
  return candidates.find((p): p is string => !!p && existsSync(p)) ?? null
}
