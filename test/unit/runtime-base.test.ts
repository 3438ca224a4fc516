// The folder a host's sockets go in, when /tmp is everyone's: only a private folder of this user's.
import { chmodSync, chownSync, lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ensureRuntimeBase } from '../../engine/host/runtime-base.ts'

const root = mkdtempSync(join(tmpdir(), 'vireo-runtime-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))
const modeOf = (p: string) => lstatSync(p).mode & 0o777
const refusal = (f: () => unknown) => {
  try {
    f()
  } catch (err) {
    return { code: (err as { code?: string }).code, message: (err as Error).message }
  }
  return null
}

describe('ensureRuntimeBase', () => {
  it('makes the folder 0700, and tightens one of its own left looser', () => {
    const base = join(root, 'fresh')
    expect(ensureRuntimeBase(join(base, 'abc'))).toBe(base)
    expect(modeOf(base)).toBe(0o700)
    chmodSync(base, 0o755)
    ensureRuntimeBase(join(base, 'abc'))
    expect(modeOf(base)).toBe(0o700)
  })

  it('refuses a symbolic link put there in its place', () => {
    const target = join(root, 'elsewhere')
    mkdirSync(target)
    const base = join(root, 'link')
    symlinkSync(target, base)
    expect(refusal(() => ensureRuntimeBase(join(base, 'abc')))).toEqual({
      code: 'invalid_state',
      message: `the runtime folder ${base} is not a folder but a symbolic link; remove it, or point XDG_RUNTIME_DIR at a folder of your own`,
    })
  })

  it.runIf(process.getuid?.() === 0)('refuses a folder another user made first', () => {
    const base = join(root, 'planted')
    mkdirSync(base, { mode: 0o777 })
    chownSync(base, 65534, 65534)
    expect(refusal(() => ensureRuntimeBase(join(base, 'abc')))).toEqual({
      code: 'invalid_state',
      message: `the runtime folder ${base} belongs to another user (uid 65534), who could replace this host's sockets; remove it, or point XDG_RUNTIME_DIR at a folder of your own`,
    })
  })
})
