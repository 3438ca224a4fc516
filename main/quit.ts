// Quitting while VMs run. The app's engine owns the data dir, so quitting would leave the VMs
// without an owner; the user chooses: keep them running under a background host (the app's engine
// stops without touching the VMs, then `vireo host run` starts detached and re-attaches to the
// running QEMUs), or shut them down. What to do is decided by the pure functions below; the
// controller at the end only carries it out.
import { spawn, type SpawnOptions } from 'node:child_process'
import { closeSync, mkdirSync, openSync } from 'node:fs'
import { join } from 'node:path'
import type { VmSummary } from '../engine/api/rpc.ts'
import type { QuitBehavior } from '../preload/channels.ts'

export interface QuitSituation {
  /** Whose engine serves the app: its own (it owns the data dir), another host's, or none. */
  engine: 'local' | 'remote' | 'none'
  /** The engine's VMs, or null if it could not say. */
  vms: readonly Pick<VmSummary, 'name' | 'state'>[] | null
  /** The remembered answer, or 'ask'. */
  behavior: QuitBehavior
}

export interface QuitActions {
  /** Stop the app's own engine (and its host) before quitting. */
  stopEngine: boolean
  /** Shut the VMs down with it. */
  stopVms: boolean
  /** Then start a detached background host, which re-attaches to the VMs still running. */
  handOff: boolean
}

export type QuitPlan = { kind: 'quit'; actions: QuitActions } | { kind: 'ask'; running: string[] }

export type QuitChoice = 'keep-running' | 'shut-down' | 'cancel'

const JUST_QUIT: QuitActions = { stopEngine: false, stopVms: false, handOff: false }

/** Every state but stopped has a QEMU behind it. */
export function runningVms(vms: readonly Pick<VmSummary, 'name' | 'state'>[]): string[] {
  return vms.filter((vm) => vm.state !== 'stopped').map((vm) => vm.name)
}

export function actionsFor(choice: Exclude<QuitChoice, 'cancel'>): QuitActions {
  return choice === 'keep-running'
    ? { stopEngine: true, stopVms: false, handOff: true }
    : { stopEngine: true, stopVms: true, handOff: false }
}

export function planQuit(s: QuitSituation): QuitPlan {
  // Another host owns the VMs and keeps them; there is nothing of ours to stop.
  if (s.engine !== 'local') return { kind: 'quit', actions: JUST_QUIT }
  // The engine did not answer: stop it without touching the VMs. QEMU runs detached, so whatever runs
  // keeps running, and the next engine (app or CLI) re-attaches to it.
  if (s.vms === null) return { kind: 'quit', actions: { stopEngine: true, stopVms: false, handOff: false } }
  const running = runningVms(s.vms)
  if (running.length === 0)
    return { kind: 'quit', actions: { stopEngine: true, stopVms: false, handOff: false } }
  if (s.behavior === 'ask') return { kind: 'ask', running }
  return { kind: 'quit', actions: actionsFor(s.behavior) }
}

/** The user's answer: what to do (null: do not quit), and what to remember if asked to. */
export function resolveChoice(
  choice: QuitChoice,
  remember: boolean,
): { actions: QuitActions | null; remember: QuitBehavior | null } {
  if (choice === 'cancel') return { actions: null, remember: null }
  return { actions: actionsFor(choice), remember: remember ? choice : null }
}

/** The three buttons of the question, in order, and what each means. */
export const QUIT_BUTTONS: readonly { label: string; choice: QuitChoice }[] = [
  { label: 'Keep Running in the Background', choice: 'keep-running' },
  { label: 'Shut Down VMs', choice: 'shut-down' },
  { label: 'Cancel', choice: 'cancel' },
]

export function quitQuestion(running: readonly string[]): { message: string; detail: string } {
  const n = running.length
  const names = running.slice(0, 5).join(', ') + (n > 5 ? `, and ${n - 5} more` : '')
  return {
    message: n === 1 ? `The VM “${running[0]}” is running.` : `${n} VMs are running.`,
    detail:
      `${names}\n\nKeep running: the VMs go on under a background Vireo host; open Vireo or use the ` +
      '`vireo` command to get back to them.\nShut down: each guest is asked to shut down, then powered off.',
  }
}

