// A Linux kernel as the boot protocol lays it out (bzImage): "HdrS" at 0x202, and the offset of a
// version string at 0x20e, counted from 0x200. Enough to tell a kernel from any other file.
export interface LinuxKernel {
  /** The first word of the kernel's version string, e.g. 6.1.0-18-amd64; null when it has none. */
  version: string | null
  /** The whole version string, e.g. "6.1.0-18-amd64 (debian-kernel@lists.debian.org) #1 SMP …". */
  banner: string | null
}

/** How much of a file to read to see its header and, in every kernel seen, its version string. */
export const KERNEL_HEAD_BYTES = 64 * 1024

export function parseLinuxKernel(head: Buffer): LinuxKernel | null {
  if (head.length < 0x210 || head.toString('latin1', 0x202, 0x206) !== 'HdrS') return null
  const at = head.readUInt16LE(0x20e) + 0x200
  if (at <= 0x200 || at >= head.length) return { version: null, banner: null }
  const end = head.indexOf(0, at)
  const banner = head.toString('latin1', at, end < 0 ? Math.min(head.length, at + 256) : end).trim()
  if (!/^\d+\.\d+/.test(banner)) return { version: null, banner: null }
  return { version: banner.split(/\s/)[0] ?? null, banner }
}
