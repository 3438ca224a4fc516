// vireo list, create, modify, info, start, pause, resume, reset, stop and delete: a VM's life.
import { Option } from 'commander'
import { VireoError } from '../api/errors.ts'
import { DiskMode, type CreateVmParams, type UpdateVmParams } from '../api/rpc.ts'
import { DiskBus, Firmware, MachineKind, NicModel } from '../api/vm-config.ts'
import { followJob } from './progress.ts'
import { formatInfo, formatList, printJson } from './output.ts'
import { bootOrder, int, pathList, pathOf, sizeOf } from './option-values.ts'
import { safe, terminalCommandLine } from './plain-text.ts'
import type { Cli } from './program.ts'

export function addVmCommands({ program, withHost }: Cli): void {
  program
    .command('list')
    .description('list the VMs')
    .option('--json', 'machine-readable output')
    .action(async (o: { json?: boolean }) =>
      withHost(!!o.json, async (c) => {
        const vms = await c.call('vm.list', {})
        if (o.json) printJson(vms)
        else console.log(formatList(vms))
      }),
    )

  program
    .command('create')
    .description('create a VM')
    .argument('<name>', 'a display name; any text')
    .option('--iso <path>', 'an installer or live ISO to insert', pathOf('--iso'))
    .option('--disk <path>', 'an existing disk image (qcow2, raw, vmdk, vdi, vhdx, vpc)', pathOf('--disk'))
    .addOption(
      new Option(
        '--disk-mode <mode>',
        'use the image in place, put a qcow2 overlay on it, or convert a copy (default: use qcow2/raw, convert others)',
      ).choices(DiskMode.options),
    )
    .option(
      '--allow-backing <file>',
      'a file the --disk image reads besides itself (its backing file, data file or extent); repeatable',
      pathList('--allow-backing'),
    )
    .option('--disk-size <size>', 'a new empty qcow2 disk of this size, e.g. 20G', sizeOf('--disk-size'))
    .option('--memory <mib>', 'memory in MiB', int('--memory'))
    .option('--cpus <n>', 'virtual CPUs', int('--cpus'))
    .addOption(new Option('--nic <model>', 'network card').choices([...NicModel.options, 'none']))
    .addOption(new Option('--disk-bus <bus>', 'disk bus').choices(DiskBus.options))
    .addOption(new Option('--firmware <fw>', 'firmware').choices(Firmware.options))
    .addOption(new Option('--machine <type>', 'machine type').choices(MachineKind.options))
    .option('--tcg', 'always use software emulation for this VM')
    .option(
      '--kernel <path>',
      'boot this Linux kernel directly (used in place, not copied)',
      pathOf('--kernel'),
    )
    .option('--initrd <path>', 'the initrd for --kernel', pathOf('--initrd'))
    .option('--cmdline <text>', 'the kernel command line for --kernel')
    .option('--os <id>', 'the guest OS (an osinfo-db short id such as debian12); detected when omitted')
    .option('--json', 'machine-readable output')
    .action(async (name: string, o: Record<string, unknown>) =>
      withHost(!!o.json, async (c) => {
        const params: CreateVmParams = { name }
        if (o.kernel) params.kernel = o.kernel as string
        if (o.initrd) params.initrd = o.initrd as string
        if (o.cmdline !== undefined) params.cmdline = o.cmdline as string
        if (o.os) params.os = o.os as string
        if (o.iso) params.iso = o.iso as string
        if (o.disk) params.disk = o.disk as string
        if (o.diskMode) params.diskMode = o.diskMode as CreateVmParams['diskMode']
        if (o.allowBacking) params.allowBacking = o.allowBacking as string[]
        if (o.diskSize !== undefined) params.diskSize = o.diskSize as string
        if (o.memory !== undefined) params.memoryMiB = o.memory as number
        if (o.cpus !== undefined) params.cpus = o.cpus as number
        if (o.nic) params.nic = o.nic as CreateVmParams['nic']
        if (o.diskBus) params.diskBus = o.diskBus as CreateVmParams['diskBus']
        if (o.firmware) params.firmware = o.firmware as CreateVmParams['firmware']
        if (o.machine) params.machine = o.machine as CreateVmParams['machine']
        if (o.tcg) params.accelerator = 'tcg'
        const progress = followJob(c, !!o.json)
        params.job = progress.job
        const vm = await c.call('vm.create', params).finally(() => progress.dispose())
        if (o.json) progress.printResult(vm)
        else console.log(`Created "${safe(vm.name)}" (${vm.id}).`)
      }),
    )

  program
    .command('modify')
    .description("change a VM's name (any time) or its hardware (while it is stopped)")
    .argument('<name>', 'VM name or UUID')
    .option('--name <new>', 'a new display name')
    .option('--cpus <n>', 'virtual CPUs', int('--cpus'))
    .option('--memory <mib>', 'memory in MiB', int('--memory'))
    .option('--boot <list>', 'boot order, e.g. disk,cdrom or cdrom,disk,network', bootOrder)
    .addOption(new Option('--firmware <fw>', 'firmware').choices(Firmware.options))
    .option('--json', 'machine-readable output')
    .action(async (name: string, o: Record<string, unknown>) =>
      withHost(!!o.json, async (c) => {
        const params: UpdateVmParams = { vm: name }
        if (o.name !== undefined) params.name = o.name as string
        if (o.cpus !== undefined) params.cpus = o.cpus as number
        if (o.memory !== undefined) params.memoryMiB = o.memory as number
        if (o.boot !== undefined) params.bootOrder = o.boot as UpdateVmParams['bootOrder']
        if (o.firmware !== undefined) params.firmware = o.firmware as UpdateVmParams['firmware']
        if (Object.keys(params).length === 1) {
          throw new VireoError(
            'invalid_request',
            'nothing to change: give --name, --cpus, --memory, --boot or --firmware',
          )
        }
        const vm = await c.call('vm.update', params)
        if (o.json) printJson(vm)
        else console.log(`Changed "${safe(vm.name)}".`)
      }),
    )

  program
    .command('info')
    .description('show a VM, or the exact QEMU command line it runs with')
    .argument('<name>', 'VM name or UUID')
    .option('--json', 'machine-readable output')
    .option('--qemu-argv', 'print the QEMU command line (runs as-is on stock QEMU)')
    .action(async (name: string, o: { json?: boolean; qemuArgv?: boolean }) =>
      withHost(!!o.json, async (c) => {
        if (o.qemuArgv) {
          const { argv } = await c.call('vm.qemuArgv', { vm: name })
          if (o.json) printJson(argv)
          else console.log(terminalCommandLine(argv))
          return
        }
        const vm = await c.call('vm.info', { vm: name })
        if (o.json) printJson(vm)
        else console.log(formatInfo(vm))
      }),
    )

  for (const [cmd, method, verb] of [
    ['start', 'vm.start', 'Started'],
    ['pause', 'vm.pause', 'Paused'],
    ['resume', 'vm.resume', 'Resumed'],
    ['reset', 'vm.reset', 'Reset'],
  ] as const) {
    program
      .command(cmd)
      .description(`${cmd} a VM`)
      .argument('<name>', 'VM name or UUID')
      .option('--json', 'machine-readable output')
      .action(async (name: string, o: { json?: boolean }) =>
        withHost(!!o.json, async (c) => {
          const vm = await c.call(method, { vm: name })
          if (o.json) printJson(vm)
          else console.log(`${verb} "${safe(vm.name)}".`)
        }),
      )
  }

  program
    .command('stop')
    .description('shut a VM down (ACPI power button, then power off after the timeout)')
    .argument('<name>', 'VM name or UUID')
    .option('--force', 'power off at once, like pulling the plug')
    .option('--timeout <sec>', 'seconds the guest gets to shut down', int('--timeout'), 60)
    .option('--json', 'machine-readable output')
    .action(async (name: string, o: { force?: boolean; timeout: number; json?: boolean }) =>
      withHost(!!o.json, async (c) => {
        const vm = await c.call('vm.stop', { vm: name, force: !!o.force, timeoutMs: o.timeout * 1000 })
        if (o.json) printJson(vm)
        else {
          const how = vm.lastExit?.kind === 'guest' ? 'the guest shut down' : 'powered off'
          console.log(`Stopped "${safe(vm.name)}" (${how}).`)
        }
      }),
    )

  program
    .command('delete')
    .description('delete a VM and (unless --keep-disks) its disks')
    .argument('<name>', 'VM name or UUID')
    .option('--yes', 'do not ask')
    .option('--keep-disks', 'keep the disk images')
    .option('--json', 'machine-readable output')
    .action(async (name: string, o: { yes?: boolean; keepDisks?: boolean; json?: boolean }) =>
      withHost(!!o.json, async (c) => {
        if (!o.yes) {
          if (!process.stdin.isTTY)
            throw new VireoError('invalid_request', 'deleting a VM needs --yes when not run interactively')
          const { createInterface } = await import('node:readline/promises')
          const rl = createInterface({ input: process.stdin, output: process.stdout })
          const answer = await rl.question(
            `Delete "${safe(name)}"${o.keepDisks ? '' : ' and its disks'}? [y/N] `,
          )
          rl.close()
          if (!/^y(es)?$/i.test(answer.trim())) return
        }
        await c.call('vm.delete', { vm: name, keepDisks: !!o.keepDisks })
        if (o.json) printJson({})
        else console.log(`Deleted "${safe(name)}".`)
      }),
    )
}
