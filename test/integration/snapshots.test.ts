// Snapshots on the real test guest under TCG, through the CLI: a live snapshot resumes a counting
// guest where it was; disk data comes back; a branch; a middle snapshot deleted while the others
// still revert; a linked clone boots beside its source; kills of the host mid-take and mid-delete
// leave a VM that boots and images that check clean; so do kills of QEMU mid-take, while a revert
// loads the saved memory and while a delete merges a middle snapshot; a revert after a memory-size
// change brings the old size back.
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { SnapshotInfo, SnapshotTree } from '../../engine/api/rpc.ts'
import { cleanupDataDir, guestSays, hostPid, tempDataDir, vireo, vireoOk } from '../support/cli.ts'
import { GUEST_MARKER, repoRoot, requireTestGuest } from '../support/guest.ts'
import { isAlive } from '../../engine/util/process-alive.ts'
import { bootBox, COUNTER, readSector, writeSector } from '../support/test-vm.ts'

requireTestGuest()

/** The last COUNT-n the guest printed since its QEMU started. */
async function lastCount(dataDir: string, name: string): Promise<{ n: number; seen: string }> {
  const seen = await vireoOk(dataDir, ['console', name, '--expect', 'COUNT-\\d+\\r?\\n', '--timeout', '30'])
  const all = [...seen.matchAll(/COUNT-(\d+)/g)].map((m) => Number(m[1]))
  return { n: all.at(-1) ?? -1, seen }
}

async function waitCount(dataDir: string, name: string, atLeast: number): Promise<void> {
  await expect
    .poll(async () => (await lastCount(dataDir, name)).n, { timeout: 60_000, interval: 500 })
    .toBeGreaterThanOrEqual(atLeast)
}

async function take(dataDir: string, vm: string, snap: string): Promise<SnapshotInfo> {
  const out = await vireoOk(dataDir, ['snapshot', 'take', vm, snap, '--json'], 180_000)
  return JSON.parse(out.trim().split('\n').at(-1)!) as SnapshotInfo
}

async function tree(dataDir: string, vm: string): Promise<SnapshotTree> {
  return JSON.parse(await vireoOk(dataDir, ['snapshot', 'list', vm, '--json'])) as SnapshotTree
}

/** qemu-img check of every image in the data dir: 0 clean (3, leaks, is repaired by the engine). */
function checkAllImages(dataDir: string): { file: string; code: number }[] {
  const out: { file: string; code: number }[] = []
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name)
      if (statSync(p).isDirectory()) walk(p)
      else if (name.endsWith('.qcow2')) {
        let code = 0
        try {
          execFileSync('qemu-img', ['check', '-q', p], { stdio: 'pipe' })
        } catch (err) {
          code = (err as { status: number }).status
        }
        out.push({ file: p, code })
      }
    }
  }
  walk(join(dataDir, 'vms'))
  return out
}

