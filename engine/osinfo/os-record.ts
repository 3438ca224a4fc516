// One guest OS as Vireo uses it: what identifies its install media, what it needs, and which
// paravirtual devices and firmware it supports, with inheritance already resolved. osinfo-db's
// thousands of XML files boil down to a list of these (cached as JSON); the built-in table is the same.

/** The fields of an ISO's primary volume descriptor that osinfo-db matches, each a regex source. */
export interface MediaMatch {
  arch: string
  volumeId?: string
  systemId?: string
  publisherId?: string
  applicationId?: string
}

export interface Resources {
  ramMiB: number | null
  storageBytes: number | null
  cpus: number | null
}

export interface OsRecord {
  /** osinfo-db's short id (debian11, win10, …) or a built-in one. */
  id: string
  name: string
  family: string | null
  releaseDate: string | null
  media: MediaMatch[]
  minimum: Resources
  recommended: Resources
  /** The OS ships drivers for virtio-net and virtio-blk (legacy or modern PCI ids). */
  virtio: { net: boolean; blk: boolean }
  /** UEFI supported; BIOS false only when the OS says it cannot boot with it (Windows 11). */
  firmware: { uefi: boolean; bios: boolean }
  source: 'osinfo-db' | 'built-in'
}

/** PCI ids of virtio devices, legacy (transitional) and modern, as osinfo-db names devices. */
export const VIRTIO_NET_IDS = ['http://pcisig.com/pci/1af4/1000', 'http://pcisig.com/pci/1af4/1041']
export const VIRTIO_BLK_IDS = ['http://pcisig.com/pci/1af4/1001', 'http://pcisig.com/pci/1af4/1042']
