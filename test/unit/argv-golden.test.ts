// The builder's command lines against the golden files in test/golden. After an intended change,
// regenerate with UPDATE_GOLDEN=1 and read the diff: it is exactly what QEMU will be told.
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { buildQemuArgv } from '../../engine/qemu/argv/index.ts'
import { ARGV_CASES } from '../golden/argv-cases.ts'
import { repoRoot } from '../support/guest.ts'

const goldenDir = join(repoRoot, 'test', 'golden')
const update = process.env.UPDATE_GOLDEN === '1'

describe('QEMU argv goldens', () => {
  it.each(ARGV_CASES.map((c) => [c.name, c] as const))('%s', (name, c) => {
    const argv = buildQemuArgv(c.config, c.ctx)
    const file = join(goldenDir, `${name}.argv.json`)
    if (update || !existsSync(file)) {
      writeFileSync(file, `${JSON.stringify(argv, null, 2)}\n`)
      if (!update) throw new Error(`${file} did not exist and was written; check it and run again`)
    }
    expect(argv).toEqual(JSON.parse(readFileSync(file, 'utf8')))
  })

  it('renders every device and block node as one JSON argument', () => {
    for (const c of ARGV_CASES) {
      const argv = buildQemuArgv(c.config, c.ctx)
      argv.forEach((arg, i) => {
        if (['-device', '-blockdev', '-netdev', '-object'].includes(argv[i - 1] ?? '')) {
          expect(() => JSON.parse(arg), `${c.name}: ${arg}`).not.toThrow()
        }
      })
    }
  })
})
