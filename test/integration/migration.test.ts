// Migration between two Vireo hosts on this machine (two engines, two data dirs, loopback), with
// the test guest under TCG: pairing by code (a wrong code, an unpaired host and a plain-text
// connection to a migration port are refused), a live move whose serial counter keeps counting
// with no second boot, disk bytes and the MAC unchanged, snapshots that arrive and revert, cancels
// in the disk and memory phases and a killed destination that leave the source running and nothing
// on the destination, and an offline move that boots there.
import { execFileSync, spawn } from 'node:child_process'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MigrationResult } from '../../engine/api/migration.ts'
import { cleanupDataDir, guestSays, tempDataDir, vireo, vireoOk, vmInfo } from '../support/cli.ts'
import { GUEST_MARKER, repoRoot, requireTestGuest } from '../support/guest.ts'
import { serve, type ServedHost } from '../support/serve.ts'
import { bootBox, COUNTER, counts, readSector, vmFolders, writeSector } from '../support/test-vm.ts'

const guest = requireTestGuest()
async function pair(src: string, dest: ServedHost, name: string): Promise<void> {
  const code = JSON.parse(await vireoOk(dest.dataDir, ['host', 'pair-code', '--json'])) as { code: string }
  await vireoOk(src, ['remote', 'add', name, `127.0.0.1:${dest.port}`, '--code', code.code])
}

function migrateJson(out: string): { events: { phase: string }[]; result: MigrationResult } {
  const lines = out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>)
  return {
    events: lines.filter((l) => l.event === 'progress') as never,
    result: lines.at(-1) as unknown as MigrationResult,
  }
}

/** A `vireo migrate --json` under way: its progress events as they come, and how it ended. */
function startMigrate(dataDir: string, args: string[]) {
  const child = spawn(
    process.execPath,
    [join(repoRoot, 'bin', 'vireo'), '--data-dir', dataDir, 'migrate', ...args, '--json'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  const phases: string[] = []
  let out = ''
  let err = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d
    for (const m of d.matchAll(/"phase":"([a-z-]+)"/g)) phases.push(m[1]!)
  })
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d))
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((r) =>
    child.once('exit', (code) => r({ code, stdout: out, stderr: err })),
  )
  return { phases, done, child }
}

async function waitPhase(m: { phases: string[] }, phase: string): Promise<void> {
  await expect.poll(() => m.phases.includes(phase), { timeout: 120_000, interval: 200 }).toBe(true)
}

/** QEMU processes of this VM other than `except` (the source's own). */
function qemusOf(vmId: string, except: number | null): number[] {
  let out: string
  try {
    out = execFileSync('pgrep', ['-f', `process=vireo-${vmId.slice(0, 8)}`], { encoding: 'utf8' })
  } catch {
    return []
  }
  return out
    .split('\n')
    .filter(Boolean)
    .map(Number)
    .filter((p) => p !== except)
}

/** A raw NBD client's try at the destination's export: the server must insist on TLS first. */
function rawNbdTry(port: number): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const s = connect(port, '127.0.0.1')
    let buf = Buffer.alloc(0)
    let sent = false
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d])
      if (!sent && buf.length >= 18) {
        // Fixed newstyle; then NBD_OPT_LIST (3) with no data.
        const opt = Buffer.alloc(16)
        opt.write('IHAVEOPT', 0, 'latin1')
        opt.writeUInt32BE(3, 8)
        opt.writeUInt32BE(0, 12)
        s.write(Buffer.concat([Buffer.from([0, 0, 0, 1]), opt]))
        sent = true
        buf = buf.subarray(18)
      }
      if (sent && buf.length >= 20) {
        // The option reply: magic(8) option(4) type(4) length(4).
        resolvePromise(buf.readUInt32BE(12))
        s.destroy()
      }
    })
    s.on('error', reject)
  })
}

/** What a plain TCP client reads from a port (refused and closed read as nothing). */
function rawBytes(port: number): Promise<string> {
  return new Promise((resolvePromise) => {
    const s = connect(port, '127.0.0.1', () => s.write('GET / HTTP/1.0\r\n\r\n'))
    let data = ''
    const timer = setTimeout(() => s.destroy(), 3000)
    s.on('data', (d) => (data += d.toString('latin1')))
    s.on('close', () => {
      clearTimeout(timer)
      resolvePromise(data)
    })
    s.on('error', () => undefined)
  })
}

