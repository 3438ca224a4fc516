#!/usr/bin/env node
// The vireo command line, in the spirit of VBoxManage and virsh. It talks to the host that owns the
// data dir over that host's unix socket.
import { writeFileSync } from 'node:fs'
import { Argument, Command, Option } from 'commander'
import type { RpcClient } from '../api/client.ts'
import { VireoError } from '../api/errors.ts'
import type { CreateVmParams, UpdateDiskParams, UpdateNicParams, UpdateVmParams } from '../api/rpc.ts'
import type { PortForward } from '../api/vm-config.ts'
import { defaultDataDir } from '../host/data-dir.ts'
import { ensureDataDir } from '../host/ensure-data-dir.ts'
import { runConsole } from './console.ts'
import { followJob } from './progress.ts'
import { connectIfRunning, connectOrStart } from './connect.ts'
import { formatInfo, formatList, printJson, reportError } from './output.ts'
import { networkChange, parseDhcpOption, parseNetworkOption, type NetworkChoice } from './network-option.ts'
import { formatInspection } from './format-inspection.ts'
import {
  addedDevice,
  ATTACH_BUSES,
  attachParams,
  detachedMessage,
  type AttachOptions,
} from './attach-options.ts'
import { formatSnapshotTree } from './format-snapshots.ts'
import { formatHostStatus } from './format-host.ts'
import { addMigrationCommands } from './migrate-commands.ts'
import {
  bootOrder,
  dataDirOption,
  int,
  onOff,
  pathList,
  pathOf,
  portForward,
  sizeOf,
} from './option-values.ts'
import { escapeCommanderOutput, safe, safeBlock, terminalCommandLine } from './plain-text.ts'

const program = new Command()
program
  .name('vireo')
  .description('Vireo: run virtual machines on QEMU')
  .option('--data-dir <dir>', 'the library to use (default: the user data dir)', dataDirOption)
  .showHelpAfterError()
  // Every command makes the data dir it is given, or says why it cannot, before anything else.
  .hook('preAction', () => void ensureDataDir(dataDir()))
escapeCommanderOutput(program)

function dataDir(): string {
  return program.opts<{ dataDir?: string }>().dataDir ?? defaultDataDir()
}

