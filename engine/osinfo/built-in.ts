// A few guest OSes Vireo knows without osinfo-db: used where osinfo-db is not installed, and for
// releases newer than the installed osinfo-db (Debian's 2022 osinfo-db predates Debian 12).
// Facts as osinfo-db states them for the same OS family, or as the vendor documents them.
import type { OsRecord, Resources } from './os-record.ts'

const GiB = 2 ** 30
const res = (ramMiB: number | null, storageGiB: number | null, cpus: number | null = null): Resources => ({
  ramMiB,
  storageBytes: storageGiB === null ? null : storageGiB * GiB,
  cpus,
})

const linuxLike = (
  id: string,
  name: string,
  releaseDate: string,
  media: OsRecord['media'],
  min: Resources,
  rec: Resources,
): OsRecord => ({
  id,
  name,
  family: 'linux',
  releaseDate,
  media,
  minimum: min,
  recommended: rec,
  virtio: { net: true, blk: true },
  firmware: { uefi: true, bios: true },
  source: 'built-in',
})

/** A Linux kernel found on its own or inside an ISO: virtio drivers have been in Linux since 2.6.25. */
export const GENERIC_LINUX: OsRecord = linuxLike(
  'linux',
  'Linux',
  '2008-04-16',
  [],
  res(256, 4, 1),
  res(1024, 16),
)

export const BUILT_IN_OSES: OsRecord[] = [
  linuxLike(
    'debian13',
    'Debian 13',
    '2025-08-09',
    [{ arch: 'x86_64', volumeId: '^Debian 13\\.\\d+\\.\\d+ amd64 (n|\\d+)$' }],
    res(1024, 10, 1),
    res(2048, 20),
  ),
  linuxLike(
    'debian12',
    'Debian 12',
    '2023-06-10',
    [
      { arch: 'x86_64', volumeId: '^Debian 12\\.\\d+\\.\\d+ amd64 (n|\\d+)$' },
      { arch: 'i686', volumeId: '^Debian 12\\.\\d+\\.\\d+ i386 (n|\\d+)$' },
    ],
    res(1024, 10, 1),
    res(2048, 20),
  ),
  linuxLike(
    'debian11',
    'Debian 11',
    '2021-08-14',
    [{ arch: 'x86_64', volumeId: '^Debian 11\\.\\d+\\.\\d+ amd64 (n|\\d+)$' }],
    res(1024, 10, 1),
    res(1024, 20),
  ),
  linuxLike(
    'ubuntu24.04',
    'Ubuntu 24.04 LTS',
    '2024-04-25',
    [{ arch: 'x86_64', volumeId: '^Ubuntu(-Server)? 24\\.04(\\.\\d+)? LTS amd64' }],
    res(2048, 10, 1),
    res(4096, 25),
  ),
  linuxLike(
    'ubuntu22.04',
    'Ubuntu 22.04 LTS',
    '2022-04-21',
    [{ arch: 'x86_64', volumeId: '^Ubuntu(-Server)? 22\\.04(\\.\\d+)? LTS amd64' }],
    res(2048, 10, 1),
    res(4096, 25),
  ),
  {
    id: 'win11',
    name: 'Microsoft Windows 11',
    family: 'winnt',
    releaseDate: '2021-10-05',
    media: [
      { arch: 'x86_64', volumeId: '^(J_)?(CCSN?A|C?CCOMA)_X64FREE?_', publisherId: 'MICROSOFT CORPORATION' },
    ],
    minimum: res(4096, 64, 2),
    recommended: res(4096, 64),
    // Windows brings no virtio drivers of its own (they come separately, as virtio-win).
    virtio: { net: false, blk: false },
    firmware: { uefi: true, bios: false },
    source: 'built-in',
  },
  {
    id: 'win10',
    name: 'Microsoft Windows 10',
    family: 'winnt',
    releaseDate: '2015-07-29',
    media: [{ arch: 'x86_64', volumeId: '(J_)?CENN?A_X64FREV_', publisherId: 'MICROSOFT CORPORATION' }],
    minimum: res(2048, 20, 1),
    recommended: res(2048, 40),
    virtio: { net: false, blk: false },
    firmware: { uefi: true, bios: true },
    source: 'built-in',
  },
  {
    id: 'freedos1.3',
    name: 'FreeDOS 1.3',
    family: 'msdos',
    releaseDate: '2022-02-20',
    media: [{ arch: 'x86_64', volumeId: '^FD13' }],
    minimum: res(32, 0.25, 1),
    recommended: res(64, 0.5),
    virtio: { net: false, blk: false },
    firmware: { uefi: false, bios: true },
    source: 'built-in',
  },
  {
    // Not an OS but network boot firmware on a CD; it drives virtio-net (and e1000, rtl8139) itself.
    id: 'ipxe',
    name: 'iPXE network boot firmware',
    family: null,
    releaseDate: null,
    media: [{ arch: 'x86_64', applicationId: '^IPXE\\b' }],
    minimum: res(64, null, 1),
    recommended: res(256, null),
    virtio: { net: true, blk: false },
    firmware: { uefi: true, bios: true },
    source: 'built-in',
  },
]