/**
 * A destination served on loopback and a source data dir paired with it as "dest" (the source's
 * VM `box` booted), both removed after the describe block.
 */
function twoHosts(
  set: (h: { dest: ServedHost; src: string }) => void,
  opts: { box?: string; stallMs?: number } = {},
) {
  let h: { dest: ServedHost; src: string } | null = null
  beforeAll(async () => {
    const env = opts.stallMs
      ? { ...process.env, VIREO_MIGRATION_STALL_MS: String(opts.stallMs) }
      : process.env
    h = { dest: await serve({ env }), src: tempDataDir() }
    set(h)
    await pair(h.src, h.dest, 'dest')
    if (opts.box) await bootBox(h.src, opts.box)
  }, 300_000)
  afterAll(async () => {
    if (!h) return
    await cleanupDataDir(h.src)
    await h.dest.stop()
  }, 120_000)
}

describe('pairing', () => {
  let dest: ServedHost
  let src: string
  beforeAll(async () => {
    dest = await serve()
    src = tempDataDir()
  }, 60_000)
  afterAll(async () => {
    await cleanupDataDir(src)
    await dest.stop()
  }, 120_000)

  it('refuses a wrong code and counts the try; the right code pairs once', async () => {
    const code = JSON.parse(await vireoOk(dest.dataDir, ['host', 'pair-code', '--json'])) as { code: string }
    const wrong = code.code.startsWith('A') ? 'BBBB-BBBB' : 'AAAA-AAAA'
    const bad = await vireo(src, ['remote', 'add', 'd', `127.0.0.1:${dest.port}`, '--code', wrong])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/wrong pairing code \(2 tries left\)/)
    expect(dest.log()).toMatch(/refused a pairing from 127\.0\.0\.1: wrong pairing code/)
    await vireoOk(src, ['remote', 'add', 'd', `127.0.0.1:${dest.port}`, '--code', code.code.toLowerCase()])
    const list = JSON.parse(await vireoOk(src, ['remote', 'list', '--json'])) as {
      name: string
      port: number
    }[]
    expect(list.map((r) => [r.name, r.port])).toEqual([['d', dest.port]])
    // Used: the same code does not pair a second time.
    const again = await vireo(src, ['remote', 'add', 'd2', `127.0.0.1:${dest.port}`, '--code', code.code])
    expect(again.stderr).toMatch(/no valid pairing code/)
    // Paired: the remote's machines are visible over the paired channel.
    const vms = await vireoOk(src, ['remote', 'list'])
    expect(vms).toMatch(/^d\s+127\.0\.0\.1:/m)
  }, 60_000)

  it('a host the user turns accepting on for pairs as well, and still accepts after a restart', async () => {
    const desk = tempDataDir()
    try {
      const off = await vireo(desk, ['host', 'pair-code'])
      expect(off.stderr).toMatch(/does not accept other hosts/)
      const on = JSON.parse(await vireoOk(desk, ['host', 'accept', '--json'])) as {
        listening: { address: string; port: number }
      }
      expect(on.listening.address).toBe('127.0.0.1')
      await vireoOk(desk, ['host', 'stop'])
      const code = JSON.parse(await vireoOk(desk, ['host', 'pair-code', '--json'])) as {
        code: string
        port: number
      }
      expect(code.port).toBe(on.listening.port)
      await vireoOk(src, ['remote', 'add', 'desk', `127.0.0.1:${code.port}`, '--code', code.code])
      await vireoOk(desk, ['host', 'accept', '--off'])
      expect((await vireo(desk, ['host', 'pair-code'])).code).toBe(1)
    } finally {
      await cleanupDataDir(desk)
    }
  }, 60_000)

  it('refuses a host that is not paired', async () => {
    const stranger = tempDataDir()
    const other = await serve()
    try {
      // The stranger holds a key, but for another host: pointed at this one, it opens nothing.
      await pair(stranger, dest, 'x')
      const peersFile = join(stranger, 'peers.json')
      const peers = JSON.parse(readFileSync(peersFile, 'utf8')) as { peers: { port: number }[] }
      peers.peers[0]!.port = other.port
      writeFileSync(peersFile, JSON.stringify(peers))
      await vireoOk(stranger, ['host', 'stop'])
      await vireoOk(stranger, ['create', 'n', '--memory', '64'])
      const m = await vireo(stranger, ['migrate', 'n', '--to', 'x', '--check'])
      expect(m.code).toBe(1)
      expect(m.stderr).toMatch(/cannot reach the host/)
      expect(other.log()).toMatch(
        /refused a host connection from 127\.0\.0\.1: host [0-9a-f-]+ is not paired/,
      )
    } finally {
      await other.stop()
      await cleanupDataDir(stranger)
    }
  }, 120_000)
})