export interface BackgroundHostCommand {
  command: string
  args: string[]
  env: NodeJS.ProcessEnv
}

/**
 * How to start `vireo --data-dir DIR host run` detached from the app. Electron's own binary runs the
 * CLI as plain Node (ELECTRON_RUN_AS_NODE). An AppImage is the exception: its files vanish when the
 * app that mounted them exits, so the AppImage itself is started again in its background-host mode,
 * which keeps its mount for as long as the host runs.
 */
export function backgroundHostCommand(o: {
  execPath: string
  cli: string
  dataDir: string
  env: NodeJS.ProcessEnv
}): BackgroundHostCommand {
  const appImage = o.env.APPIMAGE
  if (appImage) {
    const { ELECTRON_RUN_AS_NODE: _drop, ...env } = o.env
    return { command: appImage, args: [BACKGROUND_HOST_FLAG, `--data-dir=${o.dataDir}`], env }
  }
  return {
    command: o.execPath,
    args: [o.cli, '--data-dir', o.dataDir, 'host', 'run'],
    env: { ...o.env, ELECTRON_RUN_AS_NODE: '1' },
  }
}

/** The app's command-line flag for "run only the background host" (used for AppImages). */
export const BACKGROUND_HOST_FLAG = '--vireo-background-host'

export type Spawner = (
  command: string,
  args: string[],
  options: SpawnOptions,
) => { unref(): void; pid?: number }

/** Starts the background host detached, its output in DATA_DIR/logs/host.log (as the CLI does). */
export function spawnBackgroundHost(
  cmd: BackgroundHostCommand,
  dataDir: string,
  spawner: Spawner = spawn,
): number | undefined {
  const logDir = join(dataDir, 'logs')
  mkdirSync(logDir, { recursive: true, mode: 0o700 })
  const log = openSync(join(logDir, 'host.log'), 'a', 0o600)
  try {
    const child = spawner(cmd.command, cmd.args, {
      detached: true,
      stdio: ['ignore', log, log],
      env: cmd.env,
      shell: false,
    })
    child.unref()
    return child.pid
  } finally {
    closeSync(log)
  }
}

export interface QuitControllerDeps {
  /** The app's engine as far as quitting goes. */
  engine: {
    readonly mode: 'local' | 'remote' | null
    listVms(): Promise<VmSummary[] | null>
    stop(opts: { stopVms: boolean }): Promise<void>
  }
  behavior(): QuitBehavior
  remember(behavior: QuitBehavior): void
  /** Asks the question; resolves with the chosen button's index and the "remember" checkbox. */
  ask(running: string[]): Promise<{ choice: QuitChoice; remember: boolean }>
  handOff(): void
  /** Hides the windows while the engine stops (shutting guests down can take a while). */
  hideWindows(): void
  log(line: string): void
}

/**
 * Runs once per quit request: returns false if the user cancelled. `before-quit` prevents the first
 * quit, awaits this, and quits for real when it returns true.
 */
export async function runQuit(deps: QuitControllerDeps): Promise<boolean> {
  const mode = deps.engine.mode
  const engine = mode ?? 'none'
  const vms = engine === 'local' ? await deps.engine.listVms() : []
  const plan = planQuit({ engine, vms, behavior: deps.behavior() })
  let actions: QuitActions
  if (plan.kind === 'ask') {
    const answer = await deps.ask(plan.running)
    const resolved = resolveChoice(answer.choice, answer.remember)
    if (!resolved.actions) return false
    if (resolved.remember) deps.remember(resolved.remember)
    actions = resolved.actions
  } else {
    actions = plan.actions
  }
  deps.hideWindows()
  if (engine !== 'none') {
    try {
      await deps.engine.stop({ stopVms: actions.stopEngine && actions.stopVms })
    } catch (err) {
      deps.log(`stopping the engine failed: ${(err as Error).message}`)
    }
  }
  if (actions.handOff) {
    try {
      deps.handOff()
    } catch (err) {
      deps.log(
        `could not start the background host: ${(err as Error).message}; the VMs keep running and the next Vireo re-attaches to them`,
      )
    }
  }
  return true
}
