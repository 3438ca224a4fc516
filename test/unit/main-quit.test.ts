// Quitting while VMs run: the decision (pure), the background host's command line, and the
// controller that carries the decision out.
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it, vi } from 'vitest'
import {
  actionsFor,
  BACKGROUND_HOST_FLAG,
  backgroundHostCommand,
  planQuit,
  QUIT_BUTTONS,
  quitQuestion,
  resolveChoice,
  runningVms,
  runQuit,
  spawnBackgroundHost,
  type QuitControllerDeps,
} from '../../main/quit.ts'

const vm = (name: string, state: string) => ({ name, state }) as { name: string; state: 'stopped' }
const running = [vm('web', 'running'), vm('db', 'paused'), vm('old', 'stopped')]

describe('planQuit', () => {
  it('quits at once when another host owns the VMs, or no engine runs', () => {
    for (const engine of ['remote', 'none'] as const) {
      expect(planQuit({ engine, vms: running, behavior: 'ask' })).toEqual({
        kind: 'quit',
        actions: { stopEngine: false, stopVms: false, handOff: false },
      })
    }
  })

  it('stops the engine without asking when no VM runs', () => {
    expect(planQuit({ engine: 'local', vms: [vm('old', 'stopped')], behavior: 'ask' })).toEqual({
      kind: 'quit',
      actions: { stopEngine: true, stopVms: false, handOff: false },
    })
    expect(planQuit({ engine: 'local', vms: [], behavior: 'shut-down' })).toMatchObject({
      actions: { stopVms: false },
    })
  })

  it('asks when VMs run, naming every VM that is not stopped', () => {
    expect(planQuit({ engine: 'local', vms: running, behavior: 'ask' })).toEqual({
      kind: 'ask',
      running: ['web', 'db'],
    })
    expect(runningVms(['starting', 'stopping', 'saving', 'migrating'].map((s) => vm(s, s)))).toHaveLength(4)
  })

  it('follows a remembered answer', () => {
    expect(planQuit({ engine: 'local', vms: running, behavior: 'keep-running' })).toEqual({
      kind: 'quit',
      actions: { stopEngine: true, stopVms: false, handOff: true },
    })
    expect(planQuit({ engine: 'local', vms: running, behavior: 'shut-down' })).toEqual({
      kind: 'quit',
      actions: { stopEngine: true, stopVms: true, handOff: false },
    })
  })

  it('never stops VMs it could not see: an engine that does not answer is stopped alone', () => {
    expect(planQuit({ engine: 'local', vms: null, behavior: 'shut-down' })).toEqual({
      kind: 'quit',
      actions: { stopEngine: true, stopVms: false, handOff: false },
    })
  })
})

describe('the answer', () => {
  it('maps buttons to actions, and remembers only when asked', () => {
    expect(resolveChoice('cancel', true)).toEqual({ actions: null, remember: null })
    expect(resolveChoice('keep-running', false)).toEqual({
      actions: actionsFor('keep-running'),
      remember: null,
    })
    expect(resolveChoice('shut-down', true)).toEqual({
      actions: { stopEngine: true, stopVms: true, handOff: false },
      remember: 'shut-down',
    })
    expect(QUIT_BUTTONS.map((b) => b.choice)).toEqual(['keep-running', 'shut-down', 'cancel'])
  })

  it('phrases the question', () => {
    expect(quitQuestion(['web']).message).toBe('The VM “web” is running.')
    const many = quitQuestion(['a', 'b', 'c', 'd', 'e', 'f', 'g'])
    expect(many.message).toBe('7 VMs are running.')
    expect(many.detail).toContain('a, b, c, d, e, and 2 more')
  })
})

