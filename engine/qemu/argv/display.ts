// The graphics card and the VNC server on a unix socket, which the engine relays to the canvas.
// There is never a local window (`-display none`), also when the VM has no graphics card: QEMU
// would otherwise open one on a desktop host.
import type { VmConfig } from '../../api/vm-config.ts'
import type { LaunchContext } from './context.ts'
import type { DeviceJson } from './json.ts'
import { runtimeSocket } from './paths.ts'
import { fixedAddress } from './pcie.ts'
import { qemuOptValue } from './qemu-opts.ts'

export const DISPLAY_DRIVERS = { std: 'VGA', virtio: 'virtio-vga', qxl: 'qxl-vga' } as const
export const DISPLAY_DEVICE_ID = 'video0'

export function displayDevice(config: VmConfig): DeviceJson | null {
  const adapter = config.display.adapter
  if (adapter === 'none') return null
  return { driver: DISPLAY_DRIVERS[adapter], id: DISPLAY_DEVICE_ID, ...fixedAddress(config, 'display') }
}

export function displayArgs(config: VmConfig, ctx: LaunchContext): string[] {
  const vnc =
    config.display.adapter === 'none' ? [] : ['-vnc', qemuOptValue(`unix:${runtimeSocket(ctx, 'vnc.sock')}`)]
  return ['-display', 'none', ...vnc]
}
