// The migration wizard's rules, apart from the dialog so they can be tested alone: which VMs can move
// and how (live or offline), the options form with its errors, the migration.check / vm.migrate
// params when everything is right, and the job id that ties progress events to this wizard.
import { MigrateOptions } from '../../engine/api/migration.ts'
import { JobId, type VmState } from '../../engine/api/rpc.ts'
import { wholeNumber } from '../library/new-vm-form.ts'

export type MigrationMode = 'live' | 'offline'

export interface MigrateForm {
  mode: MigrationMode
  /** Keep the VM here as well (stopped). */
  copy: boolean
  /** Mbit/s; empty for no limit. */
  bandwidthMbps: string
  maxDowntimeMs: string
  autoConverge: boolean
  postcopy: boolean
}

export type MigrateField = 'mode' | 'bandwidthMbps' | 'maxDowntimeMs'

export const DEFAULT_MAX_DOWNTIME_MS = 300
export const MAX_DOWNTIME_LIMIT_MS = 60_000
export const BANDWIDTH_LIMIT_MBPS = 1_000_000

/** Said beside the post-copy switch, plainly, because it is the one option that can lose a guest. */
export const POSTCOPY_WARNING = 'After the switch-over a broken link loses the running guest.'

/** A guest that runs (or is paused) can move live; one that is stopped only offline. */
export function canMoveLive(state: VmState): boolean {
  return state === 'running' || state === 'paused'
}

/** Why a VM cannot move now, or null when it can. */
export function whyNotMovable(vm: { name: string; state: VmState }): string | null {
  switch (vm.state) {
    case 'running':
    case 'paused':
    case 'stopped':
      return null
    case 'migrating':
      return `“${vm.name}” is already moving.`
    default:
      return `“${vm.name}” is ${vm.state}; wait until it runs or has stopped.`
  }
}

export function defaultMigrateForm(state: VmState): MigrateForm {
  return {
    mode: canMoveLive(state) ? 'live' : 'offline',
    copy: false,
    bandwidthMbps: '',
    maxDowntimeMs: String(DEFAULT_MAX_DOWNTIME_MS),
    autoConverge: true,
    postcopy: false,
  }
}

export interface MigrateValidation {
  errors: Partial<Record<MigrateField, string>>
  /** The params of migration.check and vm.migrate (without the job). */
  options: MigrateOptions | null
}

export function validateMigrate(
  form: MigrateForm,
  vm: { id: string; state: VmState },
  to: string | null,
): MigrateValidation {
  const errors: MigrateValidation['errors'] = {}
  const live = form.mode === 'live'
  if (live && !canMoveLive(vm.state)) errors.mode = 'A stopped VM moves offline: its files are copied.'
  if (!live && vm.state !== 'stopped')
    errors.mode = 'Shut the VM down first: an offline move copies a stopped VM’s files.'

  const bandwidthText = form.bandwidthMbps.trim()
  const bandwidth = bandwidthText === '' ? undefined : wholeNumber(bandwidthText)
  if (bandwidth === null || (bandwidth !== undefined && (bandwidth < 1 || bandwidth > BANDWIDTH_LIMIT_MBPS)))
    errors.bandwidthMbps = `The bandwidth limit is a whole number of Mbit/s from 1 to ${BANDWIDTH_LIMIT_MBPS}, or empty for none.`

  // Downtime and post-copy mean nothing to an offline move: its options are not checked or sent.
  const downtime = live ? wholeNumber(form.maxDowntimeMs) : DEFAULT_MAX_DOWNTIME_MS
  if (downtime === null || downtime < 1 || downtime > MAX_DOWNTIME_LIMIT_MS)
    errors.maxDowntimeMs = `The maximum downtime is a whole number of ms from 1 to ${MAX_DOWNTIME_LIMIT_MS}.`

  if (!to || Object.keys(errors).length > 0 || bandwidth === null || downtime === null)
    return { errors, options: null }
  const parsed = MigrateOptions.safeParse({
    vm: vm.id,
    to,
    offline: !live,
    copy: form.copy,
    ...(bandwidth !== undefined ? { bandwidthMbps: bandwidth } : {}),
    maxDowntimeMs: downtime,
    ...(live ? { autoConverge: form.autoConverge, postcopy: form.postcopy } : {}),
  })
  if (!parsed.success)
    return { errors: { mode: parsed.error.issues[0]?.message ?? 'invalid' }, options: null }
  return { errors, options: parsed.data }
}

/** Whether two option sets would get the same compatibility report. */
export function sameOptions(a: MigrateOptions | null, b: MigrateOptions | null): boolean {
  return a !== null && b !== null && JSON.stringify(a) === JSON.stringify(b)
}

/** A fresh job id for vm.migrate, matching the contract's JobId. */
export function newMigrationJobId(
  random: (bytes: Uint8Array) => Uint8Array = (b) => crypto.getRandomValues(b),
) {
  const hex = Array.from(random(new Uint8Array(8)), (x) => x.toString(16).padStart(2, '0')).join('')
  return JobId.parse(`migrate-${hex}`)
}
