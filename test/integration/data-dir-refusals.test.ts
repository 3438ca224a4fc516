// Hostile input: a --data-dir that cannot be a library is refused through the real CLI, in one
// sentence with a code other than `internal`, before anything is made anywhere.
import { execFileSync, spawn } from 'node:child_process'
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { dataDirLayout } from '../../engine/util/data-dir.ts'
import { repoRoot } from '../support/guest.ts'

const isRoot = process.getuid?.() === 0
/** Root may write anywhere: the cases about permissions run the CLI as nobody instead. */
const NOBODY = 65534
const me = isRoot ? NOBODY : process.getuid!()

const root = mkdtempSync(join(tmpdir(), 'vireo-refusals-'))
// nobody must be able to reach the cases' folders.
chmodSync(root, 0o755)
afterAll(() => {
  for (const p of walk(root)) if (lstatSync(p).isDirectory()) chmodSync(p, 0o755)
  rmSync(root, { recursive: true, force: true })
})

interface Result {
  code: number | null
  stdout: string
  stderr: string
}

function cli(args: string[], asOtherUser: boolean): Promise<Result> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'vireo'), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(asOtherUser && isRoot ? { uid: NOBODY, gid: NOBODY } : {}),
      env: { ...process.env, HOME: root },
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }))
  })
}

function walk(dir: string): string[] {
  const out: string[] = [dir]
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) out.push(...walk(p))
    else out.push(p)
  }
  return out
}

/** Everything under the cases' folder, with modes: must be the same after a refusal. */
function snapshot(): string {
  return walk(root)
    .map((p) => `${p} ${lstatSync(p).mode.toString(8)}`)
    .sort()
    .join('\n')
}

let n = 0
/** A folder of the case's own. */
function place(): string {
  const dir = join(root, `case-${++n}`)
  mkdirSync(dir, { mode: 0o755 })
  return dir
}

interface Case {
  what: string
  /** Makes what the case needs; the --data-dir to give and the sentence expected back. */
  setup(): { dataDir: string; message: string }
  /** Run as a user other than root (when the tests run as root), for the permission cases. */
  unprivileged?: boolean
}

