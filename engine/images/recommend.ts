// Good hardware for a new VM from what an image is and which OS it holds, each value with the one
// sentence a user is shown. A pure function: the OS record, the image's facts and the host's core
// count in, Recommended out.
import type { Recommended } from '../api/rpc.ts'
import type { OsRecord } from '../osinfo/os-record.ts'

export interface ImageFacts {
  kind: 'iso' | 'disk' | 'appliance' | 'kernel'
  /** El Torito entries of an ISO; null for anything else. */
  bootable: { bios: boolean; uefi: boolean } | null
}

export interface HostFacts {
  cpus: number
}

/** UEFI (OVMF) with Debian's GRUB stops with "out of memory" at 256 MiB on these machines; 512 boots. */
export const UEFI_MIN_MIB = 512
const GENERIC_MIB = 1024
const GENERIC_DISK = '16G'
/** AHCI drivers arrived with Windows Vista (2006-11) and Linux 2.6.19; older guests get IDE. */
const AHCI_SINCE = '2006-11-01'

function sizeString(bytes: number): string {
  const gib = bytes / 2 ** 30
  return Number.isInteger(gib) ? `${gib}G` : `${Math.ceil(bytes / 2 ** 20)}M`
}

const whose = (os: OsRecord) => (os.source === 'osinfo-db' ? 'osinfo-db' : "Vireo's built-in table")

export function recommend(os: OsRecord | null, image: ImageFacts, host: HostFacts): Recommended {
  const firmware = recommendFirmware(os, image)
  return {
    memoryMiB: recommendMemory(os, firmware.value),
    diskSize: recommendDisk(os, image),
    firmware,
    nic: os?.virtio.net
      ? {
          value: 'virtio-net',
          reason: `${os.name} has a virtio-net driver (${whose(os)}): paravirtual, the fastest card`,
        }
      : {
          value: 'e1000',
          reason: os
            ? `${os.name} has no virtio-net driver of its own (${whose(os)} lists none), so an emulated Intel e1000, which nearly every OS drives`
            : 'the OS is unknown, so no virtio driver can be assumed: an emulated Intel e1000, which nearly every OS drives',
        },
    diskBus: recommendBus(os),
    cpus: recommendCpus(os, host),
  }
}

function recommendFirmware(os: OsRecord | null, image: ImageFacts): Recommended['firmware'] {
  if (os && !os.firmware.bios)
    return { value: 'uefi', reason: `${os.name} boots only with UEFI (${whose(os)})` }
  const b = image.bootable
  if (b?.uefi && !b.bios) return { value: 'uefi', reason: 'the CD has only a UEFI boot entry, no BIOS one' }
  const lighter = `BIOS starts faster and needs less memory (UEFI guests need at least ${UEFI_MIN_MIB} MiB here)`
  switch (image.kind) {
    case 'iso':
      if (!b?.bios)
        return { value: 'bios', reason: `the CD has no boot entry at all (a data CD?); ${lighter}` }
      return {
        value: 'bios',
        reason: b.uefi
          ? `the CD boots with BIOS and with UEFI; ${lighter}`
          : 'the CD has only a BIOS boot entry, no UEFI one',
      }
    case 'kernel':
      return {
        value: 'bios',
        reason: `QEMU loads a directly booted kernel itself, so no UEFI is needed; ${lighter}`,
      }
    case 'disk':
      return {
        value: 'bios',
        reason:
          'a disk image does not say which firmware installed it; BIOS is the usual one — choose UEFI if it does not boot',
      }
    case 'appliance':
      return { value: 'bios', reason: "the appliance's descriptor decides; BIOS unless it says UEFI" }
  }
}

function recommendMemory(os: OsRecord | null, firmware: 'bios' | 'uefi'): Recommended['memoryMiB'] {
  const rec = os?.recommended.ramMiB ?? null
  const min = os?.minimum.ramMiB ?? null
  let value: number
  let reason: string
  if (!os || (rec === null && min === null)) {
    value = GENERIC_MIB
    reason = os
      ? `${whose(os)} states no memory for ${os.name}; ${GENERIC_MIB} MiB runs most installers`
      : `the OS is unknown; ${GENERIC_MIB} MiB runs most installers and live systems`
  } else if (min !== null && (rec === null || min > rec)) {
    value = min
    reason = `the least ${os.name} needs (${whose(os)})`
  } else {
    value = rec!
    reason = `what ${whose(os)} recommends for ${os.name}`
  }
  if (firmware === 'uefi' && value < UEFI_MIN_MIB) {
    value = UEFI_MIN_MIB
    reason = `${UEFI_MIN_MIB} MiB, because UEFI guests need it here: GRUB under OVMF runs out of memory with 256 MiB`
  }
  return { value, reason }
}

function recommendDisk(os: OsRecord | null, image: ImageFacts): Recommended['diskSize'] {
  switch (image.kind) {
    case 'disk':
      return { value: null, reason: 'the image itself is the disk; no new one is needed' }
    case 'appliance':
      return { value: null, reason: 'the appliance brings its own disks' }
    case 'kernel':
      return {
        value: null,
        reason:
          'a directly booted kernel runs without a disk; add one if it is an installer that needs a target',
      }
    case 'iso':
      break
  }
  if (!os)
    return { value: GENERIC_DISK, reason: `the OS is unknown; ${GENERIC_DISK} holds most installations` }
  const bytes = os.recommended.storageBytes ?? os.minimum.storageBytes
  if (bytes === null) {
    return os.family === null
      ? { value: null, reason: `${os.name} keeps nothing on a disk` }
      : {
          value: GENERIC_DISK,
          reason: `${whose(os)} states no disk size for ${os.name}; ${GENERIC_DISK} holds most installations`,
        }
  }
  const which = os.recommended.storageBytes !== null ? 'recommends' : 'gives as the minimum'
  return { value: sizeString(bytes), reason: `what ${whose(os)} ${which} for ${os.name}` }
}

function recommendBus(os: OsRecord | null): Recommended['diskBus'] {
  if (os?.virtio.blk)
    return {
      value: 'virtio-blk',
      reason: `${os.name} has a virtio-blk driver (${whose(os)}): paravirtual, the fastest disk`,
    }
  if (os && (os.family === 'msdos' || (os.releaseDate !== null && os.releaseDate < AHCI_SINCE)))
    return {
      value: 'ide',
      reason: `${os.name} predates AHCI drivers and has no virtio one: IDE, which it drives`,
    }
  return {
    value: 'sata',
    reason: os
      ? `${os.name} has no virtio-blk driver of its own (${whose(os)} lists none): SATA (AHCI), which it drives without extra drivers`
      : 'the OS is unknown, so no virtio driver can be assumed: SATA (AHCI), which every OS since 2006 drives',
  }
}

function recommendCpus(os: OsRecord | null, host: HostFacts): Recommended['cpus'] {
  const share = Math.max(1, Math.min(2, Math.floor(host.cpus / 2)))
  const need = os?.minimum.cpus ?? 1
  if (need > share)
    return { value: Math.min(need, 64), reason: `the least ${os!.name} needs (${whose(os!)})` }
  return {
    value: share,
    reason: `half of this host's ${host.cpus} cores (at most 2), so the host stays responsive`,
  }
}
