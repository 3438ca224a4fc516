import { defineConfig } from 'vitest/config'

// Two projects: fast unit tests, and integration tests that boot real QEMU guests under TCG.
// Integration tests run one file at a time: this machine has two cores and every guest is emulated.
export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts', 'test/unit/**/*.test.tsx'] } },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
})