describe('snapshots of a running and a stopped guest', () => {
  let dataDir: string
  beforeAll(async () => {
    dataDir = tempDataDir()
    await bootBox(dataDir, 'box')
  }, 240_000)
  afterAll(async () => {
    await cleanupDataDir(dataDir)
  })

  it('names a raw disk as a blocker, and take refuses with the same words', async () => {
    const raw = join(dataDir, 'raw.img')
    execFileSync('qemu-img', ['create', '-q', '-f', 'raw', raw, '16M'])
    await vireoOk(dataDir, ['create', 'rawbox', '--disk', raw, '--memory', '256'])
    const t = await tree(dataDir, 'rawbox')
    expect(t.blockers).toHaveLength(1)
    expect(t.blockers[0]).toMatch(/disk "disk0" is raw.*vireo disk convert "rawbox" disk0 --to qcow2/)
    const r = await vireo(dataDir, ['snapshot', 'take', 'rawbox', 'nope'])
    expect(r.code).not.toBe(0)
    expect(r.stderr).toContain('vireo disk convert "rawbox" disk0 --to qcow2')
  })

  it('takes a live snapshot at count N; after a revert the count resumes near N, without a new boot', async () => {
    await guestSays(dataDir, 'box', COUNTER, 'COUNT-2\\r?\\n')
    const before = (await lastCount(dataDir, 'box')).n
    const snap = await take(dataDir, 'box', 'counting')
    expect(snap.kind).toBe('live')
    expect(snap.thumbnail).toMatch(/^iVBORw0KGgo/)
    const after = (await lastCount(dataDir, 'box')).n
    await waitCount(dataDir, 'box', after + 8)
    await vireoOk(dataDir, ['snapshot', 'revert', 'box', 'counting'], 180_000)
    const { n, seen } = await lastCount(dataDir, 'box')
    expect(seen).not.toContain(GUEST_MARKER)
    const first = Number(/COUNT-(\d+)/.exec(seen)![1])
    expect(first).toBeGreaterThanOrEqual(before)
    expect(first).toBeLessThanOrEqual(after + 1)
    expect(n).toBeLessThan(after + 8)
    const log = execFileSync(
      'cat',
      [join(JSON.parse(await vireoOk(dataDir, ['info', 'box', '--json'])).dir, 'logs', 'snapshots.log')],
      { encoding: 'utf8' },
    )
    expect(log).toMatch(/"op":"take".*"background":true/)
  })

  it('brings old disk bytes back, branches, deletes a middle snapshot, and the others still revert', async () => {
    await writeSector(dataDir, 'box', 'AAAA-OLD')
    const a = await take(dataDir, 'box', 'A')
    await writeSector(dataDir, 'box', 'BBBB-NEW')
    const b = await take(dataDir, 'box', 'B')
    await vireoOk(dataDir, ['snapshot', 'revert', 'box', 'A'], 180_000)
    expect(await readSector(dataDir, 'box')).toBe('AAAA-OLD')
    await writeSector(dataDir, 'box', 'CCCC-BRN')
    const c = await take(dataDir, 'box', 'C')
    let t = await tree(dataDir, 'box')
    expect(t.current).toBe(c.id)
    expect(t.snapshots.find((s) => s.id === b.id)!.parent).toBe(a.id)
    expect(t.snapshots.find((s) => s.id === c.id)!.parent).toBe(a.id)
    const listed = await vireoOk(dataDir, ['snapshot', 'list', 'box'])
    expect(listed).toMatch(/^\* +C {2}\[/m)

    // A sits between "counting" and the branch B / C; the VM runs on C.
    await writeSector(dataDir, 'box', 'DDDD-CUR')
    t = JSON.parse(
      (await vireoOk(dataDir, ['snapshot', 'delete', 'box', 'A', '--json'], 180_000))
        .trim()
        .split('\n')
        .at(-1)!,
    ) as SnapshotTree
    expect(t.snapshots.map((s) => s.name)).toEqual(['counting', 'B', 'C'])
    const counting = t.snapshots.find((s) => s.name === 'counting')!
    expect(t.snapshots.find((s) => s.id === b.id)!.parent).toBe(counting.id)
    expect(t.current).toBe(c.id)
    // The current state did not change under the running guest.
    expect(await readSector(dataDir, 'box')).toBe('DDDD-CUR')
    await vireoOk(dataDir, ['snapshot', 'revert', 'box', b.id], 180_000)
    expect(await readSector(dataDir, 'box')).toBe('BBBB-NEW')
    await vireoOk(dataDir, ['snapshot', 'revert', 'box', 'C'], 180_000)
    expect(await readSector(dataDir, 'box')).toBe('CCCC-BRN')
    // Deleting the snapshot the VM stands on keeps its state too.
    await writeSector(dataDir, 'box', 'EEEE-CUR')
    t = JSON.parse(
      (await vireoOk(dataDir, ['snapshot', 'delete', 'box', 'C', '--json'])).trim().split('\n').at(-1)!,
    ) as SnapshotTree
    expect(t.current).toBe(counting.id)
    expect(await readSector(dataDir, 'box')).toBe('EEEE-CUR')
  })

  it('boots a linked clone while the original runs, and keeps the snapshot it needs', async () => {
    await vireoOk(dataDir, ['clone', 'box', 'linky', '--from', 'B', '--linked'], 180_000)
    await vireoOk(dataDir, ['start', 'linky'])
    await vireoOk(dataDir, ['console', 'linky', '--expect', GUEST_MARKER, '--timeout', '180'], 200_000)
    expect(await readSector(dataDir, 'linky')).toBe('BBBB-NEW')
    const refused = await vireo(dataDir, ['snapshot', 'delete', 'box', 'B'])
    expect(refused.code).not.toBe(0)
    expect(refused.stderr).toMatch(/linked clone "linky" is built on the snapshot "B"/)
    await vireoOk(dataDir, ['stop', 'linky', '--force'])
    // A full copy stands alone.
    await vireoOk(dataDir, ['clone', 'box', 'copy', '--from', 'B'], 180_000)
    const info = JSON.parse(await vireoOk(dataDir, ['info', 'copy', '--json'])) as {
      dir: string
      config: { nics: { mac: string }[] }
    }
    const img = JSON.parse(
      execFileSync('qemu-img', ['info', '--output=json', join(info.dir, 'disks', 'disk0.qcow2')], {
        encoding: 'utf8',
      }),
    ) as Record<string, unknown>
    expect(img['backing-filename']).toBeUndefined()
    const src = JSON.parse(await vireoOk(dataDir, ['info', 'box', '--json'])) as {
      config: { nics: { mac: string }[] }
    }
    expect(info.config.nics[0]!.mac).not.toBe(src.config.nics[0]!.mac)
  })

  it('reverts a stopped VM to a disk-only snapshot, and every image checks clean', async () => {
    await vireoOk(dataDir, ['stop', 'box', '--force'])
    await take(dataDir, 'box', 'cold')
    await vireoOk(dataDir, ['snapshot', 'revert', 'box', 'cold'])
    expect((await tree(dataDir, 'box')).snapshots.find((s) => s.name === 'cold')!.kind).toBe('disk')
    await vireoOk(dataDir, ['start', 'box'])
    await vireoOk(dataDir, ['console', 'box', '--expect', GUEST_MARKER, '--timeout', '180'], 200_000)
    expect(await readSector(dataDir, 'box')).toBe('EEEE-CUR')
    await vireoOk(dataDir, ['stop', 'box', '--force'])
    expect(checkAllImages(dataDir).filter((r) => r.code !== 0)).toEqual([])
  })
})

/** Runs a CLI command and SIGKILLs the host once `when` matches its stdout (or after `delayMs`). */
function killHostDuring(dataDir: string, args: string[], when: RegExp, delayMs: number): Promise<void> {
  return killDuring(dataDir, args, when, delayMs, hostPid(dataDir))
}

/** Runs a CLI command and SIGKILLs `pid` once `when` matches its stdout (after `delayMs`), then waits for it to go. */
function killDuring(
  dataDir: string,
  args: string[],
  when: RegExp,
  delayMs: number,
  pid: number,
): Promise<void> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'vireo'), '--data-dir', dataDir, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let killed = false
    const host = pid
    const kill = () => {
      if (killed) return
      killed = true
      process.kill(host, 'SIGKILL')
    }
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (when.test(d)) setTimeout(kill, delayMs)
    })
    child.on('close', () => {
      kill()
      // The next CLI starts a new host only once the killed one is gone (reaped, not a zombie).
      const wait = () => (isAlive(host) ? setTimeout(wait, 50) : resolvePromise())
      wait()
    })
  })
}

