// vireo inspect, import and export: files on the host looked into, and appliances in and out.
import { formatInspection } from './format-inspection.ts'
import { printJson } from './output.ts'
import { pathOf } from './option-values.ts'
import { safe } from './plain-text.ts'
import { followJob } from './progress.ts'
import type { Cli } from './program.ts'

export function addImageCommands({ program, withHost }: Cli): void {
  program
    .command('import')
    .description('create a VM from an appliance (.ova, or .ovf with its files beside it)')
    .argument('<file>', 'the .ova or .ovf file', pathOf('the appliance'))
    .option('--name <name>', "the new VM's name (default: the appliance's, made unique)")
    .option('--json', 'machine-readable output (NDJSON progress, then the VM)')
    .action(async (file: string, o: { name?: string; json?: boolean }) =>
      withHost(!!o.json, async (c) => {
        const progress = followJob(c, !!o.json)
        const vm = await c
          .call('vm.import', {
            path: file,
            job: progress.job,
            ...(o.name !== undefined ? { name: o.name } : {}),
          })
          .finally(() => progress.dispose())
        if (o.json) progress.printResult(vm)
        else console.log(`Imported "${safe(vm.name)}" (${vm.id}).`)
      }),
    )

  program
    .command('export')
    .description('write a stopped VM as an OVA (OVF 1.x, streamOptimized VMDK, SHA-256 manifest)')
    .argument('<name>', 'VM name or UUID')
    .argument('<file>', 'the .ova to write (must not exist)', pathOf('export'))
    .option('--json', 'machine-readable output (NDJSON progress, then {path, bytes})')
    .action(async (name: string, file: string, o: { json?: boolean }) =>
      withHost(!!o.json, async (c) => {
        const progress = followJob(c, !!o.json)
        const r = await c
          .call('vm.export', { vm: name, path: file, job: progress.job })
          .finally(() => progress.dispose())
        if (o.json) progress.printResult(r)
        else console.log(`Exported "${safe(name)}" to ${safe(r.path)} (${r.bytes} bytes).`)
      }),
    )

  program
    .command('inspect')
    .description(
      'what an ISO, disk image, appliance or kernel is, its OS, and good settings for a VM from it',
    )
    .argument('<file>', 'the file to look into', pathOf('inspect'))
    .option('--json', 'machine-readable output')
    .action(async (file: string, o: { json?: boolean }) =>
      withHost(!!o.json, async (c) => {
        const inspection = await c.call('image.inspect', { path: file })
        if (o.json) printJson(inspection)
        else console.log(formatInspection(inspection))
      }),
    )
}
