// The device choices a user makes (card model, disk bus, cache mode), each with the one line that
// explains it. One list for the New VM wizard and the device dialogs, so both say the same thing.
import type { CacheMode, DiskBus, NicModel } from '../../engine/api/vm-config.ts'

export interface Choice<T extends string> {
  value: T
  label: string
  /** One line: what it is and when to pick it. */
  explain: string
}

export const NIC_CHOICES: Choice<NicModel>[] = [
  {
    value: 'virtio-net',
    label: 'virtio-net (paravirtual)',
    explain:
      'Fastest; needs virtio drivers in the guest (Linux has them, Windows needs the virtio-win drivers).',
  },
  {
    value: 'e1000',
    label: 'Intel e1000 (emulated)',
    explain: 'Works in nearly every guest without extra drivers.',
  },
  {
    value: 'e1000e',
    label: 'Intel e1000e (emulated)',
    explain: 'A newer Intel card; Windows 8 and later have its driver.',
  },
  { value: 'rtl8139', label: 'Realtek RTL8139 (emulated)', explain: 'For old guests; the slowest card.' },
  {
    value: 'vmxnet3',
    label: 'VMware vmxnet3',
    explain: 'For guests moved from VMware that carry its driver.',
  },
]

export const DISK_BUS_CHOICES: Choice<DiskBus>[] = [
  {
    value: 'virtio-blk',
    label: 'virtio-blk (paravirtual)',
    explain: 'Fastest; needs virtio drivers in the guest; can be hot-plugged.',
  },
  {
    value: 'virtio-scsi',
    label: 'virtio-scsi (paravirtual)',
    explain: 'Paravirtual SCSI: passes TRIM/UNMAP and many disks; needs virtio drivers.',
  },
  { value: 'nvme', label: 'NVMe', explain: 'Fast and emulated; modern guests have the driver built in.' },
  {
    value: 'sata',
    label: 'SATA (AHCI, emulated)',
    explain: 'Works in nearly every guest; cannot be hot-plugged.',
  },
  { value: 'ide', label: 'IDE (emulated)', explain: 'For very old guests; only on the pc machine type.' },
]

export const CACHE_CHOICES: Choice<CacheMode>[] = [
  {
    value: 'writeback',
    label: 'Write-back',
    explain: 'Fast; data is safe once the guest flushes, as on a real disk.',
  },
  { value: 'none', label: 'None (direct)', explain: 'Bypasses the host page cache; steady for busy guests.' },
  {
    value: 'writethrough',
    label: 'Write-through',
    explain: 'Every write reaches the host disk before it completes; slow.',
  },
  {
    value: 'unsafe',
    label: 'Unsafe',
    explain: 'Ignores flushes: fastest, but a host crash can lose or corrupt data.',
  },
]

export function explain<T extends string>(choices: Choice<T>[], value: T): string {
  return choices.find((c) => c.value === value)?.explain ?? ''
}
