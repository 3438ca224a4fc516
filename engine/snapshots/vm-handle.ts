// What the snapshot code needs of one VM, handed in by the engine: its folder, its settings and
// how to save them, its running QEMU (if any), and where to tell progress.
import type { Disk, VmConfig } from '../api/vm-config.ts'
import { CACHE_MODES } from '../qemu/argv/disks.ts'
import type { QmpClient } from '../qmp/client.ts'

export interface VmHandle {
  vmDir: string
  runtimeDir: string
  qemuImg: string
  config(): VmConfig
  saveConfig(c: VmConfig): void
  /** The running QEMU's control connection; null while stopped. */
  qmp(): QmpClient | null
  progress(phase: string, done: number, total: number): void
  /** A line in the VM's logs/snapshots.log (what a take measured, what a recovery did). */
  log(entry: Record<string, unknown>): void
}

/** A disk's node options as the argv builder sets them, for an overlay added over QMP. */
export function overlayNodeOptions(d: Disk | null): {
  nodeOptions: Record<string, unknown>
  fileOptions: Record<string, unknown>
} {
  if (!d) return { nodeOptions: {}, fileOptions: {} }
  const common = {
    cache: CACHE_MODES[d.cache].cache,
    discard: d.discard ? 'unmap' : 'ignore',
  }
  return {
    nodeOptions: { ...common, ...(d.detectZeroes === 'off' ? {} : { 'detect-zeroes': d.detectZeroes }) },
    fileOptions: common,
  }
}
