// The New VM form's rules, apart from the dialog so they can be tested alone: what the user typed in,
// the errors to show beside each field, and the vm.create params when everything is right.
import { CreateVmParams, SizeString } from '../../engine/api/rpc.ts'
import { VmName } from '../../engine/api/vm-config.ts'

export interface NewVmForm {
  name: string
  /** Path of an install ISO on the engine's host; empty for none. */
  iso: string
  memoryMiB: string
  cpus: string
  /** Size of a new empty disk in GiB; empty or 0 for no disk. */
  diskGiB: string
  firmware: 'bios' | 'uefi'
}

export type NewVmField = keyof NewVmForm

export const MEMORY_MIN_MIB = 16
export const MEMORY_MAX_MIB = 1024 * 1024
export const CPUS_MAX = 64
export const DISK_MAX_GIB = 64 * 1024
/** Below this, Debian's GRUB under OVMF stops with "out of memory" (DESIGN.md, QEMU facts). */
export const UEFI_MIN_MIB = 512

export const DEFAULT_FORM: NewVmForm = {
  name: '',
  iso: '',
  memoryMiB: '2048',
  cpus: '1',
  diskGiB: '16',
  firmware: 'bios',
}

export interface NewVmValidation {
  errors: Partial<Record<NewVmField, string>>
  /** Advice that does not block creating the VM. */
  warnings: Partial<Record<NewVmField, string>>
  params: CreateVmParams | null
}

export function sentence(s: string): string {
  const t = s.trim()
  return t ? t[0]?.toUpperCase() + t.slice(1) + (/[.!?]$/.test(t) ? '' : '.') : t
}

export function wholeNumber(s: string): number | null {
  const t = s.trim()
  return /^\d+$/.test(t) ? Number(t) : null
}

/** An absolute path on Linux, macOS or Windows. */
export function looksAbsolute(path: string): boolean {
  return /^(\/|[A-Za-z]:[\\/]|\\\\)/.test(path)
}

export function validateNewVm(form: NewVmForm): NewVmValidation {
  const errors: NewVmValidation['errors'] = {}
  const warnings: NewVmValidation['warnings'] = {}

  const name = VmName.safeParse(form.name)
  if (!name.success)
    errors.name = form.name.trim()
      ? sentence(name.error.issues[0]?.message ?? 'invalid name')
      : 'Give the VM a name.'

  const iso = form.iso.trim()
  if (iso && !looksAbsolute(iso))
    errors.iso = 'Give the full path of the ISO on the host, e.g. /srv/iso/debian.iso.'
  else if (iso && !/\.iso$/i.test(iso))
    warnings.iso = 'This file does not end in .iso; it is attached as a CD anyway.'

  const memory = wholeNumber(form.memoryMiB)
  if (memory === null || memory < MEMORY_MIN_MIB || memory > MEMORY_MAX_MIB) {
    errors.memoryMiB = `Memory is a whole number of MiB from ${MEMORY_MIN_MIB} to ${MEMORY_MAX_MIB} (1 TiB).`
  } else if (form.firmware === 'uefi' && memory < UEFI_MIN_MIB) {
    warnings.memoryMiB = `UEFI guests need at least ${UEFI_MIN_MIB} MiB: with less, GRUB stops with “out of memory”.`
  }

  const cpus = wholeNumber(form.cpus)
  if (cpus === null || cpus < 1 || cpus > CPUS_MAX)
    errors.cpus = `CPUs is a whole number from 1 to ${CPUS_MAX}.`

  const diskText = form.diskGiB.trim()
  let diskSize: string | undefined
  if (diskText !== '' && diskText !== '0') {
    const n = /^\d+(\.\d+)?$/.test(diskText) ? Number(diskText) : NaN
    if (!(n > 0 && n <= DISK_MAX_GIB))
      errors.diskGiB = `Disk size is a number of GiB up to ${DISK_MAX_GIB}, or empty for no disk.`
    else if (!SizeString.safeParse(`${diskText}G`).success) errors.diskGiB = 'Disk size is a number of GiB.'
    else diskSize = `${diskText}G`
  }
  if (!diskSize && !iso && !errors.diskGiB && !errors.iso) {
    warnings.diskGiB = 'Without a disk or an ISO this VM has nothing to boot.'
  }

  if (Object.keys(errors).length > 0 || !name.success || memory === null || cpus === null) {
    return { errors, warnings, params: null }
  }
  const parsed = CreateVmParams.safeParse({
    name: name.data,
    memoryMiB: memory,
    cpus,
    firmware: form.firmware,
    ...(iso ? { iso } : {}),
    ...(diskSize ? { diskSize } : {}),
  })
  if (!parsed.success)
    return {
      errors: { name: sentence(parsed.error.issues[0]?.message ?? 'invalid') },
      warnings,
      params: null,
    }
  return { errors, warnings, params: parsed.data }
}
