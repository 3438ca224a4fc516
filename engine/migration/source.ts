// The sending side of a migration: check, copy the immutable files, mirror the disks QEMU writes
// into the destination's NBD export, copy memory with QEMU's pre-copy, switch over, and only then
// stop here. Until the destination has been told to run the guest, every failure or cancel ends
// with the guest running here as before and the destination told to remove its copy; once told,
// this side never resumes on its own (the guest may be running there).
import { randomBytes } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { RpcClient } from '../api/client.ts'
import { VireoError } from '../api/errors.ts'
import type {
  CompatibilityReport,
  MigrateOptions,
  MigrationPhase,
  MigrationProgress,
  MigrationResult,
} from '../api/migration.ts'
import type { VmConfig } from '../api/vm-config.ts'
import { migrationKey } from '../peers/peer-keys.ts'
import { peerRequest, type PeerAddress } from '../peers/peer-client.ts'
import type { QmpClient } from '../qmp/client.ts'
import { compatibility } from './compatibility.ts'
import { planMigration, type MigrationPlan } from './plan.ts'
import { addTlsCreds, removeTlsCreds, TLS_OBJECT_ID } from './qemu-tls.ts'
import { activeNodes } from '../snapshots/live-save.ts'
import { sendSparse } from './sparse-stream.ts'
import { Throttle } from './throttle.ts'

export interface SourceVm {
  dir: string
  config: VmConfig
  runtimeDir: string
  qmp: QmpClient | null
}

export interface SourceContext {
  vm: SourceVm
  opts: MigrateOptions
  job: string
  remote: { client: RpcClient; peer: PeerAddress & { name: string } }
  self: { hostId: string; hostName: string }
  qemuImg: string
  qemuVersion: string
  accelerator: string
  /** How long no byte may move before the link counts as cut. */
  stallMs: number
  signal: AbortSignal
  emit: (p: MigrationProgress) => void
  log: (line: string) => void
  /** Called once the destination runs the guest: stop it here (the host decides how). */
  stopHere: () => Promise<void>
  /** Called after a move: release the VM here (library entry and files). */
  release: () => Promise<void>
}

const MIRROR_JOB = (node: string) => `vireo-mirror-${node}`
const NBD_NODE = (node: string) => `vireo-nbd-${node}`
const POLL_MS = 200

export async function checkMigration(
  ctx: Pick<SourceContext, 'vm' | 'opts' | 'remote' | 'qemuImg' | 'qemuVersion' | 'accelerator'>,
): Promise<{ report: CompatibilityReport; plan: MigrationPlan }> {
  const live = ctx.vm.qmp !== null && !ctx.opts.offline
  const plan = await planMigration(ctx.vm, live, ctx.qemuImg)
  const [hello, vms] = await Promise.all([
    ctx.remote.client.call('peer.hello', {}),
    ctx.remote.client.call('vm.list', {}),
  ])
  const transferBytes =
    plan.files.reduce((n, f) => n + f.size, 0) + plan.mirrored.reduce((n, m) => n + m.virtualSize, 0)
  const report = compatibility(
    {
      config: plan.config,
      live,
      postcopy: ctx.opts.postcopy,
      copy: ctx.opts.copy,
      running: ctx.vm.qmp !== null,
      qemuVersion: ctx.qemuVersion,
      accelerator: ctx.accelerator,
      transferBytes,
      snapshots: plan.snapshots,
      clones: plan.clones,
    },
    hello,
    vms,
  )
  return { report, plan }
}

export async function migrateOut(outer: SourceContext): Promise<MigrationResult> {
  // One signal for every reason to stop: the user's cancel, or the destination's channel closing
  // (its engine died or the link dropped; the ping in keepAlive notices within 15 s).
  const stop = new AbortController()
  const onCancel = () => stop.abort(new VireoError('invalid_state', 'the migration was cancelled'))
  if (outer.signal.aborted) onCancel()
  outer.signal.addEventListener('abort', onCancel)
  const closeSub = outer.remote.client.onClose(() =>
    stop.abort(new VireoError('unavailable', `the connection to ${outer.remote.peer.name} was lost`)),
  )
  try {
    return await migrateWith({ ...outer, signal: stop.signal })
  } finally {
    outer.signal.removeEventListener('abort', onCancel)
    closeSub.dispose()
  }
}

