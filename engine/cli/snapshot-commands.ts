// vireo snapshot take, list, revert and delete, and vireo clone: a VM's snapshot tree and the
// machines made from it.
import { printJson } from './output.ts'
import { formatSnapshotTree } from './format-snapshots.ts'
import { safe } from './plain-text.ts'
import { followJob } from './progress.ts'
import type { Cli } from './program.ts'

export function addSnapshotCommands({ program, withHost }: Cli): void {
  const snapshot = program.command('snapshot').description("a VM's snapshot tree: take, list, revert, delete")
  snapshot
    .command('take')
    .description('snapshot a VM: memory and disks while it runs, disks only while stopped')
    .argument('<name>', 'VM name or UUID')
    .argument('<snapshot>', "the snapshot's name")
    .option('--description <text>', 'what this snapshot is for')
    .option('--json', 'machine-readable output (NDJSON progress, then the snapshot)')
    .action(async (name: string, snap: string, o: { description?: string; json?: boolean }) =>
      withHost(!!o.json, async (c) => {
        const progress = followJob(c, !!o.json)
        const r = await c
          .call('snapshot.take', {
            vm: name,
            name: snap,
            description: o.description ?? '',
            job: progress.job,
          })
          .finally(() => progress.dispose())
        if (o.json) progress.printResult(r)
        else
          console.log(
            `Took the ${r.kind === 'live' ? 'live' : 'disk-only'} snapshot "${safe(r.name)}" (${safe(r.id)}) of "${safe(name)}".`,
          )
      }),
    )
  snapshot
    .command('list')
    .description("a VM's snapshots as a tree, the current one marked")
    .argument('<name>', 'VM name or UUID')
    .option('--json', 'machine-readable output')
    .action(async (name: string, o: { json?: boolean }) =>
      withHost(!!o.json, async (c) => {
        const tree = await c.call('snapshot.list', { vm: name })
        if (o.json) printJson(tree)
        else console.log(formatSnapshotTree(name, tree))
      }),
    )
  for (const verb of ['revert', 'delete'] as const) {
    snapshot
      .command(verb)
      .description(
        verb === 'revert'
          ? 'go back to a snapshot (a live one resumes the guest where it was); the current state is discarded'
          : 'remove a snapshot; its data is merged so no other snapshot and not the current state change',
      )
      .argument('<name>', 'VM name or UUID')
      .argument('<snapshot>', 'snapshot name or id')
      .option('--json', 'machine-readable output (NDJSON progress, then the result)')
      .action(async (name: string, snap: string, o: { json?: boolean }) =>
        withHost(!!o.json, async (c) => {
          const progress = followJob(c, !!o.json)
          const r = await c
            .call(verb === 'revert' ? 'snapshot.revert' : 'snapshot.delete', {
              vm: name,
              snapshot: snap,
              job: progress.job,
            })
            .finally(() => progress.dispose())
          if (o.json) progress.printResult(r)
          else
            console.log(
              verb === 'revert'
                ? `Reverted "${safe(name)}" to "${safe(snap)}".`
                : `Deleted the snapshot "${safe(snap)}" of "${safe(name)}".`,
            )
        }),
      )
  }

  program
    .command('clone')
    .description('a new VM from this one or one of its snapshots: a full copy, or linked to the snapshot')
    .argument('<name>', 'VM name or UUID')
    .argument('<newname>', "the clone's name")
    .option('--from <snapshot>', 'the snapshot to clone (default: the current state)')
    .option('--linked', "share the snapshot's disk data (a qcow2 overlay) instead of copying it")
    .option('--json', 'machine-readable output (NDJSON progress, then the VM)')
    .action(async (name: string, newName: string, o: { from?: string; linked?: boolean; json?: boolean }) =>
      withHost(!!o.json, async (c) => {
        const progress = followJob(c, !!o.json)
        const vm = await c
          .call('vm.clone', {
            vm: name,
            name: newName,
            linked: !!o.linked,
            job: progress.job,
            ...(o.from !== undefined ? { from: o.from } : {}),
          })
          .finally(() => progress.dispose())
        if (o.json) progress.printResult(vm)
        else
          console.log(`Cloned "${safe(name)}" as "${safe(vm.name)}" (${vm.id})${o.linked ? ', linked' : ''}.`)
      }),
    )
}
