// vireo console and screenshot: the guest's serial line and its screen.
import { writeFileSync } from 'node:fs'
import type { RpcClient } from '../api/client.ts'
import { runConsole } from './console.ts'
import { connectOrStart } from './connect.ts'
import { printJson, reportError } from './output.ts'
import { pathOf } from './option-values.ts'
import { safe } from './plain-text.ts'
import type { Cli } from './program.ts'

export function addConsoleCommands({ program, withHost, dataDir }: Cli): void {
  program
    .command('console')
    .description('the serial console: interactive on a terminal, or scripted with --send/--expect')
    .argument('<name>', 'VM name or UUID')
    .option('--send <text>', "send this text as is (write the newline yourself, e.g. $'ls\\n')")
    .option('--expect <regex>', 'wait until the output matches (from this boot, or after --send)')
    .option('--timeout <sec>', 'give up after this many seconds', Number, 60)
    .action(async (name: string, o: { send?: string; expect?: string; timeout: number }) => {
      let client: RpcClient | null = null
      try {
        client = await connectOrStart(dataDir())
        process.exitCode = await runConsole(client, name, o)
      } catch (err) {
        reportError(err, false)
        process.exitCode = 2
      } finally {
        client?.close()
      }
    })

  program
    .command('screenshot')
    .description("save a PNG of the VM's screen")
    .argument('<name>', 'VM name or UUID')
    .argument('<file>', 'where to write the PNG', pathOf('screenshot'))
    .option('--json', 'machine-readable output')
    .action(async (name: string, file: string, o: { json?: boolean }) =>
      withHost(!!o.json, async (c) => {
        const shot = await c.call('vm.screenshot', { vm: name })
        writeFileSync(file, Buffer.from(shot.png, 'base64'))
        if (o.json) printJson({ file, width: shot.width, height: shot.height })
        else console.log(`Saved ${shot.width}x${shot.height} screenshot to ${safe(file)}.`)
      }),
    )
}
