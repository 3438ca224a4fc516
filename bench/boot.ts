// Start → the guest's serial marker: Vireo (`vireo start` from the CLI, host already up) against
// the very QEMU command line Vireo exports, run directly, in alternating rounds of the same run.
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync, watch } from 'node:fs'
import { join } from 'node:path'
import { vireo, vireoOk, tempDataDir, cleanupDataDir } from '../test/support/cli.ts'
import { GUEST_MARKER, requireTestGuest } from '../test/support/guest.ts'
import type { VmInfo } from '../engine/api/rpc.ts'

function waitForMarker(file: string, t0: number, timeoutMs = 180_000): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const check = () => {
      try {
        if (readFileSync(file, 'utf8').includes(GUEST_MARKER)) {
          done(performance.now() - t0)
        }
      } catch {
        /* not created yet */
      }
    }
    const poll = setInterval(check, 20)
    const timer = setTimeout(() => {
      clearInterval(poll)
      reject(new Error('no marker'))
    }, timeoutMs)
    const done = (ms: number) => {
      clearInterval(poll)
      clearTimeout(timer)
      resolvePromise(ms)
    }
    if (existsSync(file)) watch(file, check).unref()
  })
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

export async function benchBoot(rounds: number) {
  const guest = requireTestGuest()
  const dataDir = tempDataDir('vireo-bench-')
  const name = 'bench'
  try {
    const vm = JSON.parse(
      await vireoOk(dataDir, [
        'create',
        name,
        '--iso',
        guest.iso,
        '--memory',
        '256',
        '--nic',
        'none',
        '--json',
      ]),
    ) as VmInfo
    const argv = JSON.parse(await vireoOk(dataDir, ['info', name, '--qemu-argv', '--json'])) as string[]
    const serialLog = join(vm.dir, 'logs', 'serial.log')
    const runtimeDir = /path=([^,]+)\/qmp\.sock/.exec(argv.join(' '))?.[1]
    if (!runtimeDir) throw new Error('cannot find the runtime dir in the argv')
    const bare: number[] = []
    const managed: number[] = []
    for (let i = 0; i < rounds; i++) {
      // Bare QEMU: the same argv, spawned directly.
      rmSync(serialLog, { force: true })
      mkdirSync(runtimeDir, { recursive: true })
      const t0 = performance.now()
      const child = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore' })
      bare.push(await waitForMarker(serialLog, t0))
      child.kill('SIGKILL')
      await new Promise((r) => child.once('exit', r))
      rmSync(runtimeDir, { recursive: true, force: true })

      // Vireo: the CLI asks the (already running) host to start the VM.
      rmSync(serialLog, { force: true })
      const t1 = performance.now()
      const started = vireo(dataDir, ['start', name])
      managed.push(await waitForMarker(serialLog, t1))
      await started
      await vireoOk(dataDir, ['stop', name, '--force'])
    }
    return {
      what: 'start → guest serial marker (TCG, 256 MiB, test guest ISO)',
      rounds,
      bareMs: bare.map(Math.round),
      vireoMs: managed.map(Math.round),
      medianBareMs: Math.round(median(bare)),
      medianVireoMs: Math.round(median(managed)),
      ratio: Number((median(managed) / median(bare)).toFixed(3)),
      promise: '≤ 1.02× bare QEMU',
    }
  } finally {
    await cleanupDataDir(dataDir)
  }
}
