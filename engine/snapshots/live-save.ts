// A live snapshot of a running VM: every disk (and the UEFI vars) switched to a new overlay in one
// QMP transaction while the guest is paused, then memory and device state saved by a migration
// with the background-snapshot capability (userfaultfd write protection), so the guest runs again
// as soon as the migration is set up. Without userfaultfd the guest stays paused for the whole
// save, and the result says so.
import { rmSync } from 'node:fs'
import { VireoError } from '../api/errors.ts'
import type { QmpClient } from '../qmp/client.ts'
import { receiveState } from './state-socket.ts'
import { createOverlay, plainFilename } from './chain-files.ts'

export interface LiveLayer {
  /** The image QEMU writes to now (absolute). */
  activeAbs: string
  /** The overlay that takes over (absolute); created here. */
  overlayAbs: string
  /** Options of the disk's nodes (cache, discard, detect-zeroes), repeated on the overlay's. */
  nodeOptions: Record<string, unknown>
  fileOptions: Record<string, unknown>
}

export interface LiveSaveResult {
  /** How long the guest's CPUs were stopped, as the engine saw it (stop sent → running again). */
  pauseMs: number
  /** When each step of the pause was done, in ms after the stop was sent. */
  phases: Record<string, number>
  /** The downtime QEMU itself reports for the save (its own stop → start, without QMP round trips). */
  qemuDowntimeMs?: number
  totalMs: number
  /** false: no userfaultfd here, the guest was paused for the whole save. */
  background: boolean
  stateBytes: number
}

interface BlockInfo {
  inserted?: { 'node-name'?: string; file?: string; image?: { 'virtual-size'?: number } }
}

const MIGRATION_DONE = new Set(['completed', 'failed', 'cancelled'])
const LOCAL_BANDWIDTH = 64 * 1024 ** 3

/** The node each active image sits in, found by its file name (node names change with every snapshot). */
export async function activeNodes(qmp: QmpClient): Promise<Map<string, { node: string; size: number }>> {
  const out = new Map<string, { node: string; size: number }>()
  for (const b of (await qmp.execute('query-block')) as BlockInfo[]) {
    const ins = b.inserted
    if (ins?.file && ins['node-name'])
      out.set(plainFilename(ins.file), { node: ins['node-name'], size: ins.image?.['virtual-size'] ?? 0 })
  }
  return out
}

async function migrationStatus(
  qmp: QmpClient,
): Promise<{ status: string; error?: string; downtime?: number }> {
  const r = (await qmp.execute('query-migrate')) as {
    status?: string
    'error-desc'?: string
    downtime?: number
  }
  return {
    status: r.status ?? 'none',
    ...(r['error-desc'] ? { error: r['error-desc'] } : {}),
    ...(typeof r.downtime === 'number' ? { downtime: r.downtime } : {}),
  }
}

