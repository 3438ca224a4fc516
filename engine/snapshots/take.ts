// Taking a snapshot: the layers the VM writes to now become immutable and the VM goes on in new
// overlays on them. Stopped: qemu-img makes the overlays. Running: live-save.ts switches them in
// QEMU and saves memory too. The index is written only once the files it names exist, and vm.json
// never names an immutable layer for long: recovery gives it a fresh overlay if it does.
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { VireoError } from '../api/errors.ts'
import type { SnapshotInfo } from '../api/rpc.ts'
import type { VmConfig } from '../api/vm-config.ts'
import { activeNvramRel, createOverlay, overlayPathFor, snapshotBlockers } from './chain-files.ts'
import { addSnapshot, loadIndex, saveIndex, snapshotsDir, type SnapshotRecord } from './index.ts'
import { saveLive, type LiveSaveResult } from './live-save.ts'
import { overlayNodeOptions, type VmHandle } from './vm-handle.ts'

const THUMBNAIL_MAX = 256 * 1024

export function newSnapshotId(): string {
  return randomBytes(4).toString('hex')
}

export function stateSocket(runtimeDir: string): string {
  return join(runtimeDir, 'state.sock')
}

interface Switch {
  key: string
  layerRel: string
  overlayRel: string
}

function planSwitch(vmDir: string, c: VmConfig, nvramRel: string): Switch[] {
  const out: Switch[] = c.disks.map((d) => ({
    key: d.id,
    layerRel: d.path,
    overlayRel: overlayPathFor(vmDir, d.path, d.id),
  }))
  if (c.firmware === 'uefi')
    out.push({ key: 'nvram', layerRel: nvramRel, overlayRel: overlayPathFor(vmDir, nvramRel, 'nvram') })
  return out
}

function switchedConfig(c: VmConfig, plan: Switch[]): VmConfig {
  const by = new Map(plan.map((p) => [p.key, p.overlayRel]))
  return { ...c, disks: c.disks.map((d) => ({ ...d, path: by.get(d.id) ?? d.path })) }
}

export async function takeSnapshot(
  h: VmHandle,
  p: { name: string; description: string },
  screenshot: () => Promise<Buffer | null>,
): Promise<{ info: SnapshotInfo; live: LiveSaveResult | null }> {
  const c = h.config()
  const blockers = snapshotBlockers(c, h.vmDir)
  if (blockers.length > 0)
    throw new VireoError('invalid_state', `"${c.name}" cannot take a snapshot: ${blockers.join('; ')}`)
  let index = loadIndex(h.vmDir)
  const id = newSnapshotId()
  const dir = join(snapshotsDir(h.vmDir), id)
  mkdirSync(dir, { recursive: true })
  const plan = planSwitch(h.vmDir, c, activeNvramRel(index))
  const nvramPlan = plan.find((x) => x.key === 'nvram')
  const qmp = h.qmp()
  const record: SnapshotRecord = {
    id,
    name: p.name,
    description: p.description,
    createdAt: new Date().toISOString(),
    parent: index.current,
    kind: qmp ? 'live' : 'disk',
    config: c,
    layers: Object.fromEntries(c.disks.map((d) => [d.id, d.path])),
    nvram: nvramPlan?.layerRel ?? null,
    state: null,
  }
  let live: LiveSaveResult | null = null
  if (!qmp) {
    h.progress('making overlays', 0, plan.length)
    for (const s of plan)
      await createOverlay(h.qemuImg, resolve(h.vmDir, s.overlayRel), resolve(h.vmDir, s.layerRel))
  } else {
    const png = await screenshot().catch(() => null)
    // QEMU's screendump of a text or small framebuffer is a few KiB: kept as is, a large one not.
    if (png && png.byteLength <= THUMBNAIL_MAX) writeFileSync(join(dir, 'thumbnail.png'), png)
    const stateRel = relative(h.vmDir, join(dir, 'memory.state'))
    const partial = join(dir, 'memory.state.partial')
    h.progress('saving memory', 0, 1)
    try {
      live = await saveLive({
        qmp,
        qemuImg: h.qemuImg,
        layers: plan.map((s) => ({
          activeAbs: resolve(h.vmDir, s.layerRel),
          overlayAbs: resolve(h.vmDir, s.overlayRel),
          ...overlayNodeOptions(c.disks.find((d) => d.id === s.key) ?? null),
        })),
        stateFile: partial,
        socketPath: stateSocket(h.runtimeDir),
        // QEMU writes to the overlays from here on: say so at once, in vm.json and the index.
        onDisksSwitched: () => {
          h.saveConfig(switchedConfig(c, plan))
          if (nvramPlan) saveIndex(h.vmDir, { ...loadIndex(h.vmDir), nvram: nvramPlan.overlayRel })
        },
      })
      renameSync(partial, resolve(h.vmDir, stateRel))
      record.state = stateRel
    } catch (err) {
      rmSync(partial, { force: true })
      if (!(err as { disksSwitched?: boolean }).disksSwitched) {
        rmSync(dir, { recursive: true, force: true })
        throw err
      }
      // The disks did switch (QEMU may have died since): the VM goes on in the overlays, the old
      // layers are a disk-only snapshot, and the user is told.
      h.saveConfig(switchedConfig(c, plan))
      index = addSnapshot(loadIndex(h.vmDir), { ...record, kind: 'disk' })
      if (nvramPlan) index = { ...index, nvram: nvramPlan.overlayRel }
      saveIndex(h.vmDir, index)
      throw new VireoError(
        'qemu_failed',
        `${(err as Error).message}; the disks were saved as the disk-only snapshot "${p.name}"`,
      )
    }
    h.log({ op: 'take', snapshot: id, kind: 'live', ...live })
  }
  index = addSnapshot(loadIndex(h.vmDir), record)
  if (nvramPlan) index = { ...index, nvram: nvramPlan.overlayRel }
  saveIndex(h.vmDir, index)
  if (!qmp) h.saveConfig(switchedConfig(c, plan))
  const thumb = join(dir, 'thumbnail.png')
  return {
    info: {
      ...record,
      thumbnail: existsSync(thumb) ? readFileSync(thumb).toString('base64') : null,
    },
    live,
  }
}
