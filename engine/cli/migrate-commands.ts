// vireo remote …, vireo host pair-code and vireo migrate: pairing hosts and moving machines.
import { randomUUID } from 'node:crypto'
import type { Command } from 'commander'
import { VireoError } from '../api/errors.ts'
import type { CompatibilityReport, MigrationProgress, MigrationResult } from '../api/migration.ts'
import { printJson, table } from './output.ts'
import { safe } from './plain-text.ts'
import type { WithHost } from './program.ts'

const PHASES: Record<MigrationProgress['phase'], string> = {
  checking: 'checking',
  'copying-files': 'copying files',
  'copying-disks': 'copying disks',
  'copying-memory': 'copying memory',
  'switching-over': 'switching over',
  'cleaning-up': 'cleaning up',
}

export function mib(n: number): string {
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`
}

/** One line for a terminal: phase, a bar, bytes, rate, time left. */
export function progressLine(p: MigrationProgress, width = 24): string {
  const total = p.bytesLeft === null ? null : p.bytesDone + p.bytesLeft
  const frac = total ? Math.min(1, p.bytesDone / total) : 0
  const bar = total ? `[${'#'.repeat(Math.round(frac * width)).padEnd(width, '.')}] ` : ''
  const parts = [`${PHASES[p.phase]} ${bar}${mib(p.bytesDone)}${total ? ` of ${mib(total)}` : ''}`]
  if (p.bytesPerSecond) parts.push(`${mib(p.bytesPerSecond)}/s`)
  if (p.dirtyPagesPerSecond) parts.push(`${Math.round(p.dirtyPagesPerSecond)} dirty pages/s`)
  if (p.expectedDowntimeMs !== null && p.phase === 'copying-memory')
    parts.push(`downtime ~${p.expectedDowntimeMs} ms`)
  if (p.etaMs !== null) parts.push(`${Math.ceil(p.etaMs / 1000)} s left`)
  return parts.join(', ')
}

export function formatReport(r: CompatibilityReport): string {
  const lines = r.checks.map((c) => `${c.ok ? 'ok  ' : 'FAIL'}  ${safe(c.what)}: ${safe(c.detail)}`)
  if (r.snapshots.travel.length)
    lines.push(`      snapshots that travel: ${r.snapshots.travel.map(safe).join(', ')}`)
  for (const s of r.snapshots.cannotTravel)
    lines.push(`FAIL  snapshot "${safe(s.name)}" cannot travel: ${safe(s.reason)}`)
  return lines.join('\n')
}

export function formatResult(r: MigrationResult): string {
  const how = r.copy ? 'Copied' : 'Moved'
  const time = `${(r.totalMs / 1000).toFixed(1)} s`
  return r.mode === 'live'
    ? `${how} "${safe(r.name)}" to ${r.to} live in ${time}; the guest paused for ${r.downtimeMs} ms.`
    : `${how} "${safe(r.name)}" to ${r.to} in ${time} (${mib(r.bytes)}).`
}

const positive = (what: string) => (v: string) => {
  const n = Number(v)
  if (!Number.isInteger(n) || n < 1)
    throw new VireoError('invalid_request', `${what} must be a whole number above 0 (got "${v}")`)
  return n
}

export function addMigrationCommands(program: Command, host: Command, withHost: WithHost): void {
  host
    .command('pair-code')
    .description('show a one-time code another host pairs with (vireo remote add … --code)')
    .option('--json', 'machine-readable output')
    .action(async (o: { json?: boolean }) =>
      withHost(!!o.json, async (c) => {
        const r = await c.call('host.pairCode', {})
        if (o.json) return printJson(r)
        const mins = Math.round((Date.parse(r.expiresAt) - Date.now()) / 60_000)
        console.log(`Pairing code: ${safe(r.code)}  (valid once, for ${mins} minutes)`)
        const address = safe(r.address)
        console.log(
          `On the other host: vireo remote add NAME ${address.includes(':') ? `[${address}]` : address}:${r.port} --code ${safe(r.code)}`,
        )
      }),
    )

  host
    .command('accept')
    .description('accept machines from other hosts (and browsers with the token) on TCP; remembered')
    .option('--off', 'stop accepting')
    .option('--listen <addr>', 'address to listen on', '127.0.0.1')
    .option('--port <n>', 'TCP port (0 picks a free one)', (v) => Number(v), 0)
    .option('--json', 'machine-readable output')
    .action(async (o: { off?: boolean; listen: string; port: number; json?: boolean }) =>
      withHost(!!o.json, async (c) => {
        if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535)
          throw new VireoError('invalid_request', '--port must be 0-65535')
        const r = await c.call('host.accept', { enabled: !o.off, address: o.listen, port: o.port })
        if (o.json) return printJson(r)
        if (!r.listening) return console.log('This host no longer accepts other hosts.')
        console.log(
          `Accepting other hosts on ${safe(r.listening.address)}:${r.listening.port}; show a code with: vireo host pair-code`,
        )
      }),
    )

  const remote = program.command('remote').description('other Vireo hosts this one sends machines to')
  remote
    .command('add')
    .description('pair with another host by the code it shows (vireo host pair-code there)')
    .argument('<name>', 'a name for the host, used with migrate --to')
    .argument('<address>', 'HOST:PORT of its vireo serve')
    .requiredOption('--code <code>', 'the pairing code it shows')
    .option('--json', 'machine-readable output')
    .action(async (name: string, address: string, o: { code: string; json?: boolean }) =>
      withHost(!!o.json, async (c) => {
        const r = await c.call('remote.add', { name, address, code: o.code })
        if (o.json) printJson(r)
        else console.log(`Paired with ${safe(r.hostName)} as "${r.name}" (${safe(r.address)}:${r.port}).`)
      }),
    )
  remote
    .command('list')
    .description('the paired remote hosts')
    .option('--json', 'machine-readable output')
    .action(async (o: { json?: boolean }) =>
      withHost(!!o.json, async (c) => {
        const r = await c.call('remote.list', {})
        if (o.json) return printJson(r)
        if (r.length === 0)
          return console.log('No remote hosts. Pair one with: vireo remote add NAME HOST:PORT --code CODE')
        console.log(
          table([
            ['NAME', 'ADDRESS', 'HOST', 'PAIRED'],
            ...r.map((x) => [x.name, `${safe(x.address)}:${x.port}`, safe(x.hostName), x.pairedAt]),
          ]),
        )
      }),
    )
  remote
    .command('remove')
    .description('forget a remote host and its key')
    .argument('<name>', 'the remote host')
    .option('--json', 'machine-readable output')
    .action(async (name: string, o: { json?: boolean }) =>
      withHost(!!o.json, async (c) => {
        await c.call('remote.remove', { name })
        if (o.json) printJson({})
        else console.log(`Forgot the remote host "${safe(name)}".`)
      }),
    )

  program
    .command('migrate')
    .description(
      'move a VM to a remote host: live while it runs, offline when stopped (or: migrate cancel NAME)',
    )
    .argument('<name>', 'VM name or UUID (or "cancel")')
    .argument('[vm]', 'with "cancel": the VM whose migration to stop')
    .option('--to <remote>', 'the remote host (vireo remote list)')
    .option('--offline', 'move the stopped VM’s files instead of the running guest')
    .option('--copy', 'keep the VM on this host too')
    .option('--bandwidth <mbit>', 'limit, in megabits per second', positive('--bandwidth'))
    .option(
      '--max-downtime <ms>',
      'longest pause of the guest at switch-over (default 300)',
      positive('--max-downtime'),
    )
    .option('--no-auto-converge', 'never slow the guest down to make memory converge')
    .option('--postcopy', 'post-copy: after its switch-over a broken link loses the running guest')
    .option('--check', 'only show the compatibility report')
    .option('--json', 'machine-readable output (NDJSON progress events, then the result)')
    .action(
      async (
        name: string,
        vm: string | undefined,
        o: {
          to?: string
          offline?: boolean
          copy?: boolean
          bandwidth?: number
          maxDowntime?: number
          autoConverge: boolean
          postcopy?: boolean
          check?: boolean
          json?: boolean
        },
      ) =>
        withHost(!!o.json, async (c) => {
          if (name === 'cancel' && vm) {
            await c.call('migration.cancel', { vm })
            if (o.json) printJson({})
            else console.log(`Cancelling the migration of "${safe(vm)}"; it keeps running here.`)
            return
          }
          if (!o.to)
            throw new VireoError('invalid_request', 'say where to: --to REMOTE (see vireo remote list)')
          const opts = {
            vm: name,
            to: o.to,
            offline: !!o.offline,
            copy: !!o.copy,
            ...(o.bandwidth ? { bandwidthMbps: o.bandwidth } : {}),
            ...(o.maxDowntime ? { maxDowntimeMs: o.maxDowntime } : {}),
            autoConverge: o.autoConverge,
            postcopy: !!o.postcopy,
          }
          if (o.check) {
            const r = await c.call('migration.check', opts)
            if (o.json) printJson(r)
            else console.log(formatReport(r))
            if (!r.ok) process.exitCode = 1
            return
          }
          const job = randomUUID()
          const tty = !o.json && process.stderr.isTTY
          let shown = false
          const sub = c.on('migration.progress', (p) => {
            if (p.job !== job) return
            if (o.json) process.stdout.write(JSON.stringify({ event: 'progress', ...p }) + '\n')
            else if (tty) {
              process.stderr.write(`\r${progressLine(p)}\x1b[K`)
              shown = true
            }
          })
          // Ctrl-C on a terminal cancels the migration (the VM keeps running here) instead of leaving it going.
          const onInt = () => void c.call('migration.cancel', { vm: name }).catch(() => undefined)
          process.once('SIGINT', onInt)
          try {
            const r = await c.call('vm.migrate', { ...opts, job })
            if (shown) process.stderr.write('\n')
            if (o.json) process.stdout.write(JSON.stringify(r) + '\n')
            else console.log(formatResult(r))
          } finally {
            process.off('SIGINT', onInt)
            sub.dispose()
            if (shown) process.stderr.write('\x1b[K')
          }
        }),
    )
}
