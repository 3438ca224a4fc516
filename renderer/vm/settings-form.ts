// The settings dialog's rules, apart from the dialog so they can be tested alone: the form made from
// a VM, the errors and advice per field, and the vm.update params holding only what changed.
import { UpdateVmParams, type VmInfo } from '../../engine/api/rpc.ts'
import { VmName, type BootDevice } from '../../engine/api/vm-config.ts'
import {
  CPUS_MAX,
  MEMORY_MAX_MIB,
  MEMORY_MIN_MIB,
  sentence,
  UEFI_MIN_MIB,
  wholeNumber,
} from '../library/new-vm-form.ts'

export interface BootEntry {
  device: BootDevice
  enabled: boolean
}

export interface SettingsForm {
  name: string
  cpus: string
  memoryMiB: string
  firmware: 'bios' | 'uefi'
  /** Every boot device, in order; the disabled ones are left out of the boot order. */
  boot: BootEntry[]
}

export type SettingsField = keyof SettingsForm

export const BOOT_LABELS: Record<BootDevice, string> = {
  disk: 'Hard disk',
  cdrom: 'CD/DVD',
  network: 'Network (PXE)',
}

const ALL_BOOT: BootDevice[] = ['disk', 'cdrom', 'network']

export function formFromVm(vm: VmInfo): SettingsForm {
  const order = vm.config.bootOrder
  return {
    name: vm.name,
    cpus: String(vm.config.cpus),
    memoryMiB: String(vm.config.memoryMiB),
    firmware: vm.config.firmware,
    boot: [
      ...order.map((device) => ({ device, enabled: true })),
      ...ALL_BOOT.filter((d) => !order.includes(d)).map((device) => ({ device, enabled: false })),
    ],
  }
}

/** Moves a boot entry one place up (-1) or down (+1). */
export function moveBoot(boot: BootEntry[], index: number, by: -1 | 1): BootEntry[] {
  const to = index + by
  if (to < 0 || to >= boot.length) return boot
  const next = [...boot]
  const [entry] = next.splice(index, 1)
  next.splice(to, 0, entry!)
  return next
}

export interface SettingsValidation {
  errors: Partial<Record<SettingsField, string>>
  warnings: Partial<Record<SettingsField, string>>
  /** Only the fields that changed; null while something is wrong. */
  params: UpdateVmParams | null
  /** Hardware cannot change while the VM runs (only the name can). */
  hardwareLocked: boolean
}

export function validateSettings(form: SettingsForm, vm: VmInfo): SettingsValidation {
  const errors: SettingsValidation['errors'] = {}
  const warnings: SettingsValidation['warnings'] = {}
  const hardwareLocked = vm.state !== 'stopped'

  const name = VmName.safeParse(form.name)
  if (!name.success)
    errors.name = form.name.trim()
      ? sentence(name.error.issues[0]?.message ?? 'invalid name')
      : 'Give the VM a name.'

  const cpus = wholeNumber(form.cpus)
  if (cpus === null || cpus < 1 || cpus > CPUS_MAX)
    errors.cpus = `CPUs is a whole number from 1 to ${CPUS_MAX}.`

  const memory = wholeNumber(form.memoryMiB)
  if (memory === null || memory < MEMORY_MIN_MIB || memory > MEMORY_MAX_MIB) {
    errors.memoryMiB = `Memory is a whole number of MiB from ${MEMORY_MIN_MIB} to ${MEMORY_MAX_MIB} (1 TiB).`
  } else if (form.firmware === 'uefi' && memory < UEFI_MIN_MIB) {
    warnings.memoryMiB = `UEFI guests need at least ${UEFI_MIN_MIB} MiB: with less, GRUB stops with “out of memory”.`
  }

  const bootOrder = form.boot.filter((b) => b.enabled).map((b) => b.device)
  if (bootOrder.length === 0) errors.boot = 'Choose at least one device to boot from.'
  else if (form.firmware !== vm.config.firmware && vm.config.disks.length > 0) {
    warnings.firmware =
      'An installed OS boots with the firmware it was installed under; it may not start after the switch.'
  }

  if (Object.keys(errors).length > 0 || !name.success || cpus === null || memory === null) {
    return { errors, warnings, params: null, hardwareLocked }
  }
  const c = vm.config
  const changed = {
    ...(name.data !== vm.name ? { name: name.data } : {}),
    ...(cpus !== c.cpus ? { cpus } : {}),
    ...(memory !== c.memoryMiB ? { memoryMiB: memory } : {}),
    ...(form.firmware !== c.firmware ? { firmware: form.firmware } : {}),
    ...(bootOrder.join() !== c.bootOrder.join() ? { bootOrder } : {}),
  }
  const parsed = UpdateVmParams.safeParse({ vm: vm.id, ...changed })
  if (!parsed.success) {
    return {
      errors: { name: sentence(parsed.error.issues[0]?.message ?? 'invalid') },
      warnings,
      params: null,
      hardwareLocked,
    }
  }
  return { errors, warnings, params: parsed.data, hardwareLocked }
}

/** Whether params change anything beyond the VM's id. */
export function hasChanges(params: UpdateVmParams | null): boolean {
  return params !== null && Object.keys(params).length > 1
}