/** Runs one CLI action against the host; any error becomes one line on stderr and exit 1. */
async function withHost(json: boolean, fn: (client: RpcClient) => Promise<void>): Promise<void> {
  let client: RpcClient | null = null
  try {
    client = await connectOrStart(dataDir())
    await fn(client)
  } catch (err) {
    reportError(err, json)
    process.exitCode = process.exitCode || 1
  } finally {
    client?.close()
  }
}

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
    ).choices(['use', 'overlay', 'convert']),
  )
  .option(
    '--allow-backing <file>',
    'a file the --disk image reads besides itself (its backing file, data file or extent); repeatable',
    pathList('--allow-backing'),
  )
  .option('--disk-size <size>', 'a new empty qcow2 disk of this size, e.g. 20G', sizeOf('--disk-size'))
  .option('--memory <mib>', 'memory in MiB', int('--memory'))
  .option('--cpus <n>', 'virtual CPUs', int('--cpus'))
  .addOption(
    new Option('--nic <model>', 'network card').choices([
      'virtio-net',
      'e1000',
      'e1000e',
      'rtl8139',
      'vmxnet3',
      'none',
    ]),
  )
  .addOption(
    new Option('--disk-bus <bus>', 'disk bus').choices(['virtio-blk', 'virtio-scsi', 'nvme', 'sata', 'ide']),
  )
  .addOption(new Option('--firmware <fw>', 'firmware').choices(['bios', 'uefi']))
  .addOption(new Option('--machine <type>', 'machine type').choices(['q35', 'pc']))
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
  .description('what an ISO, disk image, appliance or kernel is, its OS, and good settings for a VM from it')
  .argument('<file>', 'the file to look into', pathOf('inspect'))
  .option('--json', 'machine-readable output')
  .action(async (file: string, o: { json?: boolean }) =>
    withHost(!!o.json, async (c) => {
      const inspection = await c.call('image.inspect', { path: file })
      if (o.json) printJson(inspection)
      else console.log(formatInspection(inspection))
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
  .addOption(new Option('--firmware <fw>', 'firmware').choices(['bios', 'uefi']))
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

program
  .command('nic')
  .description(
    'change a network card: model, MAC, network and port forwards (while stopped), cable (any time)',
  )
  .argument('<name>', 'VM name or UUID')
  .argument('<nic>', 'the card id (see vireo info), e.g. net0')
  .addOption(
    new Option('--model <model>', 'card model').choices([
      'virtio-net',
      'e1000',
      'e1000e',
      'rtl8139',
      'vmxnet3',
    ]),
  )
  .option('--mac <mac>', 'MAC address, e.g. 52:54:00:12:34:56')
  .option(
    '--network <mode>',
    'nat, none, or internal:NAME (a network only the VMs naming it share)',
    parseNetworkOption,
  )
  .option(
    '--forward <spec>',
    'NAT port forward [tcp|udp:][HOST-ADDR:]HOST-PORT:GUEST-PORT, repeatable (replaces the forwards); host address 127.0.0.1 unless given',
    (v: string, all: PortForward[] = []) => [...all, portForward(v)],
  )
  .option('--no-forwards', 'remove every port forward')
  .option(
    '--dhcp <subnet>',
    "lease addresses on the card's internal network from SUBNET, e.g. 10.9.0.0/24",
    parseDhcpOption,
  )
  .option('--no-dhcp', 'no DHCP for this card on its internal network')
  .addOption(new Option('--link <state>', 'plug or pull the cable').choices(['up', 'down']))
  .option('--json', 'machine-readable output')
  .action(async (name: string, nic: string, o: Record<string, unknown>) =>
    withHost(!!o.json, async (c) => {
      const params: UpdateNicParams = { vm: name, nic }
      if (o.model !== undefined) params.model = o.model as UpdateNicParams['model']
      if (o.mac !== undefined) params.mac = String(o.mac).toLowerCase()
      if (o.link !== undefined) params.linkUp = o.link === 'up'
      const network = await networkChange(
        nic,
        {
          network: o.network as NetworkChoice | undefined,
          forwards: o.forward as PortForward[] | undefined,
          noForwards: o.forwards === false,
          dhcp: o.dhcp as string | false | undefined,
        },
        async () => (await c.call('vm.info', { vm: name })).config.nics.find((n) => n.id === nic)?.network,
      )
      if (network) params.network = network
      if (Object.keys(params).length === 2) {
        throw new VireoError(
          'invalid_request',
          'nothing to change: give --model, --mac, --network, --forward, --dhcp or --link',
        )
      }
      const vm = await c.call('nic.update', params)
      if (o.json) printJson(vm)
      else console.log(`Changed the card "${safe(nic)}" of "${safe(vm.name)}".`)
    }),
  )

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
  .description("change a stopped VM's disk: bus, cache mode, discard, zero detection, read-only, I/O thread")
  .argument('<name>', 'VM name or UUID')
  .argument('<disk>', 'the disk id (see vireo info)')
  .addOption(
    new Option(
      '--bus <bus>',
      'virtio-blk/virtio-scsi/nvme are paravirtual (fast, need guest drivers); sata/ide are emulated (work everywhere)',
    ).choices(['virtio-blk', 'virtio-scsi', 'nvme', 'sata', 'ide']),
  )
  .addOption(
    new Option(
      '--cache <mode>',
      'writeback (fast, safe with flushes), none (no host cache), writethrough (every write synchronous), unsafe (ignores flushes)',
    ).choices(['none', 'writeback', 'writethrough', 'unsafe']),
  )
  .option('--discard <on|off>', "pass the guest's TRIM/UNMAP to the image, so it shrinks", onOff('--discard'))
  .addOption(
    new Option(
      '--detect-zeroes <mode>',
      'store written zeroes as holes (unmap) or zero clusters (on)',
    ).choices(['off', 'on', 'unmap']),
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

program
  .command('attach')
  .description(
    'attach a disk or a network card to a VM, running (hot-plug) or stopped, or put a disc in the CD drive',
  )
  .argument('<name>', 'VM name or UUID')
  .addArgument(new Argument('<kind>', 'what to attach').choices(['disk', 'nic', 'cdrom']))
  .option('--iso <path>', 'cdrom: the disc image to insert', pathOf('--iso'))
  .option('--cdrom <id>', 'cdrom: which CD drive (default: the first)')
  .option('--size <size>', 'disk: a new empty qcow2 of this size in the VM folder, e.g. 8G', sizeOf('--size'))
  .option('--image <path>', 'disk: an existing qcow2 or raw image, used in place', pathOf('--image'))
  .option(
    '--allow-backing <file>',
    'disk: a file the --image reads besides itself (its backing file, data file or extent); repeatable',
    pathList('--allow-backing'),
  )
  .addOption(
    new Option(
      '--bus <bus>',
      'disk: virtio (default), scsi or nvme; sata and ide only while stopped',
    ).choices(ATTACH_BUSES),
  )
  .addOption(
    new Option('--model <model>', 'nic: card model (default virtio-net)').choices([
      'virtio-net',
      'e1000',
      'e1000e',
      'rtl8139',
      'vmxnet3',
    ]),
  )
  .option('--network <mode>', 'nic: nat (default), none, or internal:NAME', parseNetworkOption)
  .option(
    '--dhcp <subnet>',
    "nic: lease addresses on the card's internal network from SUBNET",
    parseDhcpOption,
  )
  .option('--json', 'machine-readable output')
  .action(async (name: string, kind: string, o: AttachOptions & { cdrom?: string; json?: boolean }) =>
    withHost(!!o.json, async (c) => {
      if (kind === 'cdrom') {
        if (!o.iso) throw new VireoError('invalid_request', 'attach cdrom needs --iso PATH')
        const vm = await c.call('cdrom.change', {
          vm: name,
          path: o.iso,
          ...(o.cdrom ? { cdrom: o.cdrom } : {}),
        })
        if (o.json) printJson(vm)
        else console.log(`Inserted ${safe(o.iso)} into "${safe(vm.name)}".`)
        return
      }
      const { cdrom, json: _json, ...rest } = o
      if (cdrom !== undefined)
        throw new VireoError(
          'invalid_request',
          `--cdrom does not go with attaching a ${kind === 'disk' ? 'disk' : 'network card'}`,
        )
      const params = attachParams(name, kind as 'disk' | 'nic', rest)
      const before = o.json ? null : await c.call('vm.info', { vm: name })
      const vm = await c.call('device.attach', params)
      if (o.json || !before) printJson(vm)
      else console.log(`Attached ${addedDevice(before, vm)} to "${safe(vm.name)}".`)
    }),
  )

program
  .command('detach')
  .description(
    'remove a disk or a network card (see vireo info for ids), running or stopped; disk images stay on the host',
  )
  .argument('<name>', 'VM name or UUID')
  .argument('<device>', 'the device id, e.g. disk1 or net1')
  .option('--json', 'machine-readable output')
  .action(async (name: string, device: string, o: { json?: boolean }) =>
    withHost(!!o.json, async (c) => {
      const before = await c.call('vm.info', { vm: name })
      const vm = await c.call('device.detach', { vm: name, device })
      if (o.json) printJson(vm)
      else console.log(detachedMessage(before, device))
    }),
  )

program
  .command('eject')
  .description(
    "take the disc out of a VM's CD drive, running or stopped (the guest cannot hold the tray shut)",
  )
  .argument('<name>', 'VM name or UUID')
  .option('--cdrom <id>', 'which CD drive (default: the first)')
  .option('--json', 'machine-readable output')
  .action(async (name: string, o: { cdrom?: string; json?: boolean }) =>
    withHost(!!o.json, async (c) => {
      const vm = await c.call('cdrom.change', {
        vm: name,
        path: null,
        ...(o.cdrom ? { cdrom: o.cdrom } : {}),
      })
      if (o.json) printJson(vm)
      else console.log(`Ejected the disc of "${safe(vm.name)}".`)
    }),
  )

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
        .call('snapshot.take', { vm: name, name: snap, description: o.description ?? '', job: progress.job })
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
    const { isAlive } = await import('../host/process-alive.ts')
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

addMigrationCommands(program, host, withHost)

program.parseAsync(process.argv).catch((err: unknown) => {
  reportError(err, process.argv.includes('--json'))
  process.exitCode = 1
})