async function migrateWith(ctx: SourceContext): Promise<MigrationResult> {
  const started = Date.now()
  const { client } = ctx.remote
  const id = randomBytes(8).toString('hex')
  const live = ctx.vm.qmp !== null && !ctx.opts.offline
  let bytes = 0
  // A file reports every 64 KiB block: at most ten events a second reach the clients, and every
  // change of phase at once.
  let lastPhase: MigrationPhase | null = null
  let lastEmit = 0
  const progress = (phase: MigrationPhase, p: Partial<MigrationProgress> = {}) => {
    const now = Date.now()
    if (phase === lastPhase && now - lastEmit < 100 && p.bytesLeft !== 0) return
    lastPhase = phase
    lastEmit = now
    emitProgress(phase, p)
  }
  const emitProgress = (phase: MigrationPhase, p: Partial<MigrationProgress>) =>
    ctx.emit({
      job: ctx.job,
      vm: ctx.vm.config.id,
      phase,
      bytesDone: 0,
      bytesLeft: null,
      dirtyPagesPerSecond: null,
      expectedDowntimeMs: null,
      etaMs: null,
      bytesPerSecond: null,
      ...p,
    })
  const cancelled = () => {
    if (ctx.signal.aborted) throw ctx.signal.reason as Error
  }

  progress('checking')
  const { report, plan } = await checkMigration(ctx)
  if (!report.ok)
    throw new VireoError(
      'conflict',
      `${ctx.remote.peer.name} cannot take "${ctx.vm.config.name}": ${report.checks
        .filter((c) => !c.ok)
        .map((c) => `${c.what}: ${c.detail}`)
        .join('; ')}`,
    )
  cancelled()

  const qmp = ctx.vm.qmp
  const mirrors: string[] = []
  const nbdNodes: string[] = []
  let committing = false
  let tlsAdded = false
  let migrating = false
  try {
    await client.call('peer.incoming.prepare', {
      migration: id,
      mode: live ? 'live' : 'offline',
      config: plan.config,
      files: plan.files.map(({ rel, size, backing }) => ({ rel, size, backing })),
      mirrored: plan.mirrored.map(({ abs: _abs, ...m }) => m),
      sourceHostName: ctx.self.hostName,
      accelerator: live ? ctx.accelerator : null,
      postcopy: ctx.opts.postcopy,
    })

    // Immutable files, whole (snapshot layers, memory files, media), sparse and checksummed.
    const throttle = new Throttle(ctx.opts.bandwidthMbps, ctx.signal)
    const total = plan.files.reduce((n, f) => n + f.size, 0)
    let done = 0
    const rate = new Rate()
    for (const [i, f] of plan.files.entries()) {
      cancelled()
      const { req, response } = peerRequest(
        ctx.remote.peer,
        ctx.self.hostId,
        'PUT',
        `/peer/migrations/${id}/files/${i}`,
        {
          'content-type': 'application/octet-stream',
        },
      )
      const sending = sendSparse(
        f.content ? { content: f.content } : { path: f.abs! },
        req,
        (n) => {
          done += n
          rate.add(n)
          progress('copying-files', {
            bytesDone: done,
            bytesLeft: total - done,
            bytesPerSecond: rate.perSecond(),
            etaMs: rate.etaMs(total - done),
          })
        },
        (n) => throttle.take(n),
      )
      // Awaited below, but it may fail first (a destroyed request) while the send is still running.
      response.catch(() => undefined)
      const onAbort = () => req.destroy(new Error('cancelled'))
      ctx.signal.addEventListener('abort', onAbort)
      // A cut link never errors by itself: no byte moving for stallMs ends the upload, as for disks and memory.
      let stalled: VireoError | null = null
      let seen = done
      let lastMove = Date.now()
      const watchdog = setInterval(() => {
        if (done !== seen) [seen, lastMove] = [done, Date.now()]
        else if (Date.now() - lastMove > ctx.stallMs && !stalled) {
          stalled = new VireoError(
            'timeout',
            `no file data reached the destination for ${Math.round(ctx.stallMs / 1000)} s: the link looks cut`,
          )
          req.destroy(stalled)
        }
      }, POLL_MS)
      try {
        await sending
        req.end()
        lastMove = Date.now()
        const res = await response
        const body = await readBody(res)
        if (res.statusCode !== 200)
          throw new VireoError('internal', `${ctx.remote.peer.name} refused ${f.rel}: ${body}`)
      } catch (err) {
        cancelled()
        throw stalled ?? err
      } finally {
        clearInterval(watchdog)
        ctx.signal.removeEventListener('abort', onAbort)
      }
      bytes += f.size
    }
    cancelled()

    if (!live || !qmp) {
      progress('switching-over')
      await client.call('peer.incoming.commit', { migration: id })
      committing = true
      progress('cleaning-up')
      if (!ctx.opts.copy) await ctx.release()
      return {
        vm: ctx.vm.config.id,
        name: ctx.vm.config.name,
        to: ctx.remote.peer.name,
        mode: 'offline',
        copy: ctx.opts.copy,
        postcopy: false,
        downtimeMs: null,
        totalMs: Date.now() - started,
        bytes,
      }
    }

    // Disks: the layers QEMU writes, mirrored into the destination's NBD export while the guest runs.
    const { nbdPort } = await client.call('peer.incoming.start', { migration: id })
    const key = migrationKey(ctx.remote.peer.key, id)
    await addTlsCreds(qmp, ctx.vm.runtimeDir, 'client', id, key)
    tlsAdded = true
    const speed = ctx.opts.bandwidthMbps ? Math.floor((ctx.opts.bandwidthMbps * 1_000_000) / 8) : undefined
    // Here the writing layer's node changes with every snapshot; there it is named as in vm.json.
    const nodes = await activeNodes(qmp)
    for (const m of plan.mirrored) {
      const device = nodes.get(m.abs)?.node
      if (!device) throw new VireoError('internal', `QEMU has no node for ${m.abs}`)
      await qmp.execute('blockdev-add', {
        driver: 'nbd',
        'node-name': NBD_NODE(m.node),
        server: { type: 'inet', host: ctx.remote.peer.address, port: String(nbdPort) },
        export: m.node,
        'tls-creds': TLS_OBJECT_ID,
      } as never)
      nbdNodes.push(NBD_NODE(m.node))
      await qmp.execute('blockdev-mirror', {
        'job-id': MIRROR_JOB(m.node),
        device,
        target: NBD_NODE(m.node),
        sync: 'top',
        ...(speed ? { speed } : {}),
      })
      mirrors.push(m.node)
    }
    await watchMirrors(qmp, mirrors, ctx, (d, left, r) =>
      progress('copying-disks', {
        bytesDone: d,
        bytesLeft: left,
        bytesPerSecond: r.perSecond(),
        etaMs: r.etaMs(left),
      }),
    )
    cancelled()

    // Memory and device state, pre-copy over TLS.
    const { port } = await client.call('peer.incoming.listen', { migration: id })
    await qmp.execute('migrate-set-capabilities', {
      capabilities: [
        { capability: 'events', state: true },
        { capability: 'auto-converge', state: ctx.opts.autoConverge },
        { capability: 'postcopy-ram', state: ctx.opts.postcopy },
      ],
    })
    await qmp.execute('migrate-set-parameters', {
      'tls-creds': TLS_OBJECT_ID,
      'downtime-limit': ctx.opts.maxDowntimeMs,
      'max-bandwidth': speed ?? 0x7fffffffffff,
    })
    let stoppedAt = 0
    const stopSub = qmp.on('STOP', () => (stoppedAt ||= Date.now()))
    migrating = true
    const host = ctx.remote.peer.address.includes(':')
      ? `[${ctx.remote.peer.address}]`
      : ctx.remote.peer.address
    await qmp.execute('migrate', { uri: `tcp:${host}:${port}` })
    const info = await watchMigration(qmp, ctx, (p) => progress('copying-memory', p), ctx.opts.postcopy)
    const completedAt = Date.now()
    migrating = false
    stopSub.dispose()
    bytes += info.ramBytes

    // Switch-over: the guest is paused here. Finish the mirrors (nothing writes any more), then the
    // destination runs the guest.
    progress('switching-over')
    for (const node of mirrors) {
      const completed = qmp.waitForEvent('BLOCK_JOB_COMPLETED', (d) => d.device === MIRROR_JOB(node), 30_000)
      await qmp.execute('block-job-cancel', { device: MIRROR_JOB(node) })
      await completed
    }
    mirrors.length = 0
    const mirroredAt = Date.now()
    // A channel closed before the commit is sent means the destination never ran the guest.
    cancelled()
    committing = true
    const sentAt = Date.now()
    const there = await client.call('peer.incoming.commit', { migration: id })
    if (info.postcopy) {
      // The guest runs there and fetches the pages still here; nothing can be undone now.
      const done = await finishPostcopy(qmp)
      if (done !== 'completed')
        throw new VireoError(
          'unavailable',
          `the post-copy to ${ctx.remote.peer.name} ${done} after the switch-over; the guest, which ran there, is lost (its disks there and here are intact)`,
        )
      bytes += (((await qmp.execute('query-migrate')) as MigrateInfo).ram?.transferred ?? 0) - info.ramBytes
    }
    // The pause ends when the guest's CPUs run there. No shared clock: this host's time up to the
    // commit, half the round trip for its flight, and the destination's own count to `cont`.
    const flight = Math.max(0, Date.now() - sentAt - there.handledMs) / 2
    const runningThereAt = sentAt + flight + there.resumeMs
    const downtimeMs = Math.round(stoppedAt ? runningThereAt - stoppedAt : info.downtimeMs)
    // QEMU fills in its own figures just after its completed event, which watchMigration can beat.
    const qemuDowntimeMs =
      info.downtimeMs ||
      (((await qmp.execute('query-migrate').catch(() => ({}))) as MigrateInfo).downtime ?? 0)
    progress('cleaning-up')
    await ctx.stopHere()
    if (!ctx.opts.copy) await ctx.release()
    ctx.log(
      `migrated "${ctx.vm.config.name}" to ${ctx.remote.peer.name} in ${Date.now() - started} ms; guest paused ${downtimeMs} ms: ` +
        `QEMU's own ${qemuDowntimeMs} ms, stop to completed ${stoppedAt ? completedAt - stoppedAt : '?'} ms, ` +
        `mirrors finished ${mirroredAt - completedAt} ms, commit in flight ${Math.round(flight)} ms, running there ${there.resumeMs} ms after it arrived`,
    )
    return {
      vm: ctx.vm.config.id,
      name: ctx.vm.config.name,
      to: ctx.remote.peer.name,
      mode: 'live',
      copy: ctx.opts.copy,
      postcopy: info.postcopy,
      downtimeMs,
      totalMs: Date.now() - started,
      bytes,
    }
  } catch (err) {
    if (committing) {
      // The destination may be running the guest: resuming here could run it twice.
      throw new VireoError(
        'unavailable',
        `the switch-over to ${ctx.remote.peer.name} did not confirm (${(err as Error).message}); "${ctx.vm.config.name}" stays paused here so that it never runs on both hosts: check ${ctx.remote.peer.name}, then stop or resume it here`,
      )
    }
    await rollBack(qmp, { migrating, mirrors, nbdNodes })
    // Told if it can hear; a cut link would hold this for the ping's 15 s, and the destination drops
    // its copy by itself when the channel closes anyway.
    await Promise.race([
      client
        .call('peer.incoming.abort', { migration: id, reason: (err as Error).message })
        .catch(() => undefined),
      sleep(3_000),
    ])
    throw err
  } finally {
    if (tlsAdded && !committing) await removeTlsCreds(qmp, ctx.vm.runtimeDir)
  }
}