describe('a host killed in the middle of a snapshot operation', () => {
  let dataDir: string
  beforeAll(async () => {
    dataDir = tempDataDir()
    await bootBox(dataDir, 'box')
  }, 240_000)
  afterAll(async () => {
    await cleanupDataDir(dataDir)
  })

  it('mid-take: the next host finds the VM consistent, it reverts and boots, images check clean', async () => {
    await writeSector(dataDir, 'box', 'KNOW-ONE')
    await take(dataDir, 'box', 'known')
    await writeSector(dataDir, 'box', 'LATE-TWO')
    await killHostDuring(dataDir, ['snapshot', 'take', 'box', 'cut', '--json'], /saving memory/, 5)
    // A new host: recovery runs before anything else.
    const t = await tree(dataDir, 'box')
    expect(t.snapshots.map((s) => s.name)).toContain('known')
    expect(await readSector(dataDir, 'box')).toBe('LATE-TWO')
    await vireoOk(dataDir, ['snapshot', 'revert', 'box', 'known'], 180_000)
    expect(await readSector(dataDir, 'box')).toBe('KNOW-ONE')
    await vireoOk(dataDir, ['stop', 'box', '--force'])
    expect(checkAllImages(dataDir).filter((r) => r.code !== 0 && r.code !== 3)).toEqual([])
    await vireoOk(dataDir, ['start', 'box'])
    await vireoOk(dataDir, ['console', 'box', '--expect', GUEST_MARKER, '--timeout', '180'], 200_000)
    expect(await readSector(dataDir, 'box')).toBe('KNOW-ONE')
  })

  it('mid-delete: the next host finishes it, the others revert with their data, images check clean', async () => {
    await writeSector(dataDir, 'box', 'MIDL-SNP')
    await take(dataDir, 'box', 'middle')
    await writeSector(dataDir, 'box', 'LAST-SNP')
    await take(dataDir, 'box', 'last')
    await vireoOk(dataDir, ['stop', 'box', '--force'])
    await killHostDuring(dataDir, ['snapshot', 'delete', 'box', 'middle', '--json'], /merging/, 0)
    const t = await tree(dataDir, 'box')
    expect(t.snapshots.map((s) => s.name)).toEqual(['known', 'last'])
    expect(checkAllImages(dataDir).filter((r) => r.code !== 0)).toEqual([])
    await vireoOk(dataDir, ['snapshot', 'revert', 'box', 'last'], 180_000)
    expect(await readSector(dataDir, 'box')).toBe('LAST-SNP')
    await vireoOk(dataDir, ['snapshot', 'revert', 'box', 'known'], 180_000)
    expect(await readSector(dataDir, 'box')).toBe('KNOW-ONE')
  })

  it('mid-revert: the VM is at the snapshot or where it was, boots, and reverts again', async () => {
    await writeSector(dataDir, 'box', 'REVT-CUR')
    await killHostDuring(dataDir, ['snapshot', 'revert', 'box', 'last', '--json'], /making overlays/, 0)
    const info = JSON.parse(await vireoOk(dataDir, ['info', 'box', '--json'])) as { state: string }
    if (info.state === 'stopped') {
      await vireoOk(dataDir, ['start', 'box'])
      await vireoOk(dataDir, ['console', 'box', '--expect', GUEST_MARKER, '--timeout', '180'], 200_000)
    }
    expect(['REVT-CUR', 'LAST-SNP']).toContain(await readSector(dataDir, 'box'))
    await vireoOk(dataDir, ['snapshot', 'revert', 'box', 'last'], 180_000)
    expect(await readSector(dataDir, 'box')).toBe('LAST-SNP')
  })

  it('QEMU killed mid-take: the VM boots with what it had written, and reverts', async () => {
    await writeSector(dataDir, 'box', 'QKIL-PRE')
    const pid = (
      JSON.parse(await vireoOk(dataDir, ['info', 'box', '--json'])) as { runtime: { pid: number } }
    ).runtime.pid
    await killDuring(dataDir, ['snapshot', 'take', 'box', 'qkill', '--json'], /saving memory/, 5, pid)
    await expect
      .poll(
        async () =>
          (JSON.parse(await vireoOk(dataDir, ['info', 'box', '--json'])) as { state: string }).state,
      )
      .toBe('stopped')
    await vireoOk(dataDir, ['start', 'box'])
    await vireoOk(dataDir, ['console', 'box', '--expect', GUEST_MARKER, '--timeout', '180'], 200_000)
    expect(await readSector(dataDir, 'box')).toBe('QKIL-PRE')
    await vireoOk(dataDir, ['snapshot', 'revert', 'box', 'known'], 180_000)
    expect(await readSector(dataDir, 'box')).toBe('KNOW-ONE')
    await vireoOk(dataDir, ['stop', 'box', '--force'])
    expect(checkAllImages(dataDir).filter((r) => r.code !== 0 && r.code !== 3)).toEqual([])
  })
})