describe('live migration on loopback', () => {
  let dest: ServedHost
  let src: string
  twoHosts((h) => ({ dest, src } = h), { box: 'mover', stallMs: 8000 })

  it('moves a running guest: the counter goes on, no second boot, disk bytes and MAC unchanged', async () => {
    await writeSector(src, 'mover', 'MIGR-ATE')
    const before = await vmInfo(src, 'mover')
    await guestSays(src, 'mover', `${COUNTER} echo C-$((2+3))`, 'C-5')
    await expect
      .poll(async () => (await counts(src, 'mover')).at(-1) ?? -1, { timeout: 30_000 })
      .toBeGreaterThanOrEqual(3)
    const last = (await counts(src, 'mover')).at(-1)!

    const out = await vireoOk(src, ['migrate', 'mover', '--to', 'dest', '--json'], 300_000)
    const { events, result } = migrateJson(out)
    expect(result.mode).toBe('live')
    expect(result.downtimeMs).toBeGreaterThan(0)
    const phases = [...new Set(events.map((e) => e.phase))]
    expect(phases).toEqual(
      expect.arrayContaining(['checking', 'copying-disks', 'copying-memory', 'switching-over']),
    )

    // Gone here, running there.
    const here = JSON.parse(await vireoOk(src, ['list', '--json'])) as { name: string }[]
    expect(here.map((v) => v.name)).not.toContain('mover')
    const there = await vmInfo(dest.dataDir, 'mover')
    expect(there.state).toBe('running')
    expect(there.id).toBe(before.id)
    expect(there.config.nics.map((n) => n.mac)).toEqual(before.config.nics.map((n) => n.mac))
    expect(there.config.disks.map((d) => [d.id, d.serial])).toEqual(
      before.config.disks.map((d) => [d.id, d.serial]),
    )

    // The counter continues from where it was: the same guest, not a reboot.
    await expect
      .poll(async () => (await counts(dest.dataDir, 'mover')).at(-1) ?? -1, { timeout: 30_000 })
      .toBeGreaterThan(last + 1)
    const seen = await vireoOk(dest.dataDir, [
      'console',
      'mover',
      '--expect',
      'COUNT-\\d+',
      '--timeout',
      '10',
    ])
    expect(seen).not.toContain(GUEST_MARKER)
    const first = Number(/COUNT-(\d+)/.exec(seen)![1])
    expect(first).toBeGreaterThanOrEqual(last)
    expect(await readSector(dest.dataDir, 'mover')).toBe('MIGR-ATE')
    // Its display is there too.
    const png = join(dest.dataDir, 'screen.png')
    await vireoOk(dest.dataDir, ['screenshot', 'mover', png])
    expect(readFileSync(png).subarray(1, 4).toString()).toBe('PNG')
    // Nothing is left of it on the source.
    expect(vmFolders(src)).toEqual([])
  }, 400_000)
})

