// Paths as QEMU will see them. Pure string work: nothing here touches the file system.
import { isAbsolute, join, resolve } from 'node:path'
import { ArgvError, type LaunchContext } from './context.ts'

// sun_path is 108 bytes including the terminating NUL.
const SUN_PATH_MAX = 107

/** A disk or CD path from vm.json, made absolute against the VM's folder. */
export function vmFilePath(ctx: LaunchContext, p: string): string {
  return resolve(ctx.vmDir, p)
}

export function runtimeSocket(
  ctx: LaunchContext,
  name: 'qmp.sock' | 'serial.sock' | 'vnc.sock' | `${string}.net`,
): string {
  const path = join(ctx.runtimeDir, name)
  if (Buffer.byteLength(path) > SUN_PATH_MAX) {
    throw new ArgvError(
      `the runtime folder ${ctx.runtimeDir} is too long for a unix socket path (${path} is over ${SUN_PATH_MAX} bytes); use a shorter one`,
    )
  }
  return path
}

export function checkContextPaths(ctx: LaunchContext): void {
  for (const [what, p] of [
    ['VM folder', ctx.vmDir],
    ['runtime folder', ctx.runtimeDir],
  ] as const) {
    if (!isAbsolute(p)) throw new ArgvError(`the ${what} must be an absolute path, not "${p}"`)
  }
}