describe('a live snapshot of a UEFI guest', () => {
  let dataDir: string
  beforeAll(() => {
    dataDir = tempDataDir()
  })
  afterAll(async () => {
    await cleanupDataDir(dataDir)
  })

  it('takes and reverts with the UEFI variables in the snapshot; the count resumes near N', async () => {
    await bootBox(dataDir, 'efi', { extra: ['--firmware', 'uefi', '--memory', '512'] })
    await guestSays(dataDir, 'efi', COUNTER, 'COUNT-2\\r?\\n')
    const before = (await lastCount(dataDir, 'efi')).n
    const snap = await take(dataDir, 'efi', 'efi-live')
    expect(snap.kind).toBe('live')
    const after = (await lastCount(dataDir, 'efi')).n
    await waitCount(dataDir, 'efi', after + 6)
    await vireoOk(dataDir, ['snapshot', 'revert', 'efi', 'efi-live'], 180_000)
    const { seen } = await lastCount(dataDir, 'efi')
    expect(seen).not.toContain(GUEST_MARKER)
    const first = Number(/COUNT-(\d+)/.exec(seen)![1])
    expect(first).toBeGreaterThanOrEqual(before)
    expect(first).toBeLessThanOrEqual(after + 1)
    const info = JSON.parse(await vireoOk(dataDir, ['info', 'efi', '--json'])) as { dir: string }
    const argv = JSON.parse(await vireoOk(dataDir, ['info', 'efi', '--qemu-argv', '--json'])) as string[]
    // The vars QEMU runs on are an overlay on the snapshot's layer, not the original file.
    expect(argv.join(' ')).toMatch(/nvram\.[0-9a-f]{8}\.qcow2/)
    await vireoOk(dataDir, ['stop', 'efi', '--force'])
    expect(checkAllImages(dataDir).filter((r) => r.code !== 0)).toEqual([])
    expect(info.dir).toBeTruthy()
  })
})

