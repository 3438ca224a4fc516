// Every path that makes a resource releases it: a waiter given up, a start that failed after QEMU
// came up, a console disposed while its socket still connects, a call the engine never answers, an
// engine disposed while a migration runs. Each of these held something on before.
import { createServer, type Socket } from 'node:net'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { RpcClient } from '../../engine/api/client.ts'
import type { Transport } from '../../engine/api/transport.ts'
import { SerialConsole } from '../../engine/console/serial-console.ts'
import { Engine } from '../../engine/engine.ts'
import { QemuProcess } from '../../engine/qemu/qemu-process.ts'
import { RunningVm } from '../../engine/vm/running-vm.ts'
import { repoRoot } from '../support/guest.ts'

const dir = mkdtempSync(join(tmpdir(), 'vireo-release-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe('QemuProcess', () => {
  it('onExit returns a disposable, and a wait that timed out leaves no waiter', async () => {
    const proc = QemuProcess.spawn('/bin/sleep', ['30'], join(dir, 'sleep.log'))
    const gone = vi.fn()
    proc.onExit(gone).dispose()
    expect(await proc.waitForExit(20)).toBeNull()
    expect(proc.waiting).toBe(0)
    const kept = vi.fn()
    proc.onExit(kept)
    proc.kill('SIGKILL')
    expect(await proc.waitForExit(5_000)).not.toBeNull()
    // Once it has exited, a wait answers at once and a handler runs at once.
    expect(await proc.waitForExit(5_000)).toEqual({ code: null, signal: 'SIGKILL' })
    const late = vi.fn()
    proc.onExit(late).dispose()
    expect(late).toHaveBeenCalledTimes(1)
    expect(gone).not.toHaveBeenCalled()
    expect(kept).toHaveBeenCalledTimes(1)
  })
})

describe('RunningVm.launch', () => {
  it('kills QEMU and removes its runtime files when the first query after start fails', async () => {
    const vmDir = join(dir, 'vm')
    const runtimeDir = join(dir, 'rt')
    mkdirSync(vmDir, { recursive: true })
    let pid = 0
    const spawn = vi.spyOn(QemuProcess, 'spawn')
    spawn.mockImplementation((binary, argv, log) => {
      spawn.mockRestore()
      const p = QemuProcess.spawn(binary, argv, log)
      pid = p.pid
      return p
    })
    await expect(
      RunningVm.launch({
        paths: { vmDir, runtimeDir },
        vmId: '00000000-0000-4000-8000-000000000001',
        qemuBinary: process.execPath,
        argv: [
          join(repoRoot, 'test', 'fixtures', 'fake-qemu', 'qmp-refuses-status.mjs'),
          join(runtimeDir, 'qmp.sock'),
        ],
        accelerator: 'tcg',
        timeoutMs: 10_000,
      }),
    ).rejects.toThrow(/not today/)
    expect(pid).toBeGreaterThan(0)
    expect(alive(pid)).toBe(false)
    expect(existsSync(runtimeDir)).toBe(false)
    expect(existsSync(join(vmDir, 'runtime.json'))).toBe(false)
  })
})

describe('SerialConsole', () => {
  it('ends a connection still being made when it is disposed', async () => {
    const path = join(dir, 'serial.sock')
    const open = new Set<Socket>()
    const server = createServer((s) => {
      open.add(s)
      s.on('close', () => open.delete(s))
    })
    await new Promise<void>((r) => server.listen(path, r))
    writeFileSync(join(dir, 'serial.log'), '')
    const c = new SerialConsole(path, join(dir, 'serial.log'))
    c.start()
    c.dispose()
    await new Promise((r) => setTimeout(r, 300))
    expect(open.size).toBe(0)
    server.close()
  })
})

describe('RpcClient.call', () => {
  it('fails a call the engine never answers once its timeout passes', async () => {
    const silent: Transport = {
      send: () => undefined,
      sendBinary: () => undefined,
      onMessage: () => ({ dispose: () => undefined }),
      onBinary: () => ({ dispose: () => undefined }),
      onClose: () => ({ dispose: () => undefined }),
      close: () => undefined,
    }
    const client = new RpcClient(silent)
    await expect(client.call('host.info', {}, { timeoutMs: 50 })).rejects.toMatchObject({
      code: 'timeout',
      message: 'the engine did not answer host.info within 1 s',
    })
  })
})

describe('Engine.dispose', () => {
  it('aborts the migrations it is sending', async () => {
    mkdirSync(join(dir, 'data'), { mode: 0o700 })
    const engine = new Engine({ dataDir: join(dir, 'data') })
    const ac = new AbortController()
    ;(engine as unknown as { outgoing: Map<string, AbortController> }).outgoing.set('vm', ac)
    await engine.dispose()
    expect(ac.signal.aborted).toBe(true)
  })
})
