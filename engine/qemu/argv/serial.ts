// The guest's first serial port on a unix socket the engine holds open, mirrored by QEMU into
// logs/serial.log from the start of each run, so output printed before any client attached is kept.
import { join } from 'node:path'
import type { LaunchContext } from './context.ts'
import { runtimeSocket } from './paths.ts'
import { qemuOpts } from './qemu-opts.ts'

export const SERIAL_CHARDEV_ID = 'serial0'

export function serialArgs(ctx: LaunchContext): string[] {
  return [
    '-chardev',
    qemuOpts('socket', {
      id: SERIAL_CHARDEV_ID,
      path: runtimeSocket(ctx, 'serial.sock'),
      server: 'on',
      wait: 'off',
      logfile: join(ctx.vmDir, 'logs', 'serial.log'),
      logappend: 'off',
    }),
    '-serial',
    `chardev:${SERIAL_CHARDEV_ID}`,
  ]
}
