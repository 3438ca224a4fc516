// The QEMU command line of a VM: a pure function of its config and the launch context. Nothing
// here reads a file, probes the host or asks QEMU: probing happens before, in engine/qemu.
// Each device family has its own module, and each device is one typed JSON object that the
// hot-plug code can send over QMP as it is.
import type { VmConfig } from '../../api/vm-config.ts'
import { pcAhciController } from './ata-ports.ts'
import { cdromDevices } from './cdrom.ts'
import type { LaunchContext } from './context.ts'
import { cpuMemoryArgs } from './cpu-memory.ts'
import { directBootArgs } from './direct-boot.ts'
import { diskDevices } from './disks.ts'
import { displayArgs, displayDevice } from './display.ts'
import { firmwareParts } from './firmware.ts'
import { checkIds } from './ids.ts'
import { inputDevices } from './input.ts'
import { blockdevArgs, deviceArg, netdevArg, objectArg, type DeviceJson } from './json.ts'
import { machineArgs } from './machine.ts'
import { monitorArgs } from './monitor.ts'
import { nicDevices } from './nic.ts'
import { checkContextPaths } from './paths.ts'
import { checkPlacements, rootPortDevices } from './pcie.ts'
import { rngParts } from './rng.ts'
import { serialArgs } from './serial.ts'
import { topLevelArgs } from './top-level.ts'

export { ArgvError, type Accelerator, type ChainLink, type LaunchContext } from './context.ts'
export { qemuOptValue } from './qemu-opts.ts'
export { shellQuote } from './shell-quote.ts'
export type { BlockdevJson, DeviceJson, NetdevJson, ObjectJson } from './json.ts'
export { qemuProcessName } from './top-level.ts'
export { diskDevices, diskBlockdevs, iothreadId, scsiControllerId, type DiskDevices } from './disks.ts'
export { cdromDevices, cdromMediumBlockdevs, type CdromDevices } from './cdrom.ts'
export { internalNicSocketName, nicDevices, nicNetdev, nicsWithLinkDown, type NicDevices } from './nic.ts'
export { rootPortDevices } from './pcie.ts'
export { bootIndexes } from './boot.ts'

/** The arguments after the binary's name (ctx.qemuBinary is what to spawn them with). */
export function buildQemuArgv(config: VmConfig, ctx: LaunchContext): string[] {
  checkContextPaths(ctx)
  checkPlacements(config)
  checkIds(config)
  const firmware = firmwareParts(config, ctx)
  const devices = (list: (DeviceJson | null)[]) => list.flatMap((d) => (d ? deviceArg(d) : []))
  const rng = rngParts(config)
  return [
    ...topLevelArgs(config, ctx),
    ...machineArgs(config, ctx, firmware.machineProps),
    ...cpuMemoryArgs(config),
    ...directBootArgs(config, ctx),
    ...blockdevArgs(firmware.blockdevs),
    ...monitorArgs(ctx),
    ...serialArgs(ctx),
    ...displayArgs(config, ctx),
    // Root ports before the devices that plug into them.
    ...devices(rootPortDevices(config)),
    ...devices([displayDevice(config), ...inputDevices(config), pcAhciController(config)]),
    ...config.disks.flatMap((disk) => {
      const d = diskDevices(config, disk, ctx)
      return [
        ...(d.iothread ? objectArg(d.iothread) : []),
        ...blockdevArgs(d.blockdevs),
        ...devices([d.controller, d.device]),
      ]
    }),
    ...config.cdroms.flatMap((cd) => {
      const d = cdromDevices(config, cd, ctx)
      return [...blockdevArgs(d.blockdevs), ...deviceArg(d.device)]
    }),
    ...config.nics.flatMap((nic) => {
      const d = nicDevices(config, nic, ctx)
      return [...(d.netdev ? netdevArg(d.netdev) : []), ...deviceArg(d.device)]
    }),
    ...(rng ? [...objectArg(rng.object), ...deviceArg(rng.device)] : []),
  ]
}
