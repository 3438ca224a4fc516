// Pointer input. The PS/2 keyboard and mouse are built into both machines; the USB tablet adds an
// absolute pointer, so the guest cursor follows the canvas without grabbing or drift.
import type { VmConfig } from '../../api/vm-config.ts'
import type { DeviceJson } from './json.ts'
import { fixedAddress } from './pcie.ts'

export const XHCI_ID = 'xhci'
export const TABLET_ID = 'tablet'

/** Nothing without a graphics card: there is no screen to point at. */
export function inputDevices(config: VmConfig): DeviceJson[] {
  if (config.display.adapter === 'none') return []
  return [
    { driver: 'qemu-xhci', id: XHCI_ID, ...fixedAddress(config, 'xhci') },
    { driver: 'usb-tablet', id: TABLET_ID, bus: `${XHCI_ID}.0` },
  ]
}