/** Back to where the guest was: no migration, no mirror, no NBD client, running. */
async function rollBack(
  qmp: QmpClient | null,
  s: { migrating: boolean; mirrors: string[]; nbdNodes: string[] },
): Promise<void> {
  if (!qmp) return
  // A cut link never errors by itself: yank drops the sockets so that cancel returns at once.
  const yank: Record<string, unknown>[] = s.mirrors.map((n) => ({
    type: 'block-node',
    'node-name': NBD_NODE(n),
  }))
  if (s.migrating) yank.push({ type: 'migration' })
  if (yank.length) await qmp.execute('yank', { instances: yank }).catch(() => undefined)
  if (s.migrating) await qmp.execute('migrate_cancel').catch(() => undefined)
  for (const n of s.mirrors) {
    const done = qmp
      .waitForEvent('BLOCK_JOB_COMPLETED', (d) => d.device === MIRROR_JOB(n), 10_000)
      .catch(() => undefined)
    const gone = qmp
      .waitForEvent('BLOCK_JOB_CANCELLED', (d) => d.device === MIRROR_JOB(n), 10_000)
      .catch(() => undefined)
    await qmp.execute('block-job-cancel', { device: MIRROR_JOB(n), force: true }).catch(() => undefined)
    await Promise.race([done, gone, waitJobGone(qmp, MIRROR_JOB(n))])
  }
  for (const node of s.nbdNodes)
    await qmp.execute('blockdev-del', { 'node-name': node }).catch(() => undefined)
  // A migration that failed at its very end leaves the guest paused (postmigrate): run it again.
  const status = await qmp.execute('query-status').catch(() => null)
  if (status && !status.running && (status.status === 'postmigrate' || status.status === 'finish-migrate'))
    await qmp.execute('cont').catch(() => undefined)
}

