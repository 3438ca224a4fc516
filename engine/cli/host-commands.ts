// vireo serve and vireo host status, stop and run: the host that owns a data dir, headless with
// HTTP and WebSocket, or in the background behind the CLI.
import type { Command } from 'commander'
import { VireoError } from '../api/errors.ts'
import { connectIfRunning, connectOrStart } from './connect.ts'
import { formatHostStatus } from './format-host.ts'
import { printJson, reportError } from './output.ts'
import { int } from './option-values.ts'
import { safe } from './plain-text.ts'
import type { Cli } from './program.ts'

/** Registers serve and host …; returns `host`, which the migration commands add to. */
export function addHostCommands({ program, dataDir }: Cli): Command {
  program
    .command('serve')
    .description('run a headless host: the engine plus HTTP/WebSocket (loopback unless --listen)')
    .option('--listen <addr>', 'address to listen on', '127.0.0.1')
    .option('--port <n>', 'TCP port (0 picks a free one)', int('--port'), 8765)
    .option('--json', 'print {url, port, token} instead of a sentence')
    .action(async (o: { listen: string; port: number; json?: boolean }) => {
      try {
        const running = await connectIfRunning(dataDir())
        if (running) {
          running.close()
          throw new VireoError(
            'conflict',
            `a Vireo host already owns ${dataDir()}; stop it first with: vireo host stop`,
          )
        }
        // Loaded only here: the engine is heavy, and every other command is a thin client.
        const { startHost } = await import('../host/host.ts')
        const host = await startHost({
          dataDir: dataDir(),
          tcp: { address: o.listen, port: o.port },
          log: (l) => process.stderr.write(`${l}\n`),
        })
        if (o.json) printJson({ url: host.url, port: host.port, token: host.token })
        else console.log(`Vireo is serving ${safe(host.url ?? '')}`)
        for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => void host.stop())
        await host.stopped
        process.exit(0)
      } catch (err) {
        reportError(err, !!o.json)
        process.exit(1)
      }
    })

  const host = program.command('host').description('the background host of a data dir')
  host
    .command('status')
    .option('--json', 'machine-readable output')
    .action(async (o: { json?: boolean }) => {
      const client = await connectIfRunning(dataDir())
      if (!client) {
        if (o.json) printJson({ running: false, dataDir: dataDir() })
        else console.log(`No Vireo host is running for ${safe(dataDir())}.`)
        return
      }
      try {
        const info = await client.call('host.info', {})
        if (o.json) printJson({ running: true, ...info })
        else console.log(formatHostStatus(info))
      } catch (err) {
        reportError(err, !!o.json)
        process.exitCode = 1
      } finally {
        client.close()
      }
    })
  host
    .command('stop')
    .option('--stop-vms', 'shut the running VMs down too (otherwise they keep running)')
    .action(async (o: { stopVms?: boolean }) => {
      // VMs outlive their host (SIGTERM leaves them for re-attach): to stop them, a host must run,
      // so --stop-vms starts one that finds them and then stops them with itself.
      const client = o.stopVms ? await connectOrStart(dataDir()) : await connectIfRunning(dataDir())
      if (!client) {
        console.log(`No Vireo host is running for ${safe(dataDir())}.`)
        return
      }
      const info = await client.call('host.info', {})
      await client.call('host.stop', { stopVms: !!o.stopVms })
      client.close()
      // Wait until the host has let go of the data dir, so a following command finds it free.
      const { isAlive } = await import('../util/process-alive.ts')
      const deadline = Date.now() + 120_000
      while (isAlive(info.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
      console.log('Host stopped.')
    })
  host
    .command('run')
    .description('run the host in the foreground (what the CLI starts in the background)')
    .action(async () => {
      try {
        const { startHost } = await import('../host/host.ts')
        const h = await startHost({ dataDir: dataDir(), log: (l) => process.stderr.write(`${l}\n`) })
        for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => void h.stop())
        process.stderr.write(`vireo host ${process.pid} owns ${safe(dataDir())}\n`)
        await h.stopped
        process.exit(0)
      } catch (err) {
        reportError(err, false)
        process.exit(1)
      }
    })
  return host
}