export async function saveLive(opts: {
  qmp: QmpClient
  qemuImg: string
  layers: LiveLayer[]
  stateFile: string
  socketPath: string
  /** Called once the disks have switched, while memory is still being written. */
  onDisksSwitched?: () => void
}): Promise<LiveSaveResult> {
  const { qmp } = opts
  const started = performance.now()
  const nodes = await activeNodes(qmp)
  const plan = opts.layers.map((l, i) => {
    const at = nodes.get(l.activeAbs)
    if (!at) throw new VireoError('internal', `the running VM does not have ${l.activeAbs} open`)
    return { ...l, node: at.node, size: at.size, overlayNode: `snap-${Date.now().toString(36)}-${i}` }
  })
  const created: typeof plan = []
  try {
    for (const p of plan) {
      await createOverlay(opts.qemuImg, p.overlayAbs, p.activeAbs, p.size)
      await qmp.execute('blockdev-add', {
        driver: 'qcow2',
        'node-name': p.overlayNode,
        file: { driver: 'file', filename: p.overlayAbs, ...p.fileOptions },
        backing: null,
        ...p.nodeOptions,
      } as never)
      created.push(p)
    }
  } catch (err) {
    for (const p of created)
      await qmp.execute('blockdev-del', { 'node-name': p.overlayNode }).catch(() => undefined)
    for (const p of plan) rmSync(p.overlayAbs, { force: true })
    throw err
  }

  let background = true
  try {
    await qmp.execute('migrate-set-capabilities', {
      capabilities: [{ capability: 'background-snapshot', state: true }],
    })
  } catch {
    // No userfaultfd write protection for this process: the guest stays paused while saving.
    background = false
  }
  // QEMU's default cap (128 MiB/s) is for networks; a local file takes what the disk gives.
  const params = await qmp.execute('query-migrate-parameters')
  const bandwidth = typeof params['max-bandwidth'] === 'number' ? params['max-bandwidth'] : 134_217_728
  const unthrottle = () => qmp.execute('migrate-set-parameters', { 'max-bandwidth': LOCAL_BANDWIDTH })
  // Paused anyway: as fast as it goes. Otherwise raised once the guest runs again, so the first
  // burst does not compete with the few milliseconds the guest is stopped for.
  if (!background) await unthrottle()
  const sink = await receiveState(opts.socketPath, opts.stateFile)
  let resumedAt: number | null = null
  const resumed = qmp.on('RESUME', () => (resumedAt ??= performance.now()))
  const phases: Record<string, number> = {}
  const pausedAt = performance.now()
  let switched = false
  try {
    await qmp.execute('stop')
    const mark = (what: string) => (phases[what] = Math.round((performance.now() - pausedAt) * 10) / 10)
    mark('stopped')
    await qmp.execute('transaction', {
      actions: plan.map((p) => ({
        type: 'blockdev-snapshot',
        data: { node: p.node, overlay: p.overlayNode },
      })),
    })
    switched = true
    mark('disksSwitched')
    await qmp.execute('migrate', { uri: `unix:${opts.socketPath}` })
    mark('migrating')
    if (background) {
      // Write protection is in place once the migration leaves setup: the guest may run again.
      let st = await migrationStatus(qmp)
      while (st.status === 'setup' || st.status === 'none') {
        await new Promise((r) => setTimeout(r, 1))
        st = await migrationStatus(qmp)
      }
      mark('writeProtected')
      if (!(await qmp.execute('query-status')).running) await qmp.execute('cont')
      resumedAt ??= performance.now()
      await unthrottle()
    }
    opts.onDisksSwitched?.()
    let st = await migrationStatus(qmp)
    while (!MIGRATION_DONE.has(st.status)) {
      await new Promise((r) => setTimeout(r, 10))
      st = await migrationStatus(qmp)
    }
    if (st.status !== 'completed')
      throw new VireoError('qemu_failed', `saving the memory failed: ${st.error ?? st.status}`)
    const stateBytes = await sink.done
    if (!background) {
      await qmp.execute('cont')
      resumedAt = performance.now()
    }
    return {
      pauseMs: (resumedAt ?? performance.now()) - pausedAt,
      phases,
      ...(st.downtime !== undefined ? { qemuDowntimeMs: st.downtime } : {}),
      totalMs: performance.now() - started,
      background,
      stateBytes,
    }
  } catch (err) {
    if (!switched) {
      for (const p of plan)
        await qmp.execute('blockdev-del', { 'node-name': p.overlayNode }).catch(() => undefined)
      for (const p of plan) rmSync(p.overlayAbs, { force: true })
    }
    await qmp.execute('migrate_cancel').catch(() => undefined)
    if (!(await qmp.execute('query-status').catch(() => ({ running: true }))).running)
      await qmp.execute('cont').catch(() => undefined)
    if (err instanceof VireoError) throw Object.assign(err, { disksSwitched: switched })
    throw Object.assign(
      new VireoError('qemu_failed', `the live snapshot failed: ${(err as Error).message}`),
      {
        disksSwitched: switched,
      },
    )
  } finally {
    resumed.dispose()
    sink.close()
    await qmp.execute('migrate-set-parameters', { 'max-bandwidth': bandwidth }).catch(() => undefined)
    if (background)
      await qmp
        .execute('migrate-set-capabilities', {
          capabilities: [{ capability: 'background-snapshot', state: false }],
        })
        .catch(() => undefined)
  }
}
