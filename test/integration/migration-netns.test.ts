// Migration across a real network interface: two network namespaces joined by a veth pair (made
// here and removed after), each running its own `vireo serve` on its veth address, with the test
// guest under TCG; the CLI reaches each host over its unix socket from the root namespace. A capture
// on the veth during a live move must hold no guest memory or disk bytes in clear text (while a
// plain HTTP request in the same capture is readable, and the capture holds at least the memory
// QEMU sent). A link cut during the file, disk or memory copy must fail the command in words, leave
// the source guest running and answering, and leave nothing on the destination once its own session
// noticed; with the link back, the same guest moves.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MigrationResult } from '../../engine/api/migration.ts'
import { guestSays, vireo, vireoOk, vmInfo } from '../support/cli.ts'
import { GUEST_MARKER, repoRoot, requireTestGuest } from '../support/guest.ts'
import { serve, type ServedHost } from '../support/serve.ts'
import { bootBox, COUNTER, counts, vmFolders } from '../support/test-vm.ts'

requireTestGuest()

// Names of this run only (interface names are at most 15 bytes), in a private test range.
const tag = String(process.pid % 100_000)
const NS = { src: `vireo-s-${tag}`, dst: `vireo-d-${tag}` }
const VETH = { src: `vsrc${tag}`, dst: `vdst${tag}` }
const ADDR = { src: '10.213.0.1', dst: '10.213.0.2' }
const STALL_MS = 5_000

