// QMP on a unix socket; `wait=off` so QEMU starts without a client and the engine can re-attach.
import type { LaunchContext } from './context.ts'
import { runtimeSocket } from './paths.ts'
import { qemuOpts } from './qemu-opts.ts'

export const QMP_CHARDEV_ID = 'qmp'

export function monitorArgs(ctx: LaunchContext): string[] {
  return [
    '-chardev',
    qemuOpts('socket', {
      id: QMP_CHARDEV_ID,
      path: runtimeSocket(ctx, 'qmp.sock'),
      server: 'on',
      wait: 'off',
    }),
    '-mon',
    `chardev=${QMP_CHARDEV_ID},mode=control`,
  ]
}
