import { defineConfig } from 'vitest/config'

// Three projects: fast unit tests, integration tests that boot real QEMU guests under TCG, and
// end-to-end tests of the renderer in Chromium against a real host.
// Integration tests run one file at a time: this machine has two cores and every guest is emulated.
// For the same reason the projects run one after another (groupOrder) rather than side by side: a
// guest booting under TCG in one project would starve the guest and the browser of another.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts', 'test/unit/**/*.test.tsx'],
          // A component test's first render loads MUI into jsdom: 2 s on a quiet machine, over 5 s
          // (vitest's default limit) while the other unit files run beside it on two cores.
          testTimeout: 20_000,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
      {
        // Debian's Chromium against a real `vireo serve` and the test guest.
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          fileParallelism: false,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
})