function sh(args: string[]): string {
  const r = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8', timeout: 30_000 })
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr || r.error?.message}`)
  return r.stdout
}

const inNs = (ns: string): string[] => ['ip', 'netns', 'exec', ns]

function removeNamespaces(): void {
  // Deleting a namespace takes its end of the veth, and the veth's other end with it.
  for (const ns of [NS.src, NS.dst]) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' })
}

function makeNamespaces(): void {
  removeNamespaces()
  sh(['ip', 'netns', 'add', NS.src])
  sh(['ip', 'netns', 'add', NS.dst])
  sh([
    'ip',
    'link',
    'add',
    VETH.src,
    'netns',
    NS.src,
    'type',
    'veth',
    'peer',
    'name',
    VETH.dst,
    'netns',
    NS.dst,
  ])
  sh(['ip', '-n', NS.src, 'addr', 'add', `${ADDR.src}/30`, 'dev', VETH.src])
  sh(['ip', '-n', NS.dst, 'addr', 'add', `${ADDR.dst}/30`, 'dev', VETH.dst])
  for (const [ns, veth] of [
    [NS.src, VETH.src],
    [NS.dst, VETH.dst],
  ] as const) {
    sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up'])
    sh(['ip', '-n', ns, 'link', 'set', veth, 'up'])
  }
}

function setLink(state: 'up' | 'down'): void {
  sh(['ip', '-n', NS.src, 'link', 'set', VETH.src, state])
}

/** A host of a data dir, run inside a namespace and listening on its veth address only. */
function serveIn(which: 'src' | 'dst'): Promise<ServedHost> {
  return serve({
    prefix: inNs(NS[which]),
    args: ['--listen', ADDR[which]],
    env: { ...process.env, VIREO_MIGRATION_STALL_MS: String(STALL_MS) },
  })
}

async function hostIsServed(h: ServedHost): Promise<void> {
  // The CLI starts a host of its own (in this namespace) when none answers: make sure it is ours.
  const status = await vireoOk(h.dataDir, ['host', 'status'])
  expect(status).toContain(`pid ${h.process.pid}`)
}

async function startCounter(dataDir: string, name: string): Promise<number> {
  await guestSays(dataDir, name, `${COUNTER} echo C-$((2+3))`, 'C-5')
  await expect
    .poll(async () => (await counts(dataDir, name)).at(-1) ?? -1, { timeout: 30_000 })
    .toBeGreaterThanOrEqual(2)
  return (await counts(dataDir, name)).at(-1)!
}

async function pair(src: ServedHost, dst: ServedHost, name: string): Promise<void> {
  const code = JSON.parse(await vireoOk(dst.dataDir, ['host', 'pair-code', '--json'])) as {
    code: string
    address: string
  }
  expect(code.address).toBe(ADDR.dst)
  await vireoOk(src.dataDir, ['remote', 'add', name, `${ADDR.dst}:${dst.port}`, '--code', code.code])
}

/** A tcpdump of everything on one veth, inside its namespace, into a pcap file. */
async function capture(ns: string, veth: string, file: string): Promise<() => Promise<string>> {
  const child = spawn(
    inNs(ns)[0]!,
    [...inNs(ns).slice(1), 'tcpdump', '-i', veth, '-n', '-s', '0', '-B', '32768', '-U', '-w', file],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
  let err = ''
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d))
  const exited = new Promise<void>((r) => child.once('exit', () => r()))
  await expect.poll(() => err, { timeout: 15_000 }).toMatch(/listening on/)
  return async () => {
    child.kill('SIGTERM')
    await exited
    return err
  }
}

/** A `vireo migrate --json` whose progress events the test sees as they come. */
function migrateStreaming(
  dataDir: string,
  args: string[],
): {
  child: ChildProcess
  events: { phase: string; bytesDone: number }[]
  done: Promise<{ code: number | null; stdout: string; stderr: string }>
} {
  const child = spawn(
    process.execPath,
    [join(repoRoot, 'bin', 'vireo'), '--data-dir', dataDir, 'migrate', ...args, '--json'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, VIREO_TEST: '1' },
    },
  )
  const events: { phase: string; bytesDone: number }[] = []
  let stdout = ''
  let stderr = ''
  let pending = ''
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    stdout += d
    pending += d
    let nl: number
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl)
      pending = pending.slice(nl + 1)
      try {
        const obj = JSON.parse(line) as { event?: string; phase: string; bytesDone: number }
        if (obj.event === 'progress') events.push(obj)
      } catch {
        /* not a JSON line */
      }
    }
  })
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((r) =>
    child.on('close', (code) => r({ code, stdout, stderr })),
  )
  return { child, events, done }
}

/** The QEMU processes of this VM that run from this data dir. */
function qemuOf(dataDir: string, vmId: string): number[] {
  const pids: number[] = []
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue
    let cmd: string
    try {
      cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8')
    } catch {
      continue
    }
    if (
      cmd.split('\0')[0]!.includes('qemu-system') &&
      cmd.includes(dataDir) &&
      cmd.includes(vmId.slice(0, 8))
    )
      pids.push(Number(p))
  }
  return pids
}

let src: ServedHost
let dst: ServedHost
const pcapFile = join(tmpdir(), `vireo-netns-${tag}.pcap`)

beforeAll(async () => {
  makeNamespaces()
  src = await serveIn('src')
  dst = await serveIn('dst')
  await hostIsServed(src)
  await hostIsServed(dst)
  await pair(src, dst, 'far')
}, 120_000)

afterAll(async () => {
  // Hosts first (their VMs are stopped by the cleanup's own host), then the namespaces.
  await Promise.all([src?.stop(), dst?.stop()].map((p) => p?.catch(() => undefined)))
  removeNamespaces()
  rmSync(pcapFile, { force: true })
}, 300_000)

describe('live migration across a veth between two network namespaces', () => {
  it('carries no guest memory or disk bytes in clear text; the counter goes on there', async () => {
    await bootBox(src.dataDir, 'mover')
    const before = await vmInfo(src.dataDir, 'mover')
    // The marker is put together by the guest's shell, so the typed line never holds it whole.
    const secret = randomBytes(6).toString('hex')
    const marker = `VIREO-GUEST-SECRET-${secret}`
    await guestSays(
      src.dataDir,
      'mover',
      `P=VIREO-GUEST; yes "$P-SECRET-${secret}" | head -c 4194304 >/tmp/marker; ` +
        `yes "$P-SECRET-${secret}" | head -c 1048576 | dd of=/dev/vda bs=65536 conv=fsync 2>/dev/null; ` +
        `echo N-$(grep -c "$P-SECRET" /tmp/marker)-$((3*3))`,
      'N-\\d+-9',
    ).then((out) => expect(Number(/N-(\d+)-9/.exec(out)![1])).toBeGreaterThan(100_000))
    const last = await startCounter(src.dataDir, 'mover')

    const stopCapture = await capture(NS.src, VETH.src, pcapFile)
    let tcpdumpSaid: string
    let out: string
    // The control: a plain-text request over the same veth, which the capture must show.
    const probe = `vireo-plain-control-${randomBytes(6).toString('hex')}`
    try {
      sh([
        ...inNs(NS.src),
        process.execPath,
        '-e',
        `fetch('http://${ADDR.dst}:${dst.port}/${probe}').then((r) => r.text(), () => '')`,
      ])
      out = await vireoOk(src.dataDir, ['migrate', 'mover', '--to', 'far', '--json'], 300_000)
    } finally {
      tcpdumpSaid = await stopCapture()
    }
    const lines = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event?: string; phase?: string; bytesDone?: number })
    const result = lines.at(-1) as unknown as MigrationResult
    expect(result.mode).toBe('live')
    // What QEMU itself counted as memory sent, by the last progress event of the memory copy.
    const ramSent = Math.max(
      0,
      ...lines.filter((l) => l.event === 'progress' && l.phase === 'copying-memory').map((l) => l.bytesDone!),
    )

    const pcap = readFileSync(pcapFile)
    expect(pcap.includes(`GET /${probe}`)).toBe(true)
    // Everything QEMU sent crossed this veth: the capture holds at least the memory it copied, and
    // that much memory holds the 4 MiB of marker pages.
    expect(ramSent).toBeGreaterThan(4 * 1024 * 1024)
    expect(pcap.length).toBeGreaterThan(ramSent)
    expect(tcpdumpSaid).toMatch(/\b0 packets dropped by kernel/)
    expect(pcap.includes(marker)).toBe(false)
    expect(pcap.includes(secret)).toBe(false)

    // Running there, the same guest: its counter continues.
    const there = await vmInfo(dst.dataDir, 'mover')
    expect(there.state).toBe('running')
    expect(there.id).toBe(before.id)
    await expect
      .poll(async () => (await counts(dst.dataDir, 'mover')).at(-1) ?? -1, { timeout: 30_000 })
      .toBeGreaterThan(last + 1)
    const seen = await vireoOk(dst.dataDir, ['console', 'mover', '--expect', 'COUNT-\\d+', '--timeout', '10'])
    expect(seen).not.toContain(GUEST_MARKER)
    // The marker is still in the guest's memory there: what was looked for really travelled.
    const n = await guestSays(
      dst.dataDir,
      'mover',
      'echo M-$(grep -c "$P-SECRET" /tmp/marker)-$((4*4))',
      'M-\\d+-16',
    )
    expect(Number(/M-(\d+)-16/.exec(n)![1])).toBeGreaterThan(100_000)
    expect(vmFolders(src.dataDir)).toEqual([])
    // Nothing more of it on the destination's side is needed by the next test.
    await vireoOk(dst.dataDir, ['stop', 'mover', '--force'])
    await vireoOk(dst.dataDir, ['delete', 'mover', '--yes'])
  }, 600_000)

  it('a link cut during the memory copy: the source runs on, the destination keeps nothing; then it moves', async () => {
    await bootBox(src.dataDir, 'cutter')
    const last = await startCounter(src.dataDir, 'cutter')
    const id = await cutDuring(
      'cutter',
      'copying-memory',
      /no memory reached the destination for 5 s: the link looks cut/,
    )
    await expect
      .poll(async () => (await counts(src.dataDir, 'cutter')).at(-1) ?? -1, { timeout: 30_000 })
      .toBeGreaterThan(last + 1)

    // The link back: the same guest moves, and keeps counting there.
    setLink('up')
    const again = await vireo(src.dataDir, ['migrate', 'cutter', '--to', 'far', '--json'], 300_000)
    expect(again.stderr).toBe('')
    expect(again.code).toBe(0)
    expect((await vmInfo(dst.dataDir, 'cutter')).state).toBe('running')
    const at = (await counts(dst.dataDir, 'cutter')).at(-1)!
    await expect
      .poll(async () => (await counts(dst.dataDir, 'cutter')).at(-1) ?? -1, { timeout: 30_000 })
      .toBeGreaterThan(at)
    expect(qemuOf(src.dataDir, id)).toEqual([])
    await hostIsServed(src)
    await hostIsServed(dst)
    await vireoOk(dst.dataDir, ['stop', 'cutter', '--force'])
  }, 600_000)

  it('a link cut during the disk copy: the source runs on, the destination keeps nothing', async () => {
    await bootBox(src.dataDir, 'diskcut', { diskSize: '64M' })
    // 24 MiB the mirror must copy: at 16 Mbit/s, 12 s of disk copy to cut in the middle of.
    await guestSays(
      src.dataDir,
      'diskcut',
      'dd if=/dev/urandom of=/dev/vda bs=1048576 count=24 conv=fsync 2>/dev/null; echo D-$((8*8))',
      'D-64',
    )
    const sum = async (dataDir: string) =>
      /S-([0-9a-f]{32})/.exec(
        await guestSays(dataDir, 'diskcut', 'echo S-$(head -c 25165824 /dev/vda | md5sum)', 'S-[0-9a-f]{32}'),
      )![1]
    const before = await sum(src.dataDir)
    await cutDuring(
      'diskcut',
      'copying-disks',
      /no disk data reached the destination for 5 s: the link looks cut/,
    )
    // The disk the guest runs on here is the one it had, untouched by the abandoned mirror.
    expect(await sum(src.dataDir)).toBe(before)
    // The link back: nothing of the abandoned mirror is in the way of the next, whose disk arrives whole.
    setLink('up')
    const again = await vireo(src.dataDir, ['migrate', 'diskcut', '--to', 'far', '--json'], 300_000)
    expect(again.stderr).toBe('')
    expect(again.code).toBe(0)
    expect(await sum(dst.dataDir)).toBe(before)
    await hostIsServed(src)
    await hostIsServed(dst)
    await vireoOk(dst.dataDir, ['stop', 'diskcut', '--force'])
  }, 600_000)

  it('a link cut during the file copy (the ISO): the source runs on, the destination keeps nothing', async () => {
    await bootBox(src.dataDir, 'filecut')
    await cutDuring(
      'filecut',
      'copying-files',
      /no file data reached the destination for 5 s: the link looks cut/,
    )
    setLink('up')
    await hostIsServed(src)
    await hostIsServed(dst)
    await vireoOk(src.dataDir, ['stop', 'filecut', '--force'])
  }, 600_000)
})

/**
 * Starts a move of `name` at 16 Mbit/s, takes the link down once `phase` has moved bytes, and
 * checks what a cut must leave: a failed command in words, the guest running here and answering,
 * and nothing of it on the destination once its own session noticed. The link stays down.
 */
async function cutDuring(name: string, phase: string, says: RegExp): Promise<string> {
  const { id } = await vmInfo(src.dataDir, name)
  const folders = vmFolders(dst.dataDir)
  expect(folders).not.toContain(id)
  const m = migrateStreaming(src.dataDir, [name, '--to', 'far', '--bandwidth', '16'])
  try {
    await expect
      .poll(() => m.events.filter((e) => e.phase === phase && e.bytesDone > 0).length, {
        timeout: 120_000,
        interval: 100,
      })
      .toBeGreaterThan(0)
    expect(existsSync(join(dst.dataDir, 'vms', id))).toBe(true)
    setLink('down')
    const cutAt = Date.now()
    const r = await Promise.race([
      m.done,
      new Promise<never>((_r, reject) =>
        setTimeout(() => reject(new Error(`vireo migrate still runs 90 s after the link was cut`)), 90_000),
      ),
    ])
    expect(r.code).not.toBe(0)
    // A plain sentence, not a stack: the watchdog's words.
    expect(r.stderr).toMatch(says)
    expect(r.stderr).not.toMatch(/\n\s+at /)
    expect(Date.now() - cutAt).toBeLessThan(60_000)
  } finally {
    if (m.child.exitCode === null) m.child.kill('SIGKILL')
  }

  // The source guest never stopped: it answers.
  expect((await vmInfo(src.dataDir, name)).state).toBe('running')
  await guestSays(src.dataDir, name, 'echo ALIVE-$((5*5))', 'ALIVE-25')

  // The destination learns of the cut by itself (its session's pings), and removes its copy.
  await expect.poll(() => vmFolders(dst.dataDir), { timeout: 60_000, interval: 500 }).toEqual(folders)
  await expect.poll(() => qemuOf(dst.dataDir, id), { timeout: 30_000, interval: 500 }).toEqual([])
  const there = JSON.parse(await vireoOk(dst.dataDir, ['list', '--json'])) as { id: string }[]
  expect(there.map((v) => v.id)).not.toContain(id)
  expect(dst.log()).toMatch(new RegExp(`dropping the incoming migration of "${name}"`))
  return id
}
