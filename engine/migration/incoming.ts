// The receiving side of a migration. The VM's folder is made under its final name but without
// vm.json (so the library does not see it) and with incoming.json (so that whatever is left after
// a failure, or after this engine dies, is recognised as a partial copy and removed). Files are
// written only inside that folder, each once. The guest's QEMU waits with -incoming defer and its
// disks exported over NBD with TLS; it runs only when the source commits.
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { open } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createServer } from 'node:net'
import { dirname, isAbsolute, join, normalize, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { VireoError } from '../api/errors.ts'
import type { IncomingPlan } from '../api/migration.ts'
import type { VmSummary } from '../api/rpc.ts'
import type { VmConfig } from '../api/vm-config.ts'
import { execFileText, QEMU_IMG_MEMORY_BYTES } from '../qemu/exec.ts'
import type { QmpClient } from '../qmp/client.ts'
import { migrationKey } from '../peers/peer-keys.ts'
import type { Peer } from '../peers/trust-store.ts'
import { backingName } from '../snapshots/chain-files.ts'
import { walkImageChain } from '../storage/image-chain.ts'
import { readImageHeader } from '../storage/image-headers.ts'
import { loadIndex } from '../snapshots/index.ts'
import { addTlsCreds, removeTlsCreds, TLS_OBJECT_ID } from './qemu-tls.ts'
import { receiveSparse, TransferError } from './sparse-stream.ts'

export const INCOMING_MARKER = 'incoming.json'
/** Names a source may never write: the library's and the runtime's own files. */
const RESERVED = new Set(['vm.json', 'runtime.json', INCOMING_MARKER])

export interface IncomingHost {
  vmsDir: string
  runtimeDirOf: (vmId: string) => string
  qemuImg: () => Promise<string>
  /** Why a VM with this id or name cannot be added here; null when it can. */
  clash: (config: VmConfig) => string | null
  /** Starts QEMU for the VM in `dir` waiting for a migration; `hook` runs before its CPUs start. */
  launchIncoming: (
    dir: string,
    config: VmConfig,
    hook: (qmp: QmpClient) => Promise<void>,
  ) => Promise<{ summary: VmSummary; qmp: QmpClient; runningAt: number }>
  /** Registers a stopped VM whose files are complete (offline). */
  register: (dir: string, config: VmConfig) => VmSummary
  listenAddress: () => string
  log: (line: string) => void
}

interface Deferred<T> {
  promise: Promise<T>
  resolve: (v: T) => void
  reject: (e: Error) => void
}
function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void
  let reject!: (e: Error) => void
  const promise = new Promise<T>((a, b) => ((resolve = a), (reject = b)))
  promise.catch(() => undefined)
  return { promise, resolve, reject }
}

interface Incoming {
  plan: IncomingPlan
  peer: Peer
  session: number
  dir: string
  received: Set<number>
  /** Live: QEMU's lifetime, from start to the guest running here. */
  launched: Promise<VmSummary> | null
  nbdReady: Deferred<number>
  listenAsked: Deferred<void>
  listening: Deferred<number>
  commitAsked: Deferred<void>
  committed: boolean
  /** When the guest's CPUs started here (live). */
  runningAt: number
  reaper: ReturnType<typeof spawn> | null
}

export class IncomingMigrations {
  private readonly host: IncomingHost
  private readonly active = new Map<string, Incoming>()

  constructor(host: IncomingHost) {
    this.host = host
  }

  /** Partial copies a dead engine left behind: their QEMU is killed (by the reaper) and the folders go. */
  sweep(): void {
    if (!existsSync(this.host.vmsDir)) return
    for (const name of readdirSync(this.host.vmsDir)) {
      const dir = join(this.host.vmsDir, name)
      if (existsSync(join(dir, INCOMING_MARKER)) && !existsSync(join(dir, 'vm.json'))) {
        this.host.log(`removed the partial copy of an incoming migration in ${dir}`)
        rmSync(dir, { recursive: true, force: true })
      }
    }
  }

  private get(peer: Peer, id: string): Incoming {
    const m = this.active.get(id)
    if (!m || m.peer.hostId !== peer.hostId)
      throw new VireoError('not_found', `there is no migration ${id} from this host`)
    return m
  }

