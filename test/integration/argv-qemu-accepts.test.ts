// Every golden command line, started on the real QEMU 7.2 (stopped with -S, under TCG): QEMU must
// accept it without an error or an unexpected warning, create each device under the id Vireo gave
// it, open its sockets and serial log at the escaped paths, and bind port forwards where they say.
// The paths are moved to a temporary folder whose names contain commas, spaces and non-ASCII.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { connect, createServer, type Socket } from 'node:net'
import { basename, dirname, isAbsolute, join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { VmConfig } from '../../engine/api/vm-config.ts'
import { buildQemuArgv, internalNicSocketName, type LaunchContext } from '../../engine/qemu/argv/index.ts'
import { ARGV_CASES, type ArgvCase } from '../golden/argv-cases.ts'
import { requireTestGuest } from '../support/guest.ts'

const QEMU = 'qemu-system-x86_64'
const OVMF_CODE = '/usr/share/OVMF/OVMF_CODE_4M.fd'
const OVMF_VARS = '/usr/share/OVMF/OVMF_VARS_4M.fd'
// Debian builds QEMU with seccomp; the golden options must then be accepted as they are.
const sandbox = /^-sandbox /m.test(execFileSync(QEMU, ['-help'], { encoding: 'utf8' }))
// Short, because the sockets live here too (sun_path is 108 bytes).
const root = mkdtempSync('/tmp/vx-')
const testGuest = requireTestGuest()

afterAll(() => rmSync(root, { recursive: true, force: true }))

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer()
    srv.once('error', fail)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      srv.close(() => (addr && typeof addr === 'object' ? ok(addr.port) : fail(new Error('no port'))))
    })
  })
}

/** The case's config and context, with every path moved into a fresh folder of real files. */
async function materialise(c: ArgvCase, index: number): Promise<{ config: VmConfig; ctx: LaunchContext }> {
  const base = join(root, String(index))
  const vmDir = join(base, `vm dir, "ü" ☃`)
  const runtimeDir = join(base, 'r,1')
  mkdirSync(join(vmDir, 'logs'), { recursive: true })
  mkdirSync(runtimeDir, { recursive: true })
  const local = (p: string) => (isAbsolute(p) ? join('abs', basename(p)) : p)
  const config: VmConfig = structuredClone(c.config)
  for (const d of config.disks) {
    d.path = local(d.path)
    const file = resolve(vmDir, d.path)
    mkdirSync(dirname(file), { recursive: true })
    execFileSync('qemu-img', ['create', '-q', '-f', d.format, file, '32M'])
  }
  for (const cd of config.cdroms) {
    if (cd.path === null) continue
    cd.path = local(cd.path)
    const file = resolve(vmDir, cd.path)
    mkdirSync(dirname(file), { recursive: true })
    writeFileSync(file, Buffer.alloc(1 << 20))
  }
  if (config.directBoot) {
    // QEMU reads and checks a kernel while it builds the machine, so it must be a real one.
    const kernel = resolve(vmDir, (config.directBoot.kernel = local(config.directBoot.kernel)))
    mkdirSync(dirname(kernel), { recursive: true })
    copyFileSync(testGuest.kernel, kernel)
    if (config.directBoot.initrd) {
      const initrd = resolve(vmDir, (config.directBoot.initrd = local(config.directBoot.initrd)))
      mkdirSync(dirname(initrd), { recursive: true })
      copyFileSync(testGuest.initrd, initrd)
    }
  }
  for (const n of config.nics) {
    if (n.network.mode !== 'nat') continue
    for (const f of n.network.portForwards) f.hostPort = await freePort()
  }
  let firmware: LaunchContext['firmware']
  if (config.firmware === 'uefi') {
    firmware = { code: OVMF_CODE, vars: join(vmDir, 'nvram.qcow2') }
    execFileSync('qemu-img', ['convert', '-q', '-f', 'raw', '-O', 'qcow2', OVMF_VARS, firmware.vars])
  }
  const ctx: LaunchContext = {
    qemuBinary: QEMU,
    vmDir,
    runtimeDir,
    accelerator: 'tcg',
    sandbox,
    ...(firmware ? { firmware } : {}),
  }
  return { config, ctx }
}

/** Just enough QMP for this test: one command at a time, events skipped. */
class TinyQmp {
  private buf = ''
  private waiting: ((msg: Record<string, unknown>) => void) | null = null
  private readonly sock: Socket

