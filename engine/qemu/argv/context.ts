// What the builder needs beyond the VM's config: facts about this host and this launch, decided
// by the caller (binary discovery and the accelerator probe run elsewhere, never while building).
import { VireoError } from '../../api/errors.ts'

export type Accelerator = 'kvm' | 'tcg' | 'hvf' | 'whpx'

export interface LaunchContext {
  qemuBinary: string
  /** Absolute; relative disk and CD paths resolve against it. */
  vmDir: string
  /** Short dir for the unix sockets (qmp.sock, serial.sock, vnc.sock): sun_path holds 108 bytes. */
  runtimeDir: string
  accelerator: Accelerator
  /** OVMF: `code` is the raw read-only image; `vars` the per-VM qcow2 copy (raw vars break snapshot-save). */
  firmware?: { code: string; vars: string }
  /** This QEMU was built with seccomp. */
  sandbox: boolean
  /**
   * Each disk's image chain as the engine walked and checked it, top first, by disk id (and
   * `nvram` for UEFI variables): rendered node by node, so QEMU never opens a backing file by a
   * name it finds in an image. Without one, a disk is opened as a single node with its header's
   * backing name followed (golden tests and tools that build argv without touching files).
   */
  chains?: Readonly<Record<string, readonly ChainLink[]>>
}

/** One image of a chain: its file, its format, and a qcow2's external data file. */
export interface ChainLink {
  path: string
  format: 'qcow2' | 'raw' | 'vmdk' | 'vdi' | 'vhdx' | 'vpc'
  dataFile: string | null
}

/** A config QEMU would refuse, or would run wrongly, said in words a user can act on. */
export class ArgvError extends VireoError {
  constructor(message: string) {
    super('invalid_request', message)
    this.name = 'ArgvError'
  }
}