async function waitJobGone(qmp: QmpClient, job: string): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const jobs = await qmp.execute('query-block-jobs').catch(() => [])
    if (!jobs.some((j) => j.device === job)) return
    await sleep(200)
  }
}

async function watchMirrors(
  qmp: QmpClient,
  jobs: string[],
  ctx: Pick<SourceContext, 'stallMs' | 'signal'>,
  report: (done: number, left: number, rate: Rate) => void,
): Promise<void> {
  const rate = new Rate()
  let last = -1
  let lastMove = Date.now()
  for (;;) {
    if (ctx.signal.aborted) throw ctx.signal.reason as Error
    const all = await qmp.execute('query-block-jobs')
    const mine = all.filter((j) => jobs.some((n) => j.device === MIRROR_JOB(n)))
    if (mine.length < jobs.length)
      throw new VireoError(
        'unavailable',
        'a disk mirror to the destination stopped (the link or the destination failed)',
      )
    const done = mine.reduce((n, j) => n + Number(j.offset ?? 0), 0)
    const len = mine.reduce((n, j) => n + Number(j.len ?? 0), 0)
    if (done !== last) {
      if (last >= 0) rate.add(done - last)
      last = done
      lastMove = Date.now()
    }
    report(done, Math.max(0, len - done), rate)
    if (mine.every((j) => j.ready === true)) return
    if (Date.now() - lastMove > ctx.stallMs)
      throw new VireoError(
        'timeout',
        `no disk data reached the destination for ${Math.round(ctx.stallMs / 1000)} s: the link looks cut`,
      )
    await sleep(POLL_MS)
  }
}