  private constructor(sock: Socket) {
    this.sock = sock
    sock.setEncoding('utf8')
    sock.on('data', (chunk: string) => {
      this.buf += chunk
      let nl
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const msg = JSON.parse(this.buf.slice(0, nl)) as Record<string, unknown>
        this.buf = this.buf.slice(nl + 1)
        if ('event' in msg) continue
        const w = this.waiting
        this.waiting = null
        w?.(msg)
      }
    })
  }

  static async open(path: string): Promise<TinyQmp> {
    const sock = await new Promise<Socket>((ok, fail) => {
      const s = connect(path, () => ok(s))
      s.once('error', fail)
    })
    const qmp = new TinyQmp(sock)
    await qmp.next() // greeting
    await qmp.execute('qmp_capabilities')
    return qmp
  }

  private next(): Promise<Record<string, unknown>> {
    return new Promise((ok) => (this.waiting = ok))
  }

  async execute(command: string, args?: Record<string, unknown>): Promise<unknown> {
    const reply = this.next()
    this.sock.write(`${JSON.stringify({ execute: command, ...(args ? { arguments: args } : {}) })}\n`)
    const msg = await reply
    if ('error' in msg) throw new Error(`${command}: ${JSON.stringify(msg.error)}`)
    return msg.return
  }

  close(): void {
    this.sock.destroy()
  }
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((ok) => {
    if (child.exitCode !== null) ok(child.exitCode)
    else child.once('exit', (code) => ok(code))
  })
}

async function waitForSocket(path: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 30_000
  while (!existsSync(path)) {
    if (child.exitCode !== null) throw new Error(`QEMU exited with ${child.exitCode}:\n${stderr()}`)
    if (Date.now() > deadline) throw new Error(`no QMP socket after 30 s:\n${stderr()}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** The ids of every -device in the command line, as QEMU should list them under /machine/peripheral. */
function deviceIds(argv: string[]): string[] {
  return argv.flatMap((a, i) => (argv[i - 1] === '-device' ? [(JSON.parse(a) as { id: string }).id] : []))
}

describe('stock QEMU 7.2 accepts every golden command line', () => {
  it.each(ARGV_CASES.map((c, i) => [c.name, c, i] as const))('%s', async (_name, c, index) => {
    const { config, ctx } = await materialise(c, index)
    const argv = buildQemuArgv(config, ctx)
    const child = spawn(ctx.qemuBinary, [...argv, '-S'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      shell: false,
    })
    let stderr = ''
    child.stderr?.setEncoding('utf8').on('data', (s: string) => (stderr += s))
    try {
      await waitForSocket(join(ctx.runtimeDir, 'qmp.sock'), child, () => stderr)
      const qmp = await TinyQmp.open(join(ctx.runtimeDir, 'qmp.sock'))
      expect(await qmp.execute('query-status')).toMatchObject({ status: 'prelaunch', running: false })

      const peripherals = (await qmp.execute('qom-list', { path: '/machine/peripheral' })) as {
        name: string
        type: string
      }[]
      const children = peripherals.filter((p) => p.type.startsWith('child<'))
      expect(children.map((p) => p.name).sort()).toEqual(deviceIds(argv).sort())

      expect(existsSync(join(ctx.vmDir, 'logs', 'serial.log'))).toBe(true)
      expect(existsSync(join(ctx.runtimeDir, 'serial.sock'))).toBe(true)
      expect(existsSync(join(ctx.runtimeDir, 'vnc.sock'))).toBe(config.display.adapter !== 'none')
      // An internal network's card listens for the engine's switch, without waiting for it.
      for (const n of config.nics.filter((x) => x.network.mode === 'internal')) {
        expect(existsSync(join(ctx.runtimeDir, internalNicSocketName(n.id)))).toBe(true)
      }

      const forwards = config.nics.flatMap((n) => (n.network.mode === 'nat' ? n.network.portForwards : []))
      if (forwards.length) {
        const usernet = (await qmp.execute('human-monitor-command', {
          'command-line': 'info usernet',
        })) as string
        for (const f of forwards) {
          expect(usernet).toMatch(
            new RegExp(
              `${f.protocol.toUpperCase()}\\[HOST_FORWARD\\]\\s+\\d+\\s+${f.hostAddress.replaceAll('.', '\\.')}\\s+${f.hostPort}\\s`,
            ),
          )
        }
      }
      await qmp.execute('quit')
      qmp.close()
      expect(await exited(child)).toBe(0)
      // A card on the `none` network has no backend by design; anything else QEMU says is a finding.
      const said = stderr.split('\n').filter((l) => l.trim() && !/warning: nic \S+ has no peer/.test(l))
      expect(said).toEqual([])
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL')
    }
  })
})