const cases: Case[] = [
  {
    what: 'an existing regular file',
    setup: () => {
      const f = join(place(), 'library')
      writeFileSync(f, 'not a folder')
      return { dataDir: f, message: `the data dir ${f} is a file, not a folder; choose a folder` }
    },
  },
  {
    what: 'a path whose parent is a file',
    setup: () => {
      const f = join(place(), 'notes.txt')
      writeFileSync(f, '')
      const d = join(f, 'data')
      return {
        dataDir: d,
        message: `the data dir ${d} cannot be made: ${f} is a file, not a folder; choose another place`,
      }
    },
  },
  {
    what: 'a path several folders below a file',
    setup: () => {
      const f = join(place(), 'notes.txt')
      writeFileSync(f, '')
      const d = join(f, 'a', 'b', 'data')
      return {
        dataDir: d,
        message: `the data dir ${d} cannot be made: ${f} is a file, not a folder; choose another place`,
      }
    },
  },
  {
    what: 'a symbolic link to a file',
    setup: () => {
      const dir = place()
      writeFileSync(join(dir, 'target'), '')
      symlinkSync(join(dir, 'target'), join(dir, 'link'))
      const d = join(dir, 'link')
      return { dataDir: d, message: `the data dir ${d} is a file, not a folder; choose a folder` }
    },
  },
  {
    what: 'a loop of symbolic links',
    setup: () => {
      const dir = place()
      symlinkSync(join(dir, 'b'), join(dir, 'a'))
      symlinkSync(join(dir, 'a'), join(dir, 'b'))
      const d = join(dir, 'a')
      return {
        dataDir: d,
        message: `the data dir ${d} cannot be reached: its path loops through symbolic links; choose another path`,
      }
    },
  },
  {
    what: 'a path through a loop of symbolic links',
    setup: () => {
      const dir = place()
      symlinkSync(join(dir, 'b'), join(dir, 'a'))
      symlinkSync(join(dir, 'a'), join(dir, 'b'))
      const d = join(dir, 'a', 'data')
      return {
        dataDir: d,
        message: `the data dir ${d} cannot be reached: its path loops through symbolic links; choose another path`,
      }
    },
  },
  {
    what: 'a symbolic link to nothing',
    setup: () => {
      const dir = place()
      symlinkSync(join(dir, 'gone'), join(dir, 'link'))
      const d = join(dir, 'link')
      return {
        dataDir: d,
        message: `the data dir ${d} is a symbolic link to ${join(dir, 'gone')}, which does not exist; create that folder or choose another path`,
      }
    },
  },
  {
    what: 'a device',
    setup: () => ({
      dataDir: '/dev/null',
      message: 'the data dir /dev/null is a device, not a folder; choose a folder',
    }),
  },
  {
    what: 'a named pipe',
    setup: () => {
      const p = join(place(), 'pipe')
      execFileSync('mkfifo', [p])
      return { dataDir: p, message: `the data dir ${p} is a named pipe, not a folder; choose a folder` }
    },
  },
  {
    what: 'a name longer than the system allows',
    setup: () => {
      const d = join(place(), 'n'.repeat(300))
      return {
        dataDir: d,
        message: `the data dir path ${d.slice(0, 40)}…${d.slice(-20)} has a name of 300 bytes, and names may be at most 255; choose a shorter name`,
      }
    },
  },
  {
    what: 'a path too long for the files Vireo keeps inside it',
    setup: () => {
      const d = join(place(), ...Array.from({ length: 400 }, () => 'deep-name'))
      const bytes = Buffer.byteLength(d)
      return {
        dataDir: d,
        message: `the data dir path ${d.slice(0, 40)}…${d.slice(-20)} is ${bytes} bytes long, and Vireo needs it to be at most 3840 so that the files inside stay under the system's limit; choose a shorter path`,
      }
    },
  },
  {
    what: 'a folder in a parent the user cannot write',
    unprivileged: true,
    setup: () => {
      const locked = join(place(), 'locked')
      mkdirSync(locked, { mode: 0o555 })
      const d = join(locked, 'data')
      return {
        dataDir: d,
        message: `the data dir ${d} cannot be made: you cannot write in ${locked}; choose a folder you can write to`,
      }
    },
  },
  {
    what: 'an existing folder the user cannot write',
    unprivileged: true,
    setup: () => {
      const d = join(place(), 'read-only')
      mkdirSync(d)
      chownSync(d, me, me)
      chmodSync(d, 0o555)
      return {
        dataDir: d,
        message: `the data dir ${d} is not writable by you; choose a folder you can write to`,
      }
    },
  },
  {
    what: "another user's folder",
    setup: () => {
      // Root can give a folder away; anyone else meets one that is root's.
      const d = isRoot ? join(place(), 'theirs') : '/'
      if (isRoot) {
        mkdirSync(d, { mode: 0o755 })
        chownSync(d, NOBODY, NOBODY)
      }
      return {
        dataDir: d,
        message: `the data dir ${d} belongs to another user (uid ${lstatSync(d).uid}); choose a folder of your own`,
      }
    },
  },
  {
    what: 'a folder every user may write in, like /tmp',
    setup: () => {
      const d = join(place(), 'shared')
      mkdirSync(d)
      chownSync(d, process.getuid!(), process.getgid!())
      chmodSync(d, 0o1777)
      return {
        dataDir: d,
        message: `the data dir ${d} can be written by every user of this machine; choose a folder of your own`,
      }
    },
  },
  {
    what: 'a folder in /sys',
    setup: () => ({
      dataDir: '/sys/vireo-data',
      message:
        'the data dir /sys/vireo-data cannot be made: you cannot write in /sys; choose a folder you can write to',
    }),
  },
  {
    what: 'a folder in /proc',
    setup: () => ({
      dataDir: '/proc/vireo-data',
      message:
        'the data dir /proc/vireo-data cannot be made: /proc takes no new folders; choose a folder you can write to',
    }),
  },
]

describe('--data-dir that cannot be a library', () => {
  it.each(cases)('refuses $what', async (c) => {
    const { dataDir, message } = c.setup()
    const before = snapshot()
    const existed = existsSync(dataDir)
    const r = await cli(['--data-dir', dataDir, 'list', '--json'], !!c.unprivileged)
    expect(r.code).not.toBe(0)
    expect(r.stdout).toBe('')
    expect(JSON.parse(r.stderr)).toEqual({ error: { code: 'invalid_request', message } })
    expect(snapshot()).toBe(before)
    expect(existsSync(dataDir)).toBe(existed)
    // No host was started for it either.
    expect(existsSync(dataDirLayout(dataDir).runtimeRoot)).toBe(false)
  })

  it('refuses the same way whichever command meets it first', async () => {
    const f = join(place(), 'library')
    writeFileSync(f, '')
    const message = `the data dir ${f} is a file, not a folder; choose a folder`
    for (const args of [
      ['serve', '--port', '0', '--json'],
      ['create', 'X', '--disk-size', '1M', '--json'],
      ['host', 'status', '--json'],
      ['host', 'accept', '--off', '--json'],
    ]) {
      const r = await cli(['--data-dir', f, ...args], false)
      expect(r.code, args.join(' ')).not.toBe(0)
      expect(JSON.parse(r.stderr), args.join(' ')).toEqual({ error: { code: 'invalid_request', message } })
    }
    // Without --json: the sentence, as the CLI prints every error.
    const run = await cli(['--data-dir', f, 'host', 'run'], false)
    expect(run.code).toBe(1)
    expect(run.stderr).toBe(`vireo: ${message}.\n`)
  })
})