async function watchMigration(
  qmp: QmpClient,
  ctx: Pick<SourceContext, 'stallMs' | 'signal'>,
  report: (p: Partial<MigrationProgress>) => void,
  /** Switch to post-copy once a first whole pass of memory has crossed (opt-in). */
  postcopy = false,
): Promise<{ downtimeMs: number; ramBytes: number; postcopy: boolean }> {
  let postcopyAsked = false
  let lastBytes = -1
  let lastMove = Date.now()
  let wake: (() => void) | null = null
  // Set by an event that came in with a query's reply (before the wait began): no wait then, or
  // the guest, paused at completion, stays paused for a whole poll interval.
  let changed = false
  const sub = qmp.on('MIGRATION', () => {
    changed = true
    wake?.()
  })
  try {
    for (;;) {
      if (ctx.signal.aborted) throw ctx.signal.reason as Error
      const m = (await qmp.execute('query-migrate')) as MigrateInfo
      const ram = m.ram ?? {}
      if (m.status === 'completed')
        return { downtimeMs: m.downtime ?? 0, ramBytes: ram.transferred ?? 0, postcopy: false }
      // Paused here; from now on the destination must run the guest, fetching what is left.
      if (m.status === 'postcopy-active')
        return { downtimeMs: m.downtime ?? 0, ramBytes: ram.transferred ?? 0, postcopy: true }
      if (postcopy && !postcopyAsked && m.status === 'active' && (ram['dirty-sync-count'] ?? 0) >= 2) {
        postcopyAsked = true
        await qmp.execute('migrate-start-postcopy')
      }
      if (m.status === 'failed' || m.status === 'cancelled')
        throw new VireoError(
          'unavailable',
          `the memory copy ${m.status}${m['error-desc'] ? `: ${m['error-desc']}` : ''}`,
        )
      const moved = ram.transferred ?? 0
      if (moved !== lastBytes) {
        lastBytes = moved
        lastMove = Date.now()
      } else if (Date.now() - lastMove > ctx.stallMs)
        throw new VireoError(
          'timeout',
          `no memory reached the destination for ${Math.round(ctx.stallMs / 1000)} s: the link looks cut`,
        )
      const bps = ram.mbps ? (ram.mbps * 1_000_000) / 8 : null
      report({
        bytesDone: moved,
        bytesLeft: ram.remaining ?? null,
        dirtyPagesPerSecond: ram['dirty-pages-rate'] ?? null,
        expectedDowntimeMs: m['expected-downtime'] ?? null,
        bytesPerSecond: bps,
        etaMs: bps && ram.remaining !== undefined ? (ram.remaining / bps) * 1000 : null,
      })
      if (!changed)
        await new Promise<void>((r) => {
          wake = r
          setTimeout(r, POLL_MS)
        })
      changed = false
      wake = null
    }
  } finally {
    sub.dispose()
  }
}

