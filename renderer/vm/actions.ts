// The lifecycle actions a VM offers in each state, shared by the library and the VM view, and the
// RPC call each one makes.
import type { VmState } from '../../engine/api/rpc.ts'
import type { VireoClient } from '../connection/types.ts'

export type VmAction = 'start' | 'pause' | 'resume' | 'shutdown' | 'poweroff' | 'reset' | 'delete'

export const ACTION_LABELS: Record<VmAction, string> = {
  start: 'Start',
  pause: 'Pause',
  resume: 'Resume',
  shutdown: 'Shut down',
  poweroff: 'Power off',
  reset: 'Reset',
  delete: 'Delete…',
}

/** What the action is doing, for progress and error messages ("Could not start web"). */
export const ACTION_VERBS: Record<VmAction, string> = {
  start: 'start',
  pause: 'pause',
  resume: 'resume',
  shutdown: 'shut down',
  poweroff: 'power off',
  reset: 'reset',
  delete: 'delete',
}

const ALLOWED: Record<VmAction, readonly VmState[]> = {
  start: ['stopped'],
  pause: ['running'],
  resume: ['paused'],
  // An ACPI request needs a guest that runs to hear it.
  shutdown: ['running'],
  poweroff: ['running', 'paused', 'starting', 'stopping'],
  reset: ['running', 'paused'],
  delete: ['stopped'],
}

export function actionAllowed(action: VmAction, state: VmState): boolean {
  return ALLOWED[action].includes(state)
}

/** Runs a lifecycle action (not delete, which needs its confirmation). */
export async function runVmAction(client: VireoClient, action: Exclude<VmAction, 'delete'>, vm: string) {
  switch (action) {
    case 'start':
      return client.call('vm.start', { vm })
    case 'pause':
      return client.call('vm.pause', { vm })
    case 'resume':
      return client.call('vm.resume', { vm })
    case 'shutdown':
      return client.call('vm.stop', { vm, force: false })
    case 'poweroff':
      return client.call('vm.stop', { vm, force: true })
    case 'reset':
      return client.call('vm.reset', { vm })
  }
}

export function formatMemory(mib: number): string {
  if (mib >= 1024 && mib % 1024 === 0) return `${mib / 1024} GiB`
  if (mib >= 1024) return `${(mib / 1024).toFixed(1)} GiB`
  return `${mib} MiB`
}

export const STATE_LABELS: Record<VmState, string> = {
  stopped: 'Stopped',
  starting: 'Starting',
  running: 'Running',
  paused: 'Paused',
  stopping: 'Stopping',
  saving: 'Saving',
  restoring: 'Restoring',
  migrating: 'Migrating',
}

export function stateColor(state: VmState): 'default' | 'success' | 'warning' | 'info' {
  switch (state) {
    case 'running':
      return 'success'
    case 'paused':
      return 'warning'
    case 'stopped':
      return 'default'
    default:
      return 'info'
  }
}
