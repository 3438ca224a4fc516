// The New VM wizard's rules, apart from the dialog so they can be tested alone: what the user typed
// in, the defaults an inspected image recommends (with their reasons), the errors to show beside each
// field, and the vm.create params when everything is right.
import { CreateVmParams, SizeString, type DiskMode, type ImageInspection } from '../../engine/api/rpc.ts'
import { VmName, type DiskBus, type NicModel } from '../../engine/api/vm-config.ts'
import { parseSizeGiB } from './sizes.ts'

/** Where the VM comes from: an installer CD, a disk from elsewhere, an appliance, or nothing yet. */
export type NewVmSource = 'iso' | 'disk' | 'appliance' | 'empty'

export interface NewVmForm {
  source: NewVmSource
  /** The ISO, disk image or appliance on the engine's host (unused for `empty`). */
  path: string
  name: string
  memoryMiB: string
  cpus: string
  /** Size of a new empty disk in GiB; empty or 0 for no disk (ISO and empty sources). */
  diskGiB: string
  /** What to do with an existing disk image; '' lets the engine choose by format. */
  diskMode: DiskMode | ''
  firmware: 'bios' | 'uefi'
  nic: NicModel | 'none'
  diskBus: DiskBus
}

export type NewVmField = Exclude<keyof NewVmForm, 'source' | 'diskMode' | 'firmware' | 'nic' | 'diskBus'>

export const MEMORY_MIN_MIB = 16
export const MEMORY_MAX_MIB = 1024 * 1024
export const CPUS_MAX = 64
export const DISK_MAX_GIB = 64 * 1024
/** Below this, Debian's GRUB under OVMF stops with "out of memory" (DESIGN.md, QEMU facts). */
export const UEFI_MIN_MIB = 512

export const DEFAULT_FORM: NewVmForm = {
  source: 'iso',
  path: '',
  name: '',
  memoryMiB: '2048',
  cpus: '1',
  diskGiB: '16',
  diskMode: '',
  firmware: 'bios',
  nic: 'virtio-net',
  diskBus: 'virtio-blk',
}

export const SOURCE_LABELS: Record<NewVmSource, string> = {
  iso: 'Install from an ISO image',
  disk: 'Use an existing disk image',
  appliance: 'Import an appliance (OVA or OVF)',
  empty: 'Empty VM (add media later)',
}

/** The fields an inspection recommends, and why, by form field. */
export type Reasons = Partial<
  Record<'memoryMiB' | 'cpus' | 'diskGiB' | 'firmware' | 'nic' | 'diskBus', string>
>

/** The form with what the inspected image recommends filled in; the user can change each. */
export function applyInspection(
  form: NewVmForm,
  inspection: ImageInspection,
): { form: NewVmForm; reasons: Reasons } {
  const r = inspection.recommended
  const size = r.diskSize.value === null ? null : parseSizeGiB(r.diskSize.value)
  const suggestedName =
    inspection.appliance?.name ?? inspection.os?.name ?? baseName(inspection.path).replace(/\.[^.]+$/, '')
  return {
    form: {
      ...form,
      name: form.name.trim() ? form.name : suggestedName,
      memoryMiB: String(r.memoryMiB.value),
      cpus: String(r.cpus.value),
      diskGiB: form.source === 'iso' ? (size === null ? '' : String(size)) : form.diskGiB,
      firmware: r.firmware.value,
      nic: r.nic.value,
      diskBus: r.diskBus.value,
    },
    reasons: {
      memoryMiB: r.memoryMiB.reason,
      cpus: r.cpus.reason,
      diskGiB: r.diskSize.reason,
      firmware: r.firmware.reason,
      nic: r.nic.reason,
      diskBus: r.diskBus.reason,
    },
  }
}

function baseName(path: string): string {
  return path.split(/[\\/]/).pop() ?? path
}

const KIND_WORDS: Record<ImageInspection['kind'], string> = {
  iso: 'an ISO image',
  disk: 'a disk image',
  appliance: 'an appliance',
  kernel: 'a Linux kernel',
}

/** A file that is not what the chosen source expects, said before the engine is asked to use it. */
export function sourceMismatch(source: NewVmSource, inspection: ImageInspection): string | null {
  if (source === 'empty' || inspection.kind === source) return null
  // A hybrid ISO is a bootable disk image as well.
  if (source === 'disk' && inspection.kind === 'iso' && inspection.iso?.hybrid) return null
  const instead = inspection.kind === 'kernel' ? '' : ` Choose “${SOURCE_LABELS[inspection.kind]}” instead.`
  return `This file is ${KIND_WORDS[inspection.kind]}, not ${KIND_WORDS[source]}.${instead}`
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

  const path = form.source === 'empty' ? '' : form.path.trim()
  if (form.source !== 'empty' && !path) errors.path = 'Give the path of the file on the host.'
  else if (path && !looksAbsolute(path))
    errors.path = 'Give the full path of the file on the host, e.g. /srv/iso/debian.iso.'
  else if (form.source === 'iso' && path && !/\.iso$/i.test(path))
    warnings.path = 'This file does not end in .iso; it is attached as a CD anyway.'
  const iso = form.source === 'iso' ? path : ''
  const disk = form.source === 'disk' ? path : ''

  const memory = wholeNumber(form.memoryMiB)
  if (memory === null || memory < MEMORY_MIN_MIB || memory > MEMORY_MAX_MIB) {
    errors.memoryMiB = `Memory is a whole number of MiB from ${MEMORY_MIN_MIB} to ${MEMORY_MAX_MIB} (1 TiB).`
  } else if (form.firmware === 'uefi' && memory < UEFI_MIN_MIB) {
    warnings.memoryMiB = `UEFI guests need at least ${UEFI_MIN_MIB} MiB: with less, GRUB stops with “out of memory”.`
  }

  const cpus = wholeNumber(form.cpus)
  if (cpus === null || cpus < 1 || cpus > CPUS_MAX)
    errors.cpus = `CPUs is a whole number from 1 to ${CPUS_MAX}.`

  const diskText = form.source === 'disk' ? '' : form.diskGiB.trim()
  let diskSize: string | undefined
  if (diskText !== '' && diskText !== '0') {
    const n = /^\d+(\.\d+)?$/.test(diskText) ? Number(diskText) : NaN
    if (!(n > 0 && n <= DISK_MAX_GIB))
      errors.diskGiB = `Disk size is a number of GiB up to ${DISK_MAX_GIB}, or empty for no disk.`
    else if (!SizeString.safeParse(`${diskText}G`).success) errors.diskGiB = 'Disk size is a number of GiB.'
    else diskSize = `${diskText}G`
  }
  if (!diskSize && !path && !errors.diskGiB && !errors.path) {
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
    nic: form.nic,
    diskBus: form.diskBus,
    ...(iso ? { iso } : {}),
    ...(disk ? { disk, ...(form.diskMode ? { diskMode: form.diskMode } : {}) } : {}),
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
