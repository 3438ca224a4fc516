// vireo disk check, resize, compact, convert and set: a VM's disk images and how the guest sees them.
import { Option } from 'commander'
import { VireoError } from '../api/errors.ts'
import type { UpdateDiskParams } from '../api/rpc.ts'
import { CacheMode, DetectZeroes, DiskBus } from '../api/vm-config.ts'
import { printJson } from './output.ts'
import { onOff, sizeOf } from './option-values.ts'
import { safe, safeBlock } from './plain-text.ts'
import { followJob } from './progress.ts'
import type { Cli } from './program.ts'

export function addDiskCommands({ program, withHost }: Cli): void {
  const disk = program.command('disk').description("a VM's disk images: check, grow, compact, convert")
  disk
    .command('check')
    .description('check a disk image; exit 0 when clean, 3 with leaked clusters, 2 when damaged')
    .argument('<name>', 'VM name or UUID')
    .argument('<disk>', 'the disk id (see vireo info)')
    .option('--repair', 'free leaked clusters (what a crash can leave; never touches data)')
    .option('--json', 'machine-readable output')
    .action(async (name: string, id: string, o: { repair?: boolean; json?: boolean }) =>
      withHost(!!o.json, async (c) => {
        const r = await c.call('disk.check', { vm: name, disk: id, repair: !!o.repair })
        if (o.json) printJson(r)
        else console.log(safeBlock(r.report))
        process.exitCode = { clean: 0, leaks: 3, corrupt: 2, unreadable: 2 }[r.verdict]
      }),
    )
  disk
    .command('resize')
    .description('grow a disk (also while the VM runs); the guest then grows its partitions')
    .argument('<name>', 'VM name or UUID')
    .argument('<disk>', 'the disk id (see vireo info)')
    .argument('<size>', 'the new size, e.g. 40G', sizeOf('the new size'))
    .option('--json', 'machine-readable output')
    .action(async (name: string, id: string, size: string, o: { json?: boolean }) =>
      withHost(!!o.json, async (c) => {
        const vm = await c.call('disk.resize', { vm: name, disk: id, size })
        if (o.json) printJson(vm)
        else console.log(`The disk "${safe(id)}" of "${safe(vm.name)}" is now ${safe(size)}.`)
      }),
    )
  for (const verb of ['compact', 'convert'] as const) {
    const cmd = disk
      .command(verb)
      .description(
        verb === 'compact'
          ? "rewrite a stopped VM's qcow2 without the space its guest no longer uses"
          : "turn a stopped VM's raw disk into qcow2 (snapshots need it)",
      )
      .argument('<name>', 'VM name or UUID')
      .argument('<disk>', 'the disk id (see vireo info)')
      .option('--json', 'machine-readable output')
    if (verb === 'convert')
      cmd.addOption(new Option('--to <format>', 'target format').choices(['qcow2']).default('qcow2'))
    cmd.action(async (name: string, id: string, o: { json?: boolean }) =>
      withHost(!!o.json, async (c) => {
        const progress = followJob(c, !!o.json)
        const vm = await (
          verb === 'compact'
            ? c.call('disk.compact', { vm: name, disk: id, job: progress.job })
            : c.call('disk.convert', { vm: name, disk: id, to: 'qcow2', job: progress.job })
        ).finally(() => progress.dispose())
        if (o.json) progress.printResult(vm)
        else
          console.log(
            `The disk "${safe(id)}" of "${safe(vm.name)}" is ${verb === 'compact' ? 'compacted' : 'now qcow2'}.`,
          )
      }),
    )
  }

  disk
    .command('set')
    .description(
      "change a stopped VM's disk: bus, cache mode, discard, zero detection, read-only, I/O thread",
    )
    .argument('<name>', 'VM name or UUID')
    .argument('<disk>', 'the disk id (see vireo info)')
    .addOption(
      new Option(
        '--bus <bus>',
        'virtio-blk/virtio-scsi/nvme are paravirtual (fast, need guest drivers); sata/ide are emulated (work everywhere)',
      ).choices(DiskBus.options),
    )
    .addOption(
      new Option(
        '--cache <mode>',
        'writeback (fast, safe with flushes), none (no host cache), writethrough (every write synchronous), unsafe (ignores flushes)',
      ).choices(CacheMode.options),
    )
    .option(
      '--discard <on|off>',
      "pass the guest's TRIM/UNMAP to the image, so it shrinks",
      onOff('--discard'),
    )
    .addOption(
      new Option(
        '--detect-zeroes <mode>',
        'store written zeroes as holes (unmap) or zero clusters (on)',
      ).choices(DetectZeroes.options),
    )
    .option('--read-only <on|off>', 'the guest cannot write the disk', onOff('--read-only'))
    .option(
      '--iothread <on|off>',
      'serve the disk on its own thread (virtio-blk, virtio-scsi)',
      onOff('--iothread'),
    )
    .option('--json', 'machine-readable output')
    .action(async (name: string, id: string, o: Record<string, unknown>) =>
      withHost(!!o.json, async (c) => {
        const params: UpdateDiskParams = { vm: name, disk: id }
        if (o.bus !== undefined) params.bus = o.bus as UpdateDiskParams['bus']
        if (o.cache !== undefined) params.cache = o.cache as UpdateDiskParams['cache']
        if (o.discard !== undefined) params.discard = o.discard as boolean
        if (o.detectZeroes !== undefined)
          params.detectZeroes = o.detectZeroes as UpdateDiskParams['detectZeroes']
        if (o.readOnly !== undefined) params.readOnly = o.readOnly as boolean
        if (o.iothread !== undefined) params.iothread = o.iothread as boolean
        if (Object.keys(params).length === 2) {
          throw new VireoError(
            'invalid_request',
            'nothing to change: give --bus, --cache, --discard, --detect-zeroes, --read-only or --iothread',
          )
        }
        const vm = await c.call('disk.update', params)
        if (o.json) printJson(vm)
        else console.log(`Changed the disk "${safe(id)}" of "${safe(vm.name)}".`)
      }),
    )
}
