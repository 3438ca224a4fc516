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
}

/** A config QEMU would refuse, or would run wrongly, said in words a user can act on. */
export class ArgvError extends VireoError {
  constructor(message: string) {
    super('invalid_request', message)
    this.name = 'ArgvError'
  }
}