/** The pid of a QEMU whose command line names `runtimeDir` and waits for incoming state, if one runs. */
function incomingQemu(runtimeDir: string): number | null {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    let argv: string[]
    try {
      argv = readFileSync(join('/proc', entry, 'cmdline'), 'utf8').split('\0')
    } catch {
      continue
    }
    if (argv.includes('-incoming') && argv.some((a) => a.includes(runtimeDir))) return Number(entry)
  }
  return null
}

/**
 * Runs a CLI command, polls `pick` every few ms while it works and SIGKILLs the pid it returns;
 * resolves with the command's result, and whether the kill came before the command ended.
 */
function killWhen(
  dataDir: string,
  args: string[],
  pick: () => number | null,
): Promise<{ code: number | null; stdout: string; stderr: string; killedMidway: boolean }> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'vireo'), '--data-dir', dataDir, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    let killed: number | null = null
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    const timer = setInterval(() => {
      const pid = pick()
      if (pid === null) return
      clearInterval(timer)
      killed = pid
      process.kill(pid, 'SIGKILL')
    }, 3)
    child.on('close', (code) => {
      clearInterval(timer)
      const killedMidway = killed !== null
      const wait = () =>
        killed !== null && isAlive(killed)
          ? setTimeout(wait, 50)
          : resolvePromise({ code, stdout, stderr, killedMidway })
      wait()
    })
  })
}

interface BoxInfo {
  dir: string
  state: string
  config: { memoryMiB: number }
  runtime: { pid: number; runtimeDir: string } | null
}

