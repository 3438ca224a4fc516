// Process-wide options: identity, a clean slate of devices, and the seccomp policy.
import type { VmConfig } from '../../api/vm-config.ts'
import type { LaunchContext } from './context.ts'
import { qemuOpts } from './qemu-opts.ts'

/**
 * The `process=` name: the thread name Linux shows in ps and top, which holds 15 bytes, so the
 * short id (the runtime dir's name) rather than the whole UUID. A re-attaching engine looks for it.
 */
export function qemuProcessName(vmId: string): string {
  return `vireo-${vmId.slice(0, 8)}`
}

const SANDBOX = 'on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny'

export function topLevelArgs(config: VmConfig, ctx: LaunchContext): string[] {
  return [
    '-name',
    qemuOpts(null, { guest: config.name, process: qemuProcessName(config.id) }),
    '-uuid',
    config.id,
    // Only the devices listed here: no default NIC, VGA, CD, floppy, serial or monitor, and no
    // qemu.conf from /etc changing the machine behind the config's back.
    '-nodefaults',
    '-no-user-config',
    ...(ctx.sandbox ? ['-sandbox', SANDBOX] : []),
    '-msg',
    'timestamp=on',
  ]
}
