// A paravirtual entropy source, so guests do not stall at boot waiting for randomness.
import type { VmConfig } from '../../api/vm-config.ts'
import type { DeviceJson, ObjectJson } from './json.ts'
import { fixedAddress } from './pcie.ts'

export const RNG_OBJECT_ID = 'rng0'
export const RNG_DEVICE_ID = 'rng'

export function rngParts(config: VmConfig): { object: ObjectJson; device: DeviceJson } | null {
  if (!config.rng) return null
  return {
    object: { 'qom-type': 'rng-random', id: RNG_OBJECT_ID, filename: '/dev/urandom' },
    device: {
      driver: 'virtio-rng-pci',
      id: RNG_DEVICE_ID,
      rng: RNG_OBJECT_ID,
      ...fixedAddress(config, 'rng'),
    },
  }
}