async function boxInfo(dataDir: string, name: string): Promise<BoxInfo> {
  return JSON.parse(await vireoOk(dataDir, ['info', name, '--json'])) as BoxInfo
}

describe('QEMU killed in the middle of a revert or a delete', () => {
  let dataDir: string
  beforeAll(async () => {
    dataDir = tempDataDir()
    await bootBox(dataDir, 'box')
  }, 240_000)
  afterAll(async () => {
    await cleanupDataDir(dataDir)
  })

  it('mid-revert of a live snapshot (while it loads the memory): the VM stops, the tree holds, it reverts again', async () => {
    await writeSector(dataDir, 'box', 'LIVE-SNP')
    await take(dataDir, 'box', 'live')
    await writeSector(dataDir, 'box', 'AFTR-LIV')
    const { runtime } = await boxInfo(dataDir, 'box')
    const sock = join(runtime!.runtimeDir, 'state.sock')
    const began = Date.now()
    // The new QEMU, once it listens for the saved state the engine streams into it.
    const r = await killWhen(dataDir, ['snapshot', 'revert', 'box', 'live', '--json'], () => {
      const pid = incomingQemu(runtime!.runtimeDir)
      return pid !== null && existsSync(sock) && statSync(sock).mtimeMs >= began - 1000 ? pid : null
    })
    expect(r.killedMidway).toBe(true)
    expect(r.code).not.toBe(0)
    expect(r.stderr).not.toMatch(/^\s*$/)
    await expect.poll(async () => (await boxInfo(dataDir, 'box')).state).toBe('stopped')
    const t = await tree(dataDir, 'box')
    expect(t.snapshots.map((s) => s.name)).toEqual(['live'])
    expect(checkAllImages(dataDir).filter((x) => x.code !== 0 && x.code !== 3)).toEqual([])
    await vireoOk(dataDir, ['snapshot', 'revert', 'box', 'live'], 180_000)
    const seen = await guestSays(dataDir, 'box', 'echo UP-$((3*3))', 'UP-9')
    expect(seen).not.toContain(GUEST_MARKER)
    expect(await readSector(dataDir, 'box')).toBe('LIVE-SNP')
  })

  it('mid-delete of a middle snapshot while the VM runs (QEMU merging): the tree holds, all revert, images check', async () => {
    // Enough data in the middle layer that merging it takes QEMU a while (random: zeros QEMU's
    // copy-on-read writes as zero clusters, and the layer would not grow).
    await guestSays(
      dataDir,
      'box',
      'dd if=/dev/urandom of=/dev/vda bs=1M seek=1 count=16 conv=fsync 2>/dev/null; echo Z-$((5*5))',
      'Z-25',
    )
    await writeSector(dataDir, 'box', 'MIDL-SNP')
    const middle = await take(dataDir, 'box', 'middle')
    await writeSector(dataDir, 'box', 'TOPS-SNP')
    const top = await take(dataDir, 'box', 'top')
    await writeSector(dataDir, 'box', 'CURR-ENT')
    const info = await boxInfo(dataDir, 'box')
    const index = JSON.parse(readFileSync(join(info.dir, 'snapshots', 'index.json'), 'utf8')) as {
      snapshots: { id: string; layers: Record<string, string> }[]
    }
    const topLayer = join(info.dir, index.snapshots.find((s) => s.id === top.id)!.layers['disk0']!)
    const size = statSync(topLayer).size
    const qemuPid = info.runtime!.pid
    // The top snapshot's layer grows while QEMU streams the middle one's data into it.
    const r = await killWhen(dataDir, ['snapshot', 'delete', 'box', 'middle', '--json'], () =>
      statSync(topLayer).size > size + 1024 * 1024 ? qemuPid : null,
    )
    expect(r.killedMidway).toBe(true)
    expect(r.code).not.toBe(0)
    expect(r.stderr).not.toMatch(/Size mismatch|^\s*$/)
    await expect.poll(async () => (await boxInfo(dataDir, 'box')).state).toBe('stopped')
    let t = await tree(dataDir, 'box')
    expect(t.snapshots.map((s) => s.name)).toEqual(['live', 'middle', 'top'])
    expect(t.snapshots.find((s) => s.id === top.id)!.parent).toBe(middle.id)
    expect(checkAllImages(dataDir).filter((x) => x.code !== 0 && x.code !== 3)).toEqual([])
    await vireoOk(dataDir, ['start', 'box'])
    await vireoOk(dataDir, ['console', 'box', '--expect', GUEST_MARKER, '--timeout', '180'], 200_000)
    expect(await readSector(dataDir, 'box')).toBe('CURR-ENT')
    await vireoOk(dataDir, ['snapshot', 'revert', 'box', 'middle'], 180_000)
    expect(await readSector(dataDir, 'box')).toBe('MIDL-SNP')
    await vireoOk(dataDir, ['snapshot', 'revert', 'box', 'top'], 180_000)
    expect(await readSector(dataDir, 'box')).toBe('TOPS-SNP')
    // The delete can be done again, and the snapshots on both sides keep their data.
    t = JSON.parse(
      (await vireoOk(dataDir, ['snapshot', 'delete', 'box', 'middle', '--json'], 180_000))
        .trim()
        .split('\n')
        .at(-1)!,
    ) as SnapshotTree
    expect(t.snapshots.map((s) => s.name)).toEqual(['live', 'top'])
    await vireoOk(dataDir, ['snapshot', 'revert', 'box', 'live'], 180_000)
    expect(await readSector(dataDir, 'box')).toBe('LIVE-SNP')
    await vireoOk(dataDir, ['snapshot', 'revert', 'box', 'top'], 180_000)
    expect(await readSector(dataDir, 'box')).toBe('TOPS-SNP')
    await vireoOk(dataDir, ['stop', 'box', '--force'])
    expect(checkAllImages(dataDir).filter((x) => x.code !== 0 && x.code !== 3)).toEqual([])
  })
})

