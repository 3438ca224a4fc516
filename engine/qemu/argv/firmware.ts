// SeaBIOS is the machine's built-in default and needs nothing. UEFI is OVMF on two pflash chips:
// the shared code image read-only, and the VM's own variable store, in qcow2 because a raw one
// makes snapshot-save refuse the whole VM ("does not support snapshots").
import type { VmConfig } from '../../api/vm-config.ts'
import { ArgvError, type ChainLink, type LaunchContext } from './context.ts'
import { chainBlockdevs } from './disks.ts'
import type { BlockdevJson } from './json.ts'

export const FIRMWARE_NODES = {
  code: 'ovmf-code',
  codeFile: 'ovmf-code-file',
  vars: 'ovmf-vars',
  varsFile: 'ovmf-vars-file',
} as const

/** The key of the UEFI variable store's chain in LaunchContext.chains. */
export const NVRAM_CHAIN = 'nvram'

function varsBlockdevs(vars: string, chain: readonly ChainLink[] | undefined): BlockdevJson[] {
  const n = FIRMWARE_NODES
  if (chain) return chainBlockdevs(n.vars, chain, { readOnly: false })
  return [
    { driver: 'file', 'node-name': n.varsFile, filename: vars, 'read-only': false },
    { driver: 'qcow2', 'node-name': n.vars, file: n.varsFile, 'read-only': false },
  ]
}

export interface FirmwareParts {
  blockdevs: BlockdevJson[]
  machineProps: Record<string, string>
}

export function firmwareParts(config: VmConfig, ctx: LaunchContext): FirmwareParts {
  if (config.firmware === 'bios') return { blockdevs: [], machineProps: {} }
  if (!ctx.firmware) {
    throw new ArgvError(
      'this VM boots with UEFI, but no OVMF firmware files were given (install the ovmf package)',
    )
  }
  const n = FIRMWARE_NODES
  return {
    blockdevs: [
      { driver: 'file', 'node-name': n.codeFile, filename: ctx.firmware.code, 'read-only': true },
      { driver: 'raw', 'node-name': n.code, file: n.codeFile, 'read-only': true },
      ...varsBlockdevs(ctx.firmware.vars, ctx.chains?.[NVRAM_CHAIN]),
    ],
    machineProps: { pflash0: n.code, pflash1: n.vars },
  }
}