describe('snapshots travel with a live migration', () => {
  let dest: ServedHost
  let src: string
  twoHosts((h) => ({ dest, src } = h), { box: 'snappy' })

  it('arrives with its snapshot tree, and a snapshot reverts on the destination', async () => {
    await writeSector(src, 'snappy', 'SNAP-ONE')
    await vireoOk(src, ['snapshot', 'take', 'snappy', 'first'], 180_000)
    await writeSector(src, 'snappy', 'LATE-TWO')
    await vireoOk(src, ['migrate', 'snappy', '--to', 'dest'], 300_000)
    const tree = JSON.parse(await vireoOk(dest.dataDir, ['snapshot', 'list', 'snappy', '--json'])) as {
      snapshots: { id: string; name: string; kind: string }[]
      current: string | null
    }
    expect(tree.snapshots.map((x) => [x.name, x.kind])).toEqual([['first', 'live']])
    expect(tree.current).toBe(tree.snapshots[0]!.id)
    expect(await readSector(dest.dataDir, 'snappy')).toBe('LATE-TWO')
    await vireoOk(dest.dataDir, ['snapshot', 'revert', 'snappy', 'first'], 180_000)
    expect(await readSector(dest.dataDir, 'snappy')).toBe('SNAP-ONE')
    // Every image on the destination is sound, and the source kept nothing.
    await vireoOk(dest.dataDir, ['stop', 'snappy', '--force'])
    for (const f of readdirSync(join(dest.dataDir, 'vms'), { recursive: true }) as string[])
      if (f.endsWith('.qcow2')) execFileSync('qemu-img', ['check', '-q', join(dest.dataDir, 'vms', f)])
    expect(vmFolders(src)).toEqual([])
  }, 600_000)
})

describe('a migration that does not finish leaves the source running and nothing on the destination', () => {
  let dest: ServedHost
  let src: string
  let id: string
  twoHosts((h) => ({ dest, src } = h), { box: 'stayer', stallMs: 8000 })
  beforeAll(async () => {
    // Data for the mirror to copy, so that the disk phase lasts.
    await guestSays(
      src,
      'stayer',
      'dd if=/dev/urandom of=/dev/vda bs=1M count=8 conv=fsync 2>/dev/null; echo D-$((3*3))',
      'D-9',
    )
    id = (await vmInfo(src, 'stayer')).id
  }, 300_000)

  async function sourceStillRuns(): Promise<void> {
    const info = await vmInfo(src, 'stayer')
    expect(info.state).toBe('running')
    await guestSays(src, 'stayer', 'echo ALIVE-$((40+2))', 'ALIVE-42')
    expect(vmFolders(dest.dataDir)).toEqual([])
    const list = JSON.parse(await vireoOk(dest.dataDir, ['list', '--json'])) as unknown[]
    expect(list).toEqual([])
    await expect.poll(() => qemusOf(id, info.runtime!.pid), { timeout: 15_000 }).toEqual([])
  }

  it('cancelled while copying disks (and the NBD export refuses a client without TLS)', async () => {
    const m = startMigrate(src, ['stayer', '--to', 'dest', '--bandwidth', '16'])
    await waitPhase(m, 'copying-disks')
    const port = Number(/exported for the mirror on 127\.0\.0\.1:(\d+)/.exec(dest.log())?.[1])
    // NBD_REP_ERR_TLS_REQD: the export answers nothing until TLS.
    expect(await rawNbdTry(port)).toBe(2 ** 31 + 5)
    await vireoOk(src, ['migrate', 'cancel', 'stayer'])
    const r = await m.done
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/cancelled/)
    await sourceStillRuns()
  }, 300_000)

  it('cancelled while copying memory', async () => {
    const m = startMigrate(src, ['stayer', '--to', 'dest', '--bandwidth', '16'])
    await waitPhase(m, 'copying-memory')
    // The memory port took its one connection, over TLS: a plain client gets nothing from it.
    const port = Number(/memory of "stayer" awaited on 127\.0\.0\.1:(\d+)/.exec(dest.log())?.[1])
    expect(port).toBeGreaterThan(0)
    expect(await rawBytes(port)).toBe('')
    await vireoOk(src, ['migrate', 'cancel', 'stayer'])
    const r = await m.done
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/cancelled/)
    await sourceStillRuns()
  }, 300_000)

  it('with the destination engine killed while copying memory', async () => {
    const m = startMigrate(src, ['stayer', '--to', 'dest', '--bandwidth', '16'])
    await waitPhase(m, 'copying-memory')
    dest.process.kill('SIGKILL')
    const r = await m.done
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/connection to dest was lost|memory copy failed/)
    const info = await vmInfo(src, 'stayer')
    expect(info.state).toBe('running')
    await guestSays(src, 'stayer', 'echo ALIVE-$((40+2))', 'ALIVE-42')
    // The destination's watcher kills the waiting QEMU and removes the partial copy.
    await expect.poll(() => qemusOf(id, info.runtime!.pid), { timeout: 15_000 }).toEqual([])
    await expect.poll(() => vmFolders(dest.dataDir), { timeout: 15_000 }).toEqual([])
  }, 300_000)
})