describe('a revert after the memory size changed', () => {
  let dataDir: string
  beforeAll(async () => {
    dataDir = tempDataDir()
    await bootBox(dataDir, 'mem')
  }, 240_000)
  afterAll(async () => {
    await cleanupDataDir(dataDir)
  })

  it('goes back to 256 MiB from 320, for a disk-only and for a live snapshot (whose guest runs on)', async () => {
    await guestSays(dataDir, 'mem', COUNTER, 'COUNT-2\\r?\\n')
    await take(dataDir, 'mem', 'warm')
    await vireoOk(dataDir, ['stop', 'mem', '--force'])
    expect((await take(dataDir, 'mem', 'cold')).kind).toBe('disk')

    await vireoOk(dataDir, ['modify', 'mem', '--memory', '320'])
    expect((await boxInfo(dataDir, 'mem')).config.memoryMiB).toBe(320)
    await vireoOk(dataDir, ['snapshot', 'revert', 'mem', 'cold'])
    let info = await boxInfo(dataDir, 'mem')
    expect(info.config.memoryMiB).toBe(256)
    expect(info.state).toBe('stopped')

    await vireoOk(dataDir, ['modify', 'mem', '--memory', '320'])
    expect((await boxInfo(dataDir, 'mem')).config.memoryMiB).toBe(320)
    const r = await vireo(dataDir, ['snapshot', 'revert', 'mem', 'warm'], 180_000)
    expect(r.stderr).not.toMatch(/Size mismatch|ram block/i)
    expect(r.code).toBe(0)
    info = await boxInfo(dataDir, 'mem')
    expect(info.config.memoryMiB).toBe(256)
    expect(info.state).toBe('running')
    const { seen } = await lastCount(dataDir, 'mem')
    expect(seen).not.toContain(GUEST_MARKER)
    expect(seen).toMatch(/COUNT-\d+/)
    const argv = JSON.parse(await vireoOk(dataDir, ['info', 'mem', '--qemu-argv', '--json'])) as string[]
    expect(argv[argv.indexOf('-m') + 1]).toMatch(/^256/)
  })
})
