// A migration's progress and result in words: the phase, bytes, rates and times as a person reads
// them, and what a failure or a cancel means for the VM.
import type { MigrationPhase, MigrationProgress, MigrationResult } from '../../engine/api/migration.ts'

export const PHASE_LABELS: Record<MigrationPhase, string> = {
  checking: 'Checking',
  'copying-files': 'Copying files',
  'copying-disks': 'Copying disks',
  'copying-memory': 'Copying memory',
  'switching-over': 'Switching over',
  'cleaning-up': 'Cleaning up',
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB']

export function formatBytes(bytes: number): string {
  let n = bytes
  let unit = 0
  while (n >= 1024 && unit < UNITS.length - 1) {
    n /= 1024
    unit++
  }
  return unit === 0 ? `${Math.round(n)} B` : `${n >= 100 ? Math.round(n) : n.toFixed(1)} ${UNITS[unit]}`
}

/** Bytes per second, and in Mbit/s as the bandwidth limit is given. */
export function formatRate(bytesPerSecond: number): string {
  const mbit = (bytesPerSecond * 8) / 1_000_000
  const mbitText = mbit >= 10 ? Math.round(mbit).toString() : mbit.toFixed(1)
  return `${formatBytes(bytesPerSecond)}/s (${mbitText} Mbit/s)`
}

/** A span of time: ms below a second, then seconds, minutes, hours. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`
  const s = Math.round(ms / 1000)
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`
}

/** Done out of done + left, or null while what is left is unknown. */
export function progressFraction(p: MigrationProgress): number | null {
  if (p.bytesLeft === null) return null
  const total = p.bytesDone + p.bytesLeft
  return total > 0 ? p.bytesDone / total : 1
}

/** The figures of one progress event, each with its label; those the engine does not know are left out. */
export function progressLines(p: MigrationProgress): { label: string; value: string }[] {
  const lines = [
    { label: 'Phase', value: PHASE_LABELS[p.phase] },
    { label: 'Done', value: formatBytes(p.bytesDone) },
  ]
  if (p.bytesLeft !== null) lines.push({ label: 'Left', value: formatBytes(p.bytesLeft) })
  if (p.bytesPerSecond !== null) lines.push({ label: 'Throughput', value: formatRate(p.bytesPerSecond) })
  if (p.dirtyPagesPerSecond !== null)
    lines.push({ label: 'Dirty pages', value: `${Math.round(p.dirtyPagesPerSecond).toLocaleString('en')}/s` })
  if (p.expectedDowntimeMs !== null)
    lines.push({ label: 'Expected downtime', value: formatDuration(p.expectedDowntimeMs) })
  if (p.etaMs !== null) lines.push({ label: 'Time left', value: formatDuration(p.etaMs) })
  return lines
}

export function resultTitle(r: MigrationResult): string {
  return `${r.copy ? 'Copied' : 'Moved'} “${r.name}” to ${r.to} (${r.mode}).`
}

export function resultLines(r: MigrationResult): { label: string; value: string }[] {
  return [
    {
      label: 'Downtime',
      value: r.downtimeMs === null ? 'none: the VM was stopped' : formatDuration(r.downtimeMs),
    },
    { label: 'Total time', value: formatDuration(r.totalMs) },
    { label: 'Transferred', value: formatBytes(r.bytes) },
  ]
}

/** A failed migration in the engine's words; a cancel with what it means for the VM. */
export function failureText(message: string, opts: { cancelled: boolean; live: boolean }): string {
  const stays = opts.live ? 'the VM keeps running here' : 'the VM stays here as it was'
  if (opts.cancelled) return `Cancelled; ${stays}.`
  return `The migration failed: ${message}`
}