describe('background host', () => {
  it('runs the CLI host with Electron as Node', () => {
    const cmd = backgroundHostCommand({
      execPath: '/opt/Vireo/vireo-desktop',
      cli: '/opt/Vireo/resources/app.asar.unpacked/bin/vireo',
      dataDir: '/home/u/.config/Vireo',
      env: { HOME: '/home/u' },
    })
    expect(cmd).toEqual({
      command: '/opt/Vireo/vireo-desktop',
      args: [
        '/opt/Vireo/resources/app.asar.unpacked/bin/vireo',
        '--data-dir',
        '/home/u/.config/Vireo',
        'host',
        'run',
      ],
      env: { HOME: '/home/u', ELECTRON_RUN_AS_NODE: '1' },
    })
  })

  it('restarts an AppImage in its background-host mode (its mount ends with the app)', () => {
    const cmd = backgroundHostCommand({
      execPath: '/tmp/.mount_VireoX/vireo-desktop',
      cli: '/tmp/.mount_VireoX/resources/app.asar.unpacked/bin/vireo',
      dataDir: '/d',
      env: { APPIMAGE: '/home/u/Vireo.AppImage', ELECTRON_RUN_AS_NODE: '1' },
    })
    expect(cmd.command).toBe('/home/u/Vireo.AppImage')
    expect(cmd.args).toEqual([BACKGROUND_HOST_FLAG, '--data-dir=/d'])
    expect(cmd.env.ELECTRON_RUN_AS_NODE).toBeUndefined()
  })

  const dataDir = mkdtempSync(join(tmpdir(), 'vireo-quit-'))
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

  it('is spawned detached, without a shell, logging to the data dir, and let go', () => {
    const unref = vi.fn()
    const spawner = vi.fn(() => ({ unref, pid: 4242 }))
    const cmd = backgroundHostCommand({ execPath: '/e', cli: '/c', dataDir, env: {} })
    expect(spawnBackgroundHost(cmd, dataDir, spawner)).toBe(4242)
    expect(spawner).toHaveBeenCalledWith(
      '/e',
      ['/c', '--data-dir', dataDir, 'host', 'run'],
      expect.objectContaining({ detached: true, shell: false, env: { ELECTRON_RUN_AS_NODE: '1' } }),
    )
    const options = (spawner.mock.calls[0] as unknown as [string, string[], { stdio: unknown[] }])[2]
    expect(options.stdio[0]).toBe('ignore')
    expect(typeof options.stdio[1]).toBe('number')
    expect(unref).toHaveBeenCalled()
    expect(existsSync(join(dataDir, 'logs', 'host.log'))).toBe(true)
  })
})

describe('runQuit', () => {
  function deps(over: Partial<QuitControllerDeps> & { vms?: ReturnType<typeof vm>[] | null } = {}) {
    const calls: string[] = []
    const d: QuitControllerDeps = {
      engine: {
        mode: 'local',
        listVms: async () => (over.vms === undefined ? running : over.vms) as never,
        stop: async ({ stopVms }) => void calls.push(`stop(stopVms=${stopVms})`),
      },
      behavior: () => 'ask',
      remember: (b) => void calls.push(`remember(${b})`),
      ask: async () => ({ choice: 'keep-running', remember: false }),
      handOff: () => void calls.push('handOff'),
      hideWindows: () => void calls.push('hide'),
      log: () => undefined,
      ...over,
    }
    return { d, calls }
  }

  it('keep running: stops the engine but not the VMs, then hands off', async () => {
    const { d, calls } = deps()
    expect(await runQuit(d)).toBe(true)
    expect(calls).toEqual(['hide', 'stop(stopVms=false)', 'handOff'])
  })

  it('shut down, remembered: stops the VMs with the engine, no hand-off', async () => {
    const { d, calls } = deps({ ask: async () => ({ choice: 'shut-down', remember: true }) })
    expect(await runQuit(d)).toBe(true)
    expect(calls).toEqual(['remember(shut-down)', 'hide', 'stop(stopVms=true)'])
  })

  it('cancel: nothing happens and the app stays', async () => {
    const { d, calls } = deps({ ask: async () => ({ choice: 'cancel', remember: true }) })
    expect(await runQuit(d)).toBe(false)
    expect(calls).toEqual([])
  })

  it('does not ask when nothing runs', async () => {
    const ask = vi.fn()
    const { d, calls } = deps({ vms: [], ask })
    expect(await runQuit(d)).toBe(true)
    expect(ask).not.toHaveBeenCalled()
    expect(calls).toEqual(['hide', 'stop(stopVms=false)'])
  })

  it('still quits when the hand-off fails (the VMs keep running for the next engine)', async () => {
    const log = vi.fn()
    const { d } = deps({
      handOff: () => {
        throw new Error('ENOENT')
      },
      log,
    })
    expect(await runQuit(d)).toBe(true)
    expect(log).toHaveBeenCalledWith(expect.stringContaining('could not start the background host'))
  })
})
