// The data dir as the desktop app's engine meets it (engine/host/utility-main.ts with the real host):
// a missing one is made 0700 under parents made as mkdir -p makes them; an unusable one is reported
// to main in the sentence the CLI prints. And ensureDataDir's refusal of what no argv can carry.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { VireoError } from '../../engine/api/errors.ts'
import { ensureDataDir } from '../../engine/host/ensure-data-dir.ts'
import { runUtility, type FromEngine, type ParentPortLike } from '../../engine/host/utility-main.ts'

const root = mkdtempSync(join(tmpdir(), 'vireo-entry-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))
// The usual mode of a new folder, taken before a host in this process sets its umask to 077.
const probe = join(root, 'probe')
mkdirSync(probe)

function utility(dataDir: string) {
  const reports: FromEngine[] = []
  const listeners: Array<(e: { data: unknown; ports: [] }) => void> = []
  const parentPort: ParentPortLike = {
    on: (_event, listener) => listeners.push(listener),
    postMessage: (m) => reports.push(m),
  }
  const run = runUtility({ dataDir, parentPort, exit: () => undefined, log: () => undefined })
  const quit = () => {
    for (const l of listeners) l({ data: { type: 'quit', stopVms: false }, ports: [] })
    return run.done
  }
  return { run, reports, quit }
}

const modeOf = (p: string) => statSync(p).mode & 0o777

describe("the desktop app's engine and its data dir", () => {
  it('makes a data dir that does not exist yet, 0700, and its parents with the usual modes', async () => {
    const dataDir = join(root, 'a', 'b', 'Vireo')
    const u = utility(dataDir)
    expect(await u.run.host).not.toBeNull()
    expect(u.reports[0]).toMatchObject({ type: 'ready', dataDir })
    expect(modeOf(dataDir)).toBe(0o700)
    expect(modeOf(join(dataDir, 'vms'))).toBe(0o700)
    expect(modeOf(join(root, 'a', 'b'))).toBe(modeOf(probe))
    expect(await u.quit()).toBe(0)
  })

  it('reports a data dir that is a file in one sentence, and starts nothing', async () => {
    const file = join(root, 'settings.txt')
    writeFileSync(file, '')
    const u = utility(file)
    expect(await u.run.host).toBeNull()
    expect(await u.run.done).toBe(1)
    expect(u.reports).toEqual([
      { type: 'failed', message: `the data dir ${file} is a file, not a folder; choose a folder` },
    ])
  })
})

describe('ensureDataDir', () => {
  it('refuses a path with a NUL byte (an argv cannot carry one; an RPC or a settings file can)', () => {
    const err = (() => {
      try {
        ensureDataDir(join(root, 'a\0b'))
      } catch (e) {
        return e
      }
    })() as VireoError
    expect(err).toBeInstanceOf(VireoError)
    expect(err.code).toBe('invalid_request')
    expect(err.message).toBe('the data dir path contains a NUL byte; choose another path')
  })

  it('returns the absolute path, and accepts a data dir that exists already as it is', () => {
    const dir = join(root, 'existing')
    mkdirSync(dir)
    chmodSync(dir, 0o750)
    expect(ensureDataDir(dir)).toBe(dir)
    // Tightening is the host's, once (engine/host/private-modes.ts), not every CLI call's.
    expect(modeOf(dir)).toBe(0o750)
  })
})
