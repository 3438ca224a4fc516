// A library is its user's alone: folders 0700, files 0600, made so by the real CLI and its host on a
// fresh data dir, and an older data dir (0755 folders, 0644 disks) tightened once on the next start.
// No guest boots: VMs are created (a disk, UEFI variables, a disk-only snapshot) and left stopped.
import { execFileSync } from 'node:child_process'
import {
  chmodSync,
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
import type { VmInfo } from '../../engine/api/rpc.ts'
import { TIGHTENED_MARKER } from '../../engine/host/private-modes.ts'
import { vireo, vireoOk } from '../support/cli.ts'

const root = mkdtempSync(join(tmpdir(), 'vireo-modes-'))
const dataDir = join(root, 'new', 'library')
const outside = join(root, 'outside')
const dirs: string[] = [dataDir]

afterAll(async () => {
  for (const d of dirs) await vireo(d, ['host', 'stop', '--stop-vms'], 60_000)
  rmSync(root, { recursive: true, force: true })
})

const modeOf = (p: string) => lstatSync(p).mode & 0o7777

/** Every folder and file under dir (links not followed), with its mode. */
function modes(dir: string): Map<string, number> {
  const out = new Map<string, number>()
  const visit = (p: string) => {
    const st = lstatSync(p)
    if (st.isSymbolicLink()) return
    out.set(p, st.mode & 0o7777)
    if (st.isDirectory()) for (const name of readdirSync(p)) visit(join(p, name))
  }
  visit(dir)
  return out
}

/** What is not the user's alone, as "path mode" lines (so a failure names them). */
function notPrivate(dir: string): string[] {
  return [...modes(dir)]
    .filter(([p, m]) => (lstatSync(p).isDirectory() ? m !== 0o700 : m !== 0o600))
    .map(([p, m]) => `${p.slice(dir.length)} ${m.toString(8)}`)
}

async function stopHost(dir: string): Promise<void> {
  await vireoOk(dir, ['host', 'stop'])
}

describe('file modes of a library', () => {
  let vm: VmInfo
  let userDisk: string

  it('makes a fresh data dir and everything a new VM has private', async () => {
    mkdirSync(outside, { mode: 0o755 })
    userDisk = join(outside, 'mine.qcow2')
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', userDisk, '1M'])
    chmodSync(userDisk, 0o644)

    vm = JSON.parse(await vireoOk(dataDir, ['create', 'X', '--disk-size', '1M', '--json'])) as VmInfo
    await vireoOk(dataDir, ['create', 'U', '--firmware', 'uefi', '--disk-size', '1M'])
    await vireoOk(dataDir, ['snapshot', 'take', 'X', 'first'])
    // A disk the user keeps outside, used in place: theirs, and left as it was.
    await vireoOk(dataDir, ['create', 'Y', '--disk', userDisk])

    const vmDir = join(dataDir, 'vms', vm.id)
    expect(modeOf(dataDir)).toBe(0o700)
    expect(modeOf(join(dataDir, 'vms'))).toBe(0o700)
    expect(modeOf(vmDir)).toBe(0o700)
    expect(modeOf(join(vmDir, 'vm.json'))).toBe(0o600)
    expect(modeOf(join(vmDir, 'disks', 'disk0.qcow2'))).toBe(0o600)
    expect(modeOf(join(vmDir, 'logs'))).toBe(0o700)
    expect(modeOf(join(dataDir, 'logs', 'host.log'))).toBe(0o600)
    expect(existsSync(join(vmDir, 'snapshots'))).toBe(true)
    // And the rest: UEFI variables, snapshot layers and index, the host's own files.
    expect(notPrivate(dataDir)).toEqual([])
    expect(modeOf(userDisk)).toBe(0o644)
  })

  it('tightens a data dir left 0755/0644 by an older version once, and only what is inside it', async () => {
    await stopHost(dataDir)
    // What older versions left: every folder 0755, every file 0644, no marker.
    rmSync(join(dataDir, TIGHTENED_MARKER))
    for (const [p] of modes(dataDir)) chmodSync(p, lstatSync(p).isDirectory() ? 0o755 : 0o644)
    // A link in a VM folder to a file of the user's is never followed.
    const note = join(outside, 'note.txt')
    writeFileSync(note, 'mine', { mode: 0o644 })
    chmodSync(note, 0o644)
    symlinkSync(note, join(dataDir, 'vms', vm.id, 'note-link'))

    await vireoOk(dataDir, ['list'])
    expect(notPrivate(dataDir)).toEqual([])
    expect(existsSync(join(dataDir, TIGHTENED_MARKER))).toBe(true)
    expect(modeOf(note)).toBe(0o644)
    expect(modeOf(userDisk)).toBe(0o644)
    expect(modeOf(outside)).toBe(0o755)
  })

  it('leaves a mode the user set by hand afterwards alone', async () => {
    await stopHost(dataDir)
    const disk = join(dataDir, 'vms', vm.id, 'disks', 'disk0.qcow2')
    chmodSync(disk, 0o640)
    await vireoOk(dataDir, ['list'])
    expect(modeOf(disk)).toBe(0o640)
  })

  it("keeps the mode of a folder that holds the user's own things too, and makes Vireo's part private", async () => {
    const theirs = join(root, 'projects')
    mkdirSync(theirs, { mode: 0o755 })
    chmodSync(theirs, 0o755)
    writeFileSync(join(theirs, 'notes.txt'), '', { mode: 0o644 })
    chmodSync(join(theirs, 'notes.txt'), 0o644)
    dirs.push(theirs)
    await vireoOk(theirs, ['create', 'Z', '--disk-size', '1M'])
    expect(modeOf(theirs)).toBe(0o755)
    expect(modeOf(join(theirs, 'notes.txt'))).toBe(0o644)
    expect(notPrivate(join(theirs, 'vms'))).toEqual([])
  })
})
