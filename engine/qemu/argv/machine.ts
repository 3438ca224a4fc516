// The machine type, the accelerator and the CPU model.
import type { VmConfig } from '../../api/vm-config.ts'
import { ArgvError, type Accelerator, type LaunchContext } from './context.ts'
import { qemuOpts } from './qemu-opts.ts'

const VERSION_PREFIX = { q35: 'pc-q35-', pc: 'pc-i440fx-' } as const

/**
 * `host` passes the real CPU through where the accelerator can (KVM, HVF). TCG and WHPX get the
 * named baseline qemu64, which every x86-64 guest runs on and which migrates between any hosts.
 */
export function cpuModel(accel: Accelerator): string {
  return accel === 'kvm' || accel === 'hvf' ? 'host' : 'qemu64'
}

/** `extraProps` are machine properties other families need (the pflash nodes of UEFI). */
export function machineArgs(
  config: VmConfig,
  ctx: LaunchContext,
  extraProps: Record<string, string>,
): string[] {
  const { type, version } = config.machine
  if (!version.startsWith(VERSION_PREFIX[type])) {
    throw new ArgvError(
      `the machine type ${version} does not match the chosen chipset ${type} (expected ${VERSION_PREFIX[type]}<version>)`,
    )
  }
  if (config.accelerator === 'tcg' && ctx.accelerator !== 'tcg') {
    throw new ArgvError(
      `this VM is set to software emulation (tcg), but the launch asked for ${ctx.accelerator}`,
    )
  }
  return [
    '-machine',
    qemuOpts(version, extraProps),
    '-accel',
    ctx.accelerator,
    '-cpu',
    cpuModel(ctx.accelerator),
  ]
}