  prepare(peer: Peer, session: number, plan: IncomingPlan): void {
    if (this.active.has(plan.migration)) throw new VireoError('conflict', 'that migration exists already')
    const why = this.host.clash(plan.config)
    if (why) throw new VireoError('conflict', why)
    const dir = join(this.host.vmsDir, plan.config.id)
    if (existsSync(dir))
      throw new VireoError('conflict', `a folder for VM ${plan.config.id} exists on this host already`)
    // Nothing the source names may lead this host's QEMU or qemu-img out of the VM's folder.
    for (const f of [
      ...plan.files.flatMap((x) => [x.rel, ...(x.backing ? [x.backing] : [])]),
      ...plan.mirrored.flatMap((x) => [x.rel, ...(x.backing ? [x.backing] : [])]),
      ...configPaths(plan.config),
    ])
      safePath(dir, f)
    mkdirSync(dir, { recursive: true })
    writeFileSync(
      join(dir, INCOMING_MARKER),
      JSON.stringify({ migration: plan.migration, from: peer.hostName, at: new Date().toISOString() }) + '\n',
    )
    // Every file arrives inside the VM's folder: nothing the source trusted is trusted here.
    const own = { ...plan, config: untrusting(plan.config) }
    const m: Incoming = {
      plan: own,
      peer,
      session,
      dir,
      received: new Set(),
      launched: null,
      nbdReady: deferred(),
      listenAsked: deferred(),
      listening: deferred(),
      commitAsked: deferred(),
      committed: false,
      runningAt: 0,
      reaper: startReaper(dir),
    }
    this.active.set(plan.migration, m)
    this.host.log(`incoming ${plan.mode} migration of "${plan.config.name}" from ${peer.hostName}`)
  }