async function finishPostcopy(qmp: QmpClient): Promise<string> {
  for (;;) {
    const m = (await qmp.execute('query-migrate').catch(() => ({ status: 'failed' }))) as MigrateInfo
    if (m.status === 'completed' || m.status === 'failed' || m.status === 'cancelled') return m.status
    await sleep(POLL_MS)
  }
}

interface MigrateInfo {
  status?: string
  downtime?: number
  'expected-downtime'?: number
  'error-desc'?: string
  ram?: {
    transferred?: number
    remaining?: number
    mbps?: number
    'dirty-pages-rate'?: number
    'dirty-sync-count'?: number
  }
}

/** Bytes per second over the last few seconds. */
class Rate {
  private samples: { at: number; n: number }[] = []
  add(n: number): void {
    const now = Date.now()
    this.samples.push({ at: now, n })
    while (this.samples.length > 1 && now - this.samples[0]!.at > 3000) this.samples.shift()
  }
  perSecond(): number | null {
    if (this.samples.length < 2) return null
    const span = (this.samples.at(-1)!.at - this.samples[0]!.at) / 1000
    if (span <= 0) return null
    return this.samples.slice(1).reduce((s, x) => s + x.n, 0) / span
  }
  etaMs(left: number): number | null {
    const r = this.perSecond()
    return r ? (left / r) * 1000 : null
  }
}

function readBody(res: IncomingMessage): Promise<string> {
  return new Promise((r) => {
    let s = ''
    res.setEncoding('utf8')
    res.on('data', (d: string) => (s += d.slice(0, 2000)))
    res.on('end', () => r(s))
    res.on('error', () => r(s))
  })
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}