describe('post-copy (opt-in)', () => {
  let dest: ServedHost
  let src: string
  twoHosts((h) => ({ dest, src } = h), { box: 'busy' })

  it('is refused in words: on QEMU 7.2 under TCG the guest crashed after the switch-over', async () => {
    // The guest once churned memory so that pre-copy could not end, and post-copy then switched it
    // to the destination, where its kernel faulted within seconds (twice, also with the device state
    // loaded before cont). So the option stays, and the compatibility check says why it is off.
    const r = await vireo(src, ['migrate', 'busy', '--to', 'dest', '--postcopy', '--check'])
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/FAIL\s+post-copy: post-copy is not offered yet/)
    const m = await vireo(src, ['migrate', 'busy', '--to', 'dest', '--postcopy'])
    expect(m.code).toBe(1)
    expect(m.stderr).toMatch(/post-copy is not offered yet/)
    expect((await vmInfo(src, 'busy')).state).toBe('running')
    expect(vmFolders(dest.dataDir)).toEqual([])
  }, 120_000)
})

describe('offline migration', () => {
  let dest: ServedHost
  let src: string
  twoHosts((h) => ({ dest, src } = h))

  it('moves a stopped VM, which then boots on the destination; a copy keeps it here too', async () => {
    await vireoOk(src, ['create', 'still', '--iso', guest.iso, '--memory', '256', '--disk-size', '32M'])
    const running = await vireo(src, ['migrate', 'still', '--to', 'dest', '--offline', '--check'])
    expect(running.code).toBe(0)
    const out = await vireoOk(src, ['migrate', 'still', '--to', 'dest', '--json'], 300_000)
    const { events, result } = migrateJson(out)
    expect(result.mode).toBe('offline')
    expect(events.some((e) => e.phase === 'copying-files')).toBe(true)
    expect(vmFolders(src)).toEqual([])
    await vireoOk(dest.dataDir, ['start', 'still'])
    await vireoOk(dest.dataDir, ['console', 'still', '--expect', GUEST_MARKER, '--timeout', '180'], 200_000)
    await vireoOk(dest.dataDir, ['stop', 'still', '--force'])
    // Back, as a copy: both hosts have it now.
    await pair(dest.dataDir, await selfServe(src), 'back')
    await vireoOk(dest.dataDir, ['migrate', 'still', '--to', 'back', '--copy'], 300_000)
    expect((await vmInfo(dest.dataDir, 'still')).state).toBe('stopped')
    expect((await vmInfo(src, 'still')).state).toBe('stopped')
  }, 600_000)

  /** The source's data dir served too, so the destination can send it back. */
  async function selfServe(dataDir: string): Promise<ServedHost> {
    await vireoOk(dataDir, ['host', 'stop'])
    const h = await serve({ dataDir })
    served.push(h)
    return h
  }
  const served: ServedHost[] = []
  afterAll(async () => {
    for (const h of served) h.process.kill('SIGTERM')
  })
})

describe('the serve port', () => {
  it('gives a TLS client without a paired key nothing', async () => {
    const dest = await serve()
    try {
      const got = await new Promise<string>((resolvePromise) => {
        const s = connect(dest.port, '127.0.0.1', () => s.write('\x16\x03\x01\x00\x05hello'))
        let data = ''
        s.on('data', (d) => (data += d.toString('latin1')))
        s.on('close', () => resolvePromise(data))
        s.on('error', () => resolvePromise(data))
      })
      expect(got).not.toMatch(/HTTP|vireo/i)
    } finally {
      await dest.stop()
    }
  }, 60_000)
})
