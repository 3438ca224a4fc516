// Live snapshot take and revert: Vireo (external overlays + a background-snapshot migration,
// through the CLI, host already up) against QEMU's own snapshot-save / snapshot-load jobs over bare
// QMP on the same test guest image and memory size, in alternating rounds of the same run.
import { spawn, spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import type { VmInfo } from '../engine/api/rpc.ts'
import { QmpClient } from '../engine/qmp/client.ts'
import { cleanupDataDir, tempDataDir, vireoOk } from '../test/support/cli.ts'
import { GUEST_MARKER, requireTestGuest } from '../test/support/guest.ts'

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length === 0 ? NaN : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}
const round1 = (x: number) => Math.round(x * 10) / 10

async function runJob(qmp: QmpClient, cmd: 'snapshot-save' | 'snapshot-load', tag: string): Promise<number> {
  const job = `${cmd}-${Date.now()}`
  const t0 = performance.now()
  await qmp.execute(cmd, { 'job-id': job, tag, vmstate: 'disk0', devices: ['disk0'] })
  for (;;) {
    const j = (await qmp.execute('query-jobs')).find((x) => x.id === job)
    if (j?.status === 'concluded') {
      const ms = performance.now() - t0
      await qmp.execute('job-dismiss', { id: job })
      // Always read the final status: the command returned {} long before the job could fail.
      if (j.error) throw new Error(`${cmd} failed: ${j.error}`)
      return ms
    }
    await new Promise((r) => setTimeout(r, 2))
  }
}

async function waitSerial(file: string, re: RegExp, timeoutMs = 240_000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (Date.now() < end) {
    try {
      if (re.test(readFileSync(file, 'utf8'))) return
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`no ${re} in ${file}`)
}

function lastLog(vmDir: string, op: string): Record<string, number | boolean> {
  const lines = readFileSync(join(vmDir, 'logs', 'snapshots.log'), 'utf8')
    .trim()
    .split('\n')
  const entries = lines.map((l) => JSON.parse(l) as Record<string, number | boolean | string>)
  return entries.filter((e) => e['op'] === op).at(-1) as Record<string, number | boolean>
}

async function benchSize(dataDir: string, memoryMiB: number, rounds: number) {
  const guest = requireTestGuest()
  const make = async (name: string) =>
    JSON.parse(
      await vireoOk(dataDir, [
        'create',
        name,
        '--iso',
        guest.iso,
        '--memory',
        String(memoryMiB),
        '--disk-size',
        '32M',
        '--nic',
        'none',
        '--json',
      ]),
    ) as VmInfo
  const vm = await make(`v${memoryMiB}`)
  const bareVm = await make(`b${memoryMiB}`)
  // Bare: the exported command line of an identical VM, run directly, driven over its own QMP.
  const argv = JSON.parse(await vireoOk(dataDir, ['info', bareVm.name, '--qemu-argv', '--json'])) as string[]
  const qmpPath = /path=([^,]+\/qmp\.sock)/.exec(argv.join(' '))![1]!
  const runtimeDir = qmpPath.replace(/\/qmp\.sock$/, '')
  mkdirSync(runtimeDir, { recursive: true })
  const child = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore' })
  await vireoOk(dataDir, ['start', vm.name])
  try {
    const qmp = await QmpClient.connect(qmpPath, { timeoutMs: 60_000, retryUntil: Date.now() + 30_000 })
    await waitSerial(join(bareVm.dir, 'logs', 'serial.log'), new RegExp(GUEST_MARKER))
    await vireoOk(dataDir, ['console', vm.name, '--expect', GUEST_MARKER, '--timeout', '240'], 260_000)
    const v = {
      takeMs: [] as number[],
      pauseMs: [] as number[],
      qemuDowntimeMs: [] as number[],
      revertMs: [] as number[],
      engineRevertMs: [] as number[],
      loadMs: [] as number[],
      background: true,
    }
    const b = { saveMs: [] as number[], loadMs: [] as number[] }
    for (let i = 0; i < rounds; i++) {
      const t0 = performance.now()
      await vireoOk(dataDir, ['snapshot', 'take', vm.name, `r${i}`], 300_000)
      v.takeMs.push(performance.now() - t0)
      const take = lastLog(vm.dir, 'take')
      v.pauseMs.push(Number(take['pauseMs']))
      v.qemuDowntimeMs.push(Number(take['qemuDowntimeMs']))
      v.background &&= take['background'] === true
      const t1 = performance.now()
      await vireoOk(dataDir, ['snapshot', 'revert', vm.name, `r${i}`], 300_000)
      v.revertMs.push(performance.now() - t1)
      const revert = lastLog(vm.dir, 'revert')
      v.engineRevertMs.push(Number(revert['totalMs']))
      v.loadMs.push(Number(revert['loadMs']))

      // snapshot-save stops the guest for the whole save: its time is also its pause.
      b.saveMs.push(await runJob(qmp, 'snapshot-save', `r${i}`))
      b.loadMs.push(await runJob(qmp, 'snapshot-load', `r${i}`))
    }
    qmp.dispose()
    return {
      memoryMiB,
      vireo: {
        medianTakeMs: Math.round(median(v.takeMs)),
        medianPauseMs: round1(median(v.pauseMs)),
        medianRevertMs: Math.round(median(v.revertMs)),
        medianQemuDowntimeMs: round1(median(v.qemuDowntimeMs)),
        medianEngineRevertMs: Math.round(median(v.engineRevertMs)),
        medianStateLoadMs: Math.round(median(v.loadMs)),
        background: v.background,
        takeMs: v.takeMs.map(Math.round),
        pauseMs: v.pauseMs.map(round1),
        revertMs: v.revertMs.map(Math.round),
      },
      bareQmp: {
        medianSaveMs: Math.round(median(b.saveMs)),
        medianPauseMs: Math.round(median(b.saveMs)),
        medianLoadMs: Math.round(median(b.loadMs)),
        saveMs: b.saveMs.map(Math.round),
        loadMs: b.loadMs.map(Math.round),
      },
    }
  } finally {
    child.kill('SIGKILL')
    await new Promise((r) => child.once('exit', r))
    rmSync(runtimeDir, { recursive: true, force: true })
    await vireoOk(dataDir, ['stop', vm.name, '--force']).catch(() => undefined)
  }
}

export async function benchSnapshot(rounds: number) {
  const dataDir = tempDataDir('vireo-bench-')
  try {
    const sizes = []
    for (const mib of [256, 1024]) sizes.push(await benchSize(dataDir, mib, rounds))
    const virsh = spawnSync('virsh', ['--version'], { encoding: 'utf8' })
    return {
      what: 'live snapshot take / revert of an idle test guest (TCG): Vireo CLI vs bare QMP snapshot-save / snapshot-load',
      rounds,
      notes:
        'Vireo take and revert are wall times of the CLI command (about 0.1-0.2 s of it is the CLI itself); its pause is what the engine sees from sending QMP stop to the guest running again (disk switch, migration setup and event latency included), qemuDowntime what QEMU reports for its own part; engineRevert is the revert inside the engine (old QEMU off, overlays, new QEMU, state load), stateLoad the load of the memory file alone. Bare snapshot-save pauses the guest for the whole save.',
      sizes,
      libvirt:
        virsh.status === 0 ? `virsh ${virsh.stdout.trim()} installed but not measured` : 'not installed',
      promise: 'guest pause ≤ 10 ms, revert ≤ 0.3 s for 1 GiB (snapshot-load 0.21 s bare)',
    }
  } finally {
    await cleanupDataDir(dataDir)
  }
}