  /** PUT /peer/migrations/:id/files/:n */
  async receive(peer: Peer, id: string, n: number, req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const m = this.get(peer, id)
      const f = m.plan.files[n]
      if (!f) throw new VireoError('not_found', `the migration has no file ${n}`)
      if (m.received.has(n)) throw new VireoError('conflict', `${f.rel} arrived already`)
      const abs = safePath(m.dir, f.rel)
      mkdirSync(dirname(abs), { recursive: true })
      // 'wx': a file is written once, and never through a link planted in its place.
      const fh = await open(abs, 'wx', 0o600)
      try {
        await receiveSparse(req, fh, f.size)
      } catch (err) {
        await fh.close()
        rmSync(abs, { force: true })
        throw err
      }
      await fh.close()
      m.received.add(n)
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok')
    } catch (err) {
      const code =
        err instanceof TransferError ? 422 : err instanceof VireoError && err.code === 'not_found' ? 404 : 409
      res.writeHead(code, { 'content-type': 'text/plain' }).end((err as Error).message)
      req.resume()
    }
  }

  /** Every file arrived: backing names pointed at their new places. */
  private async settleFiles(m: Incoming): Promise<void> {
    const missing = m.plan.files.filter((_f, i) => !m.received.has(i)).map((f) => f.rel)
    if (missing.length > 0)
      throw new VireoError('invalid_state', `files have not arrived: ${missing.slice(0, 5).join(', ')}`)
    // Each file's own references first, from its header: no tool opens a data file or an extent
    // the source named before it is known to lie inside the VM's folder.
    for (const f of m.plan.files) {
      const abs = safePath(m.dir, f.rel)
      const h = readImageHeader(abs)
      const refs = [...(h.dataFile ? [h.dataFile] : []), ...h.extents]
      for (const r of refs)
        if (!insideDir(m.dir, resolve(dirname(abs), r)))
          throw new VireoError('invalid_request', `${f.rel} reads ${r}, outside the VM's folder; refused`)
    }
    const img = await this.host.qemuImg()
    for (const f of m.plan.files) {
      if (!f.backing) continue
      const abs = safePath(m.dir, f.rel)
      const back = safePath(m.dir, f.backing)
      await qemuImg(img, [
        'rebase',
        '-u',
        '-f',
        'qcow2',
        '-b',
        backingName(abs, back),
        '-F',
        await formatOf(img, back),
        abs,
      ])
    }
    // Then every chain, now that backing names point into the folder: nothing may lead outside.
    for (const f of m.plan.files) {
      const abs = safePath(m.dir, f.rel)
      const { format } = readImageHeader(abs)
      if (format === 'qcow2' || format === 'vmdk')
        walkImageChain(abs, { policy: { named: [], insideDirs: [m.dir] } })
    }
    const index = loadIndex(m.dir)
    for (const snap of index.snapshots)
      for (const p of [
        ...Object.values(snap.layers),
        ...(snap.nvram ? [snap.nvram] : []),
        ...(snap.state ? [snap.state] : []),
        ...configPaths(snap.config),
      ])
        safePath(m.dir, p)
    if (index.nvram) safePath(m.dir, index.nvram)
  }

  async start(peer: Peer, id: string): Promise<{ nbdPort: number | null }> {
    const m = this.get(peer, id)
    if (m.plan.mode !== 'live') return { nbdPort: null }
    if (m.launched) throw new VireoError('invalid_state', 'the migration has started already')
    await this.settleFiles(m)
    const img = await this.host.qemuImg()
    for (const d of m.plan.mirrored) {
      const abs = safePath(m.dir, d.rel)
      mkdirSync(dirname(abs), { recursive: true })
      if (d.format === 'qcow2') {
        const args = ['create', '-q', '-f', 'qcow2']
        if (d.backing) {
          const back = safePath(m.dir, d.backing)
          args.push('-b', backingName(abs, back), '-F', await formatOf(img, back), '-u')
        }
        await qemuImg(img, [...args, abs, String(d.virtualSize)])
      } else {
        await qemuImg(img, ['create', '-q', '-f', 'raw', abs, String(d.virtualSize)])
      }
    }
    const address = this.host.listenAddress()
    const key = migrationKey(peer.key, id)
    const runtimeDir = this.host.runtimeDirOf(m.plan.config.id)
    m.launched = this.host
      .launchIncoming(m.dir, m.plan.config, async (qmp) => {
        await addTlsCreds(qmp, runtimeDir, 'server', id, key)
        const nbdPort = await freePort(address)
        await qmp.execute('nbd-server-start', {
          addr: { type: 'inet', data: { host: address, port: String(nbdPort) } },
          'tls-creds': TLS_OBJECT_ID,
        })
        for (const d of m.plan.mirrored)
          await qmp.execute('block-export-add', {
            type: 'nbd',
            id: `vireo-export-${d.node}`,
            'node-name': d.node,
            name: d.node,
            writable: true,
          })
        this.host.log(
          `disks of "${m.plan.config.name}" exported for the mirror on ${address}:${nbdPort} (NBD, TLS-PSK)`,
        )
        m.nbdReady.resolve(nbdPort)
        await m.listenAsked.promise
        const port = await freePort(address)
        await qmp.execute('migrate-set-capabilities', {
          capabilities: [
            { capability: 'events', state: true },
            { capability: 'postcopy-ram', state: m.plan.postcopy },
          ],
        })
        await qmp.execute('migrate-set-parameters', { 'tls-creds': TLS_OBJECT_ID })
        const host = address.includes(':') ? `[${address}]` : address
        await qmp.execute('migrate-incoming', { uri: `tcp:${host}:${port}` })
        this.host.log(`memory of "${m.plan.config.name}" awaited on ${address}:${port} (TLS-PSK)`)
        m.listening.resolve(port)
        await m.commitAsked.promise
        await waitIncomingDone(qmp, m.plan.postcopy)
      })
      .then(async ({ summary, qmp }) => {
        // The guest runs first: the source's mirror has let go of the export, so taking it down can
        // wait until after `cont` and adds nothing to the pause.
        for (const d of m.plan.mirrored)
          await qmp.execute('block-export-del', { id: `vireo-export-${d.node}` }).catch(() => undefined)
        await qmp.execute('nbd-server-stop').catch(() => undefined)
        await removeTlsCreds(qmp, runtimeDir)
        return summary
      })
    m.launched.catch((err: Error) => {
      m.nbdReady.reject(err)
      m.listening.reject(err)
    })
    return { nbdPort: await m.nbdReady.promise }
  }

  async listen(peer: Peer, id: string): Promise<{ port: number }> {
    const m = this.get(peer, id)
    if (!m.launched) throw new VireoError('invalid_state', 'the migration has not started')
    m.listenAsked.resolve()
    return { port: await m.listening.promise }
  }

  async commit(peer: Peer, id: string): Promise<{ vm: VmSummary; resumeMs: number; handledMs: number }> {
    const at = Date.now()
    const m = this.get(peer, id)
    let summary: VmSummary
    if (m.plan.mode === 'live') {
      if (!m.launched) throw new VireoError('invalid_state', 'the migration has not started')
      m.commitAsked.resolve()
      summary = await m.launched
    } else {
      await this.settleFiles(m)
      summary = this.host.register(m.dir, m.plan.config)
    }
    m.committed = true
    rmSync(join(m.dir, INCOMING_MARKER), { force: true })
    this.finish(m)
    this.host.log(`"${m.plan.config.name}" arrived from ${m.peer.hostName}`)
    const done = Date.now()
    return { vm: summary, resumeMs: (m.runningAt || done) - at, handledMs: done - at }
  }

  async abort(peer: Peer, id: string, reason: string): Promise<void> {
    const m = this.active.get(id)
    if (!m || m.peer.hostId !== peer.hostId) return
    await this.drop(m, reason)
  }

  /** The source's session ended: whatever it had not committed is dropped. */
  async sessionClosed(session: number): Promise<void> {
    for (const m of [...this.active.values()])
      if (m.session === session && !m.committed) await this.drop(m, 'the source host went away')
  }

  /**
   * The host is stopping: every migration not yet committed is dropped (its QEMU, folder and
   * reaper go), waiting at most `graceMs` for each QEMU to end.
   */
  async dispose(graceMs = 10_000): Promise<void> {
    await Promise.all(
      [...this.active.values()].map((m) =>
        Promise.race([
          this.drop(m, 'this host is stopping'),
          new Promise((r) => setTimeout(r, graceMs).unref()),
        ]),
      ),
    )
    for (const m of this.active.values()) m.reaper?.kill()
  }

  private async drop(m: Incoming, reason: string): Promise<void> {
    if (m.committed) return
    this.host.log(`dropping the incoming migration of "${m.plan.config.name}": ${reason}`)
    const err = new VireoError('invalid_state', `the migration was abandoned: ${reason}`)
    m.listenAsked.reject(err)
    m.commitAsked.reject(err)
    if (m.launched) await m.launched.catch(() => undefined)
    rmSync(m.dir, { recursive: true, force: true })
    this.finish(m)
  }

  private finish(m: Incoming): void {
    this.active.delete(m.plan.migration)
    m.reaper?.kill()
  }
}

