// Live migration of an idle 512 MiB test guest on loopback: Vireo (two hosts, `vireo migrate
// --json`, TLS-PSK always) against the same migration driven over bare QMP in the same run, with
// the same QEMU command line and settings, with TLS-PSK and without. Rounds alternate between the
// three, and each migration goes back the way the last one came, so the guest is booted once per
// side and stays idle throughout.
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import type { MigrationResult } from '../engine/api/migration.ts'
import type { VmInfo } from '../engine/api/rpc.ts'
import { DH_PARAMS_PEM } from '../engine/migration/qemu-tls.ts'
import { QmpClient } from '../engine/qmp/client.ts'
import { vireoOk } from '../test/support/cli.ts'
import { GUEST_MARKER, repoRoot, requireTestGuest } from '../test/support/guest.ts'
import { serve, type ServedHost } from '../test/support/serve.ts'

const MEMORY_MIB = 512
/** What Vireo sets by default (engine/api/migration.ts MigrateOptions; source.ts). */
const DOWNTIME_LIMIT_MS = 300
const UNLIMITED = 0x7fffffffffff

const median = (xs: number[]) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length === 0 ? NaN : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}
const round1 = (x: number) => Math.round(x * 10) / 10
const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100

function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolvePromise(port))
    })
  })
}

async function waitFile(file: string, re: RegExp, timeoutMs = 240_000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (Date.now() < end) {
    try {
      if (re.test(readFileSync(file, 'utf8'))) return
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`no ${re} in ${file}`)
}

async function pair(src: ServedHost, dest: ServedHost, name: string): Promise<void> {
  const code = JSON.parse(await vireoOk(dest.dataDir, ['host', 'pair-code', '--json'])) as { code: string }
  await vireoOk(src.dataDir, ['remote', 'add', name, `127.0.0.1:${dest.port}`, '--code', code.code])
}

// ---- Vireo -------------------------------------------------------------------------------------

interface VireoRound {
  downtimeMs: number
  totalMs: number
  qemuDowntimeMs: number
  cliMs: number
  /** When each phase was first and last reported, from the CLI's start. */
  phasesAtMs: Record<string, [number, number]>
}

/** `vireo migrate NAME --to REMOTE --json`, each NDJSON line stamped as it arrives. */
function migrateCli(from: ServedHost, vm: string, to: string): Promise<VireoRound> {
  return new Promise((resolvePromise, reject) => {
    const t0 = performance.now()
    const child = spawn(
      process.execPath,
      [join(repoRoot, 'bin', 'vireo'), '--data-dir', from.dataDir, 'migrate', vm, '--to', to, '--json'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    const logBefore = from.log().length
    const phasesAtMs: Record<string, [number, number]> = {}
    let last: Record<string, unknown> | null = null
    let buf = ''
    let err = ''
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d))
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      buf += d
      let nl
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim()
        buf = buf.slice(nl + 1)
        if (!line) continue
        const msg = JSON.parse(line) as Record<string, unknown>
        const phase = (msg['phase'] ?? (msg['progress'] as { phase?: string } | undefined)?.phase) as
          string | undefined
        const at = Math.round(performance.now() - t0)
        if (phase) phasesAtMs[phase] = [phasesAtMs[phase]?.[0] ?? at, at]
        last = msg
      }
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), 300_000)
    child.on('error', reject)
    child.on('close', async (code) => {
      clearTimeout(timer)
      const cliMs = performance.now() - t0
      if (code !== 0 || !last) return reject(new Error(`vireo migrate exited ${code}: ${err}`))
      const result = last as unknown as MigrationResult
      // The source host logs QEMU's own figure beside its own: "guest paused N ms: QEMU's own M ms".
      await new Promise((r) => setTimeout(r, 200))
      const logged = /guest paused (\d+) ms: QEMU's own (\d+) ms/.exec(from.log().slice(logBefore))
      resolvePromise({
        downtimeMs: result.downtimeMs ?? NaN,
        totalMs: result.totalMs,
        // 0 when the engine read query-migrate before QEMU had filled in its figures.
        qemuDowntimeMs: logged && Number(logged[2]) > 0 ? Number(logged[2]) : NaN,
        cliMs,
        phasesAtMs,
      })
    })
  })
}

// ---- bare QMP ----------------------------------------------------------------------------------

interface BareSide {
  dir: string
  child: ChildProcess
  qmp: QmpClient
}

interface BareRound {
  downtimeMs: number
  totalMs: number
  stopToContMs: number
  setupMs: number
}

