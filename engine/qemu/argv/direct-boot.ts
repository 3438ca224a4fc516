// Direct kernel boot: QEMU loads the kernel (and initrd) itself and hands it the command line, as a
// netboot installer is started, instead of the firmware booting a disk or CD. The paths resolve
// against the VM's folder like disk paths; -append only goes with a kernel, so it is never given
// alone, and an empty command line is left out.
import type { VmConfig } from '../../api/vm-config.ts'
import type { LaunchContext } from './context.ts'
import { vmFilePath } from './paths.ts'

export function directBootArgs(config: VmConfig, ctx: LaunchContext): string[] {
  const b = config.directBoot
  if (!b) return []
  return [
    '-kernel',
    vmFilePath(ctx, b.kernel),
    ...(b.initrd ? ['-initrd', vmFilePath(ctx, b.initrd)] : []),
    ...(b.cmdline ? ['-append', b.cmdline] : []),
  ]
}
