// vireo nic, disk …, attach, detach and eject: a VM's network cards, disks and CD drive, running or
// stopped. The disk commands (disk-commands.ts) are registered from here so that the help lists them
// between nic and attach, as it always has.
import { Argument, Option } from 'commander'
import { VireoError } from '../api/errors.ts'
import { DeviceKind, type UpdateNicParams } from '../api/rpc.ts'
import { NicModel, type PortForward } from '../api/vm-config.ts'
import {
  ATTACH_BUSES,
  attachedDevice,
  attachParams,
  detachedMessage,
  type AttachOptions,
} from './attach-options.ts'
import { addDiskCommands } from './disk-commands.ts'
import { networkChange, parseDhcpOption, parseNetworkOption, type NetworkChoice } from './network-option.ts'
import { printJson } from './output.ts'
import { pathList, pathOf, portForward, sizeOf } from './option-values.ts'
import { safe } from './plain-text.ts'
import type { Cli } from './program.ts'

export function addDeviceCommands(cli: Cli): void {
  const { program, withHost } = cli
  program
    .command('nic')
    .description(
      'change a network card: model, MAC, network and port forwards (while stopped), cable (any time)',
    )
    .argument('<name>', 'VM name or UUID')
    .argument('<nic>', 'the card id (see vireo info), e.g. net0')
    .addOption(new Option('--model <model>', 'card model').choices(NicModel.options))
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

  addDiskCommands(cli)

  program
    .command('attach')
    .description(
      'attach a disk or a network card to a VM, running (hot-plug) or stopped, or put a disc in the CD drive',
    )
    .argument('<name>', 'VM name or UUID')
    .addArgument(new Argument('<kind>', 'what to attach').choices([...DeviceKind.options, 'cdrom']))
    .option('--iso <path>', 'cdrom: the disc image to insert', pathOf('--iso'))
    .option('--cdrom <id>', 'cdrom: which CD drive (default: the first)')
    .option(
      '--size <size>',
      'disk: a new empty qcow2 of this size in the VM folder, e.g. 8G',
      sizeOf('--size'),
    )
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
      new Option('--model <model>', 'nic: card model (default virtio-net)').choices(NicModel.options),
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
        const params = attachParams(name, kind as DeviceKind, rest)
        const attached = await c.call('device.attach', params)
        if (o.json) printJson(attached)
        else console.log(`Attached ${attachedDevice(attached.device)} to "${safe(attached.vm.name)}".`)
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
}