/**
 * Vireo's exported command line for one of two places: its runtime sockets and serial log moved
 * into `dir`, so that two QEMUs of the same guest can run side by side.
 */
function argvIn(argv: string[], runtimeDir: string, serialLog: string, dir: string): string[] {
  return argv.map((a) => a.split(runtimeDir).join(dir).split(serialLog).join(join(dir, 'serial.log')))
}

async function launchBare(argv: string[], dir: string, incoming: boolean): Promise<BareSide> {
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const child = spawn(argv[0]!, [...argv.slice(1), ...(incoming ? ['-S', '-incoming', 'defer'] : [])], {
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  try {
    const qmp = await QmpClient.connect(join(dir, 'qmp.sock'), {
      timeoutMs: 60_000,
      retryUntil: Date.now() + 30_000,
    })
    return { dir, child, qmp }
  } catch (err) {
    child.kill('SIGKILL')
    throw new Error(`bare QEMU did not start: ${(err as Error).message} ${stderr}`, { cause: err })
  }
}

async function killBare(side: BareSide): Promise<void> {
  side.qmp.dispose()
  if (side.child.exitCode === null && side.child.signalCode === null) {
    const gone = new Promise((r) => side.child.once('exit', r))
    side.child.kill('SIGKILL')
    await gone
  }
  rmSync(side.dir, { recursive: true, force: true })
}

/** A tls-creds-psk object as Vireo makes it (qemu-tls.ts): `identity:hexkey` in dir/keys.psk. */
async function addPsk(
  side: BareSide,
  id: string,
  endpoint: 'client' | 'server',
  identity: string,
  key: Buffer,
): Promise<void> {
  const dir = join(side.dir, `tls-${id}`)
  mkdirSync(dir, { mode: 0o700 })
  writeFileSync(join(dir, 'keys.psk'), `${identity}:${key.toString('hex')}\n`, { mode: 0o600 })
  if (endpoint === 'server') writeFileSync(join(dir, 'dh-params.pem'), DH_PARAMS_PEM + '\n')
  await side.qmp.execute('object-add', {
    'qom-type': 'tls-creds-psk',
    id,
    endpoint,
    dir,
    ...(endpoint === 'client' ? { username: identity } : {}),
  })
}

interface MigrateInfo {
  status?: string
  downtime?: number
  'total-time'?: number
  'error-desc'?: string
}

/**
 * query-migrate once QEMU has filled in its figures: the MIGRATION completed event comes before
 * QEMU computes downtime and total-time, and a query in between reads 0 for both.
 */
async function finalFigures(qmp: QmpClient): Promise<MigrateInfo> {
  for (let i = 0; ; i++) {
    const info = (await qmp.execute('query-migrate')) as MigrateInfo
    if (info.status !== 'completed')
      throw new Error(`bare migration ${info.status}: ${info['error-desc'] ?? ''}`)
    if (info['total-time'] || i >= 100) return info
    await new Promise((r) => setTimeout(r, 5))
  }
}

/** One migration from `src` to a fresh QEMU in `destDir`, with Vireo's settings; the new side. */
async function bareMigrate(
  src: BareSide,
  argv: string[],
  destDir: string,
  tls: boolean,
  round: number,
): Promise<{ dest: BareSide; r: BareRound }> {
  const tSetup = performance.now()
  const dest = await launchBare(argv, destDir, true)
  try {
    const credsId = `bench-tls-${round}`
    if (tls) {
      const key = randomBytes(32)
      const identity = `bench-${round}`
      await addPsk(dest, credsId, 'server', identity, key)
      await addPsk(src, credsId, 'client', identity, key)
    }
    const creds = tls ? credsId : ''
    await dest.qmp.execute('migrate-set-capabilities', {
      capabilities: [
        { capability: 'events', state: true },
        { capability: 'postcopy-ram', state: false },
      ],
    })
    await dest.qmp.execute('migrate-set-parameters', { 'tls-creds': creds })
    await src.qmp.execute('migrate-set-capabilities', {
      capabilities: [
        { capability: 'events', state: true },
        { capability: 'auto-converge', state: true },
        { capability: 'postcopy-ram', state: false },
      ],
    })
    await src.qmp.execute('migrate-set-parameters', {
      'tls-creds': creds,
      'downtime-limit': DOWNTIME_LIMIT_MS,
      'max-bandwidth': UNLIMITED,
    })
    const port = await freePort()
    await dest.qmp.execute('migrate-incoming', { uri: `tcp:127.0.0.1:${port}` })
    const setupMs = performance.now() - tSetup

    let stoppedAt = 0
    const stopSub = src.qmp.on('STOP', () => (stoppedAt ||= performance.now()))
    // The destination runs the guest the moment its side of the stream is complete (-S holds it).
    const running = dest.qmp
      .waitForEvent('MIGRATION', (d) => d.status === 'completed' || d.status === 'failed', 120_000)
      .then(async (d) => {
        if (d.status !== 'completed') throw new Error('the incoming migration failed')
        await dest.qmp.execute('cont')
        return performance.now()
      })
    const srcDone = src.qmp.waitForEvent(
      'MIGRATION',
      (d) => d.status === 'completed' || d.status === 'failed' || d.status === 'cancelled',
      120_000,
    )
    await src.qmp.execute('migrate', { uri: `tcp:127.0.0.1:${port}` })
    const done = await srcDone
    if (done.status !== 'completed') throw new Error(`bare migration ${done.status}`)
    const info = await finalFigures(src.qmp)
    const contAt = await running
    stopSub.dispose()
    const status = await dest.qmp.execute('query-status')
    if (!status.running) throw new Error(`the bare destination is ${status.status}, not running`)
    if (tls) await dest.qmp.execute('object-del', { id: credsId }).catch(() => undefined)
    await killBare(src)
    return {
      dest,
      r: {
        downtimeMs: info.downtime ?? NaN,
        totalMs: info['total-time'] ?? NaN,
        stopToContMs: stoppedAt ? contAt - stoppedAt : NaN,
        setupMs,
      },
    }
  } catch (err) {
    await killBare(dest)
    throw err
  }
}

// ---- the part ----------------------------------------------------------------------------------

function summary<T extends object>(rounds: T[], keys: (keyof T & string)[]) {
  const out: Record<string, number | number[]> = {}
  for (const k of keys) {
    const xs = rounds.map((r) => r[k] as number)
    out[`median${k[0]!.toUpperCase()}${k.slice(1)}`] = round1(median(xs))
    out[k] = xs.map(round1)
  }
  return out
}

export async function benchMigration(rounds: number) {
  const guest = requireTestGuest()
  const a = await serve()
  let b: ServedHost | null = null
  const bareRoot = mkdtempSync('/tmp/vireo-mig-')
  let bare: BareSide | null = null
  try {
    b = await serve()
    await pair(a, b, 'b')
    await pair(b, a, 'a')
    const make = (name: string, disk: string[] = []) =>
      vireoOk(a.dataDir, [
        'create',
        name,
        '--iso',
        guest.iso,
        '--memory',
        String(MEMORY_MIB),
        '--nic',
        'none',
        ...disk,
        '--json',
      ]).then((s) => JSON.parse(s) as VmInfo)
    const vm = await make('mig')
    const twin = await make('mig-bare')
    // Bare: the exported command line of an identical VM, run directly, twice over (source and
    // destination side by side, each with its own sockets).
    const argv = JSON.parse(
      await vireoOk(a.dataDir, ['info', twin.name, '--qemu-argv', '--json']),
    ) as string[]
    const qmpPath = /path=([^,]+)\/qmp\.sock/.exec(argv.join(' '))![1]!
    const serialLog = /logfile=([^,]+)/.exec(argv.join(' '))![1]!
    const places = [join(bareRoot, 'a'), join(bareRoot, 'b')]
    const argvAt = (dir: string) => argvIn(argv, qmpPath, serialLog, dir)

    await vireoOk(a.dataDir, ['start', vm.name])
    bare = await launchBare(argvAt(places[0]!), places[0]!, false)
    await waitFile(join(places[0]!, 'serial.log'), new RegExp(GUEST_MARKER))
    await vireoOk(a.dataDir, ['console', vm.name, '--expect', GUEST_MARKER, '--timeout', '240'], 260_000)

    const hosts = [
      { host: a, remote: 'b' },
      { host: b, remote: 'a' },
    ]
    const v: VireoRound[] = []
    const tls: BareRound[] = []
    const plain: BareRound[] = []
    let here = 0
    for (let i = 0; i < rounds; i++) {
      const from = hosts[i % 2]!
      v.push(await migrateCli(from.host, vm.name, from.remote))
      for (const [list, withTls] of [
        [tls, true],
        [plain, false],
      ] as const) {
        const destDir = places[1 - here]!
        const { dest, r } = await bareMigrate(
          bare,
          argvAt(destDir),
          destDir,
          withTls,
          tls.length + plain.length,
        )
        bare = dest
        here = 1 - here
        list.push(r)
      }
    }
    // What a writable disk adds (Vireo only: bare QEMU would need the same NBD mirror built by hand):
    // the disk mirrored into the destination's NBD export, and the mirror ended inside the pause.
    const disked = await make('mig-disk', ['--disk-size', '32M'])
    await vireoOk(a.dataDir, ['start', disked.name])
    await vireoOk(a.dataDir, ['console', disked.name, '--expect', GUEST_MARKER, '--timeout', '240'], 260_000)
    const d: VireoRound[] = []
    for (let i = 0; i < rounds; i++)
      d.push(await migrateCli(hosts[i % 2]!.host, disked.name, hosts[i % 2]!.remote))
    const vs = summary(v, ['downtimeMs', 'qemuDowntimeMs', 'totalMs', 'cliMs'])
    const ds = summary(d, ['downtimeMs', 'qemuDowntimeMs', 'totalMs', 'cliMs'])
    const ts = summary(tls, ['downtimeMs', 'totalMs', 'stopToContMs', 'setupMs'])
    const ps = summary(plain, ['downtimeMs', 'totalMs', 'stopToContMs', 'setupMs'])
    const vd = vs['medianDowntimeMs'] as number
    const vt = vs['medianTotalMs'] as number
    return {
      what: `live migration of an idle ${MEMORY_MIB} MiB test guest on loopback (TCG): Vireo (two hosts, vireo migrate) vs bare QMP with the same QEMU argv and settings`,
      rounds,
      guest: `${MEMORY_MIB} MiB, the test guest ISO on a read-only CD, no writable disk (so no NBD mirror on either side), no NIC`,
      settings: `auto-converge on, downtime-limit ${DOWNTIME_LIMIT_MS} ms, no bandwidth limit, events on, no post-copy (Vireo's defaults)`,
      notes:
        "Vireo downtime is the engine's own figure: from the source's STOP event to the destination's reply to the commit call (which returns once the destination's cont has run); total is the engine's, from the request to the result (checks, copying the 16 MiB ISO to the destination, starting the destination QEMU, memory copy, switch-over, stopping the source). qemuDowntime is QEMU's query-migrate downtime on Vireo's source. Bare downtime and total are QEMU's query-migrate downtime and total-time on the source; stopToCont is from the source's STOP event to the destination's cont reply (the destination started with -S -incoming defer, cont sent on its MIGRATION completed event), the same span Vireo measures; setup is starting the destination QEMU and the QMP calls before migrate, not in total-time. Both sides' TLS-PSK credentials are made as Vireo makes them (keys.psk with identity:hexkey, the server's with RFC 7919 ffdhe2048 as dh-params.pem). phasesAtMs: when the CLI first and last printed each phase, from its start (before checking: the CLI's own start-up; copying-files ends when the ISO is across, and the destination QEMU starts between it and copying-disks). Ratios: Vireo's downtime against bare stopToCont is the like-for-like one (the same span); against bare QEMU downtime it also counts the destination's load and cont. Vireo's total against bare total-time leaves out what bare never does (checks, the ISO copy, the destination's start); against setup plus total-time it leaves out only the checks and the ISO copy.",
      vireo: { ...vs, phasesAtMs: v.map((r) => r.phasesAtMs) },
      vireoWithDisk: {
        disk: 'a 32 MiB qcow2 on virtio, mirrored (sync=top) into the destination over NBD with TLS-PSK',
        ...ds,
        phasesAtMs: d.map((r) => r.phasesAtMs),
      },
      bareTls: ts,
      barePlain: ps,
      ratios: {
        downtimeVsBareStopToCont: ratio(vd, ts['medianStopToContMs'] as number),
        downtimeVsBareQemuDowntime: ratio(vd, ts['medianDowntimeMs'] as number),
        qemuDowntimeVsBareQemuDowntime: ratio(
          vs['medianQemuDowntimeMs'] as number,
          ts['medianDowntimeMs'] as number,
        ),
        totalVsBareTotal: ratio(vt, ts['medianTotalMs'] as number),
        totalVsBareSetupPlusTotal: ratio(
          vt,
          (ts['medianTotalMs'] as number) + (ts['medianSetupMs'] as number),
        ),
        bareTlsVsPlainDowntime: ratio(ts['medianDowntimeMs'] as number, ps['medianDowntimeMs'] as number),
      },
      promise: 'with TLS: downtime ≤ 1.0× bare, total ≤ 1.2× bare',
    }
  } finally {
    if (bare) await killBare(bare)
    rmSync(bareRoot, { recursive: true, force: true })
    if (b) await b.stop()
    await a.stop()
  }
}