function untrusting(c: VmConfig): VmConfig {
  return { ...c, disks: c.disks.map((d) => ({ ...d, trusted: [] })) }
}

function configPaths(c: VmConfig): string[] {
  return [
    ...c.disks.map((d) => d.path),
    ...c.cdroms.flatMap((cd) => (cd.path ? [cd.path] : [])),
    ...(c.directBoot ? [c.directBoot.kernel, ...(c.directBoot.initrd ? [c.directBoot.initrd] : [])] : []),
  ]
}

function insideDir(dir: string, abs: string): boolean {
  const r = relative(dir, abs)
  return r !== '' && !r.startsWith('..') && !isAbsolute(r)
}

/** A path the source names, resolved inside the VM's folder; anything else is refused. */
export function safePath(dir: string, rel: string): string {
  const n = normalize(rel)
  const abs = resolve(dir, n)
  const r = relative(dir, abs)
  if (
    isAbsolute(rel) ||
    rel.includes('\0') ||
    r === '' ||
    r.startsWith('..') ||
    isAbsolute(r) ||
    n.split(sep).some((s) => s === '..') ||
    (!r.includes(sep) && RESERVED.has(r))
  )
    throw new VireoError('invalid_request', `"${rel}" is not a path inside the VM's folder`)
  return abs
}

/** Usually done by the time the source commits; else the MIGRATION event says when (no polling delay). */
async function waitIncomingDone(qmp: QmpClient, postcopy: boolean): Promise<void> {
  const deadline = Date.now() + 30_000
  for (;;) {
    const event = qmp.waitForEvent('MIGRATION', () => true, 1_000).catch(() => null)
    const m = (await qmp.execute('query-migrate')) as { status?: string }
    if (m.status === 'completed') return
    // In post-copy the guest must run here while the rest of its memory arrives, but only once its
    // device state has loaded: postcopy-active begins before that, while QEMU is still 'inmigrate'.
    if (postcopy && m.status === 'postcopy-active') {
      const run = await qmp.execute('query-status')
      if (run.status !== 'inmigrate') return
      await new Promise((r) => setTimeout(r, 5))
      continue
    }
    if (m.status === 'failed' || m.status === 'cancelled')
      throw new VireoError('unavailable', `the incoming migration ${m.status}`)
    if (Date.now() > deadline) throw new VireoError('timeout', 'the incoming migration did not complete')
    await event
  }
}

async function qemuImg(bin: string, args: string[]): Promise<string> {
  const r = await execFileText(bin, args, { timeoutMs: 10 * 60_000, maxMemoryBytes: QEMU_IMG_MEMORY_BYTES })
  if (r.code !== 0) throw new VireoError('qemu_failed', `qemu-img ${args[0]} failed: ${r.stderr.trim()}`)
  return r.stdout
}

async function formatOf(bin: string, abs: string): Promise<string> {
  const info = JSON.parse(await qemuImg(bin, ['info', '--output=json', '-U', abs])) as { format: string }
  return info.format === 'qcow2' ? 'qcow2' : 'raw'
}

function freePort(address: string): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, address, () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolvePromise(port))
    })
  })
}

/**
 * A small watcher outside this engine: if the engine dies before the migration ends, it kills the
 * waiting QEMU and removes the partial folder, so that nothing is left on this host.
 */
function startReaper(dir: string): ReturnType<typeof spawn> | null {
  const script = fileURLToPath(new URL('./incoming-reaper.mjs', import.meta.url))
  if (!existsSync(script)) return null
  const child = spawn(process.execPath, [script, String(process.pid), dir], {
    detached: true,
    stdio: 'ignore',
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
  })
  child.unref()
  return child
}
