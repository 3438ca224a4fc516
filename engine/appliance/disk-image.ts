// An appliance's disk, checked before qemu-img converts it. The file came from anywhere: a VMDK
// descriptor or a qcow2 may name other files on this host (`RW 100 FLAT "/etc/shadow"`, a backing
// file, an external data file), which a conversion would then copy into the VM. Only self-contained
// images pass (storage/image-chain.ts reads their headers), and their format is stated to qemu-img.
import { closeSync, openSync, readSync } from 'node:fs'
import { VireoError } from '../api/errors.ts'
import { IMPORTABLE_FORMATS } from '../storage/existing-disk.ts'
import { imageInfo } from '../storage/qemu-img.ts'
import { walkImageChain } from '../storage/image-chain.ts'
import { MAX_DISK_BYTES } from './limits.ts'

function startsWith(path: string, magic: string): boolean {
  const head = Buffer.alloc(magic.length)
  const fd = openSync(path, 'r')
  try {
    readSync(fd, head, 0, head.length, 0)
  } finally {
    closeSync(fd)
  }
  return head.toString('latin1') === magic
}

export interface CheckedImage {
  format: string
  virtualSize: number
}

export async function checkApplianceImage(
  qemuImg: string,
  path: string,
  name: string,
): Promise<CheckedImage> {
  if (startsWith(path, '# Disk DescriptorFile')) {
    throw new VireoError(
      'invalid_request',
      `the disk ${name} is a VMDK descriptor that names other files; Vireo imports self-contained disks only`,
    )
  }
  // The same walk as for a user's own image, with nothing but the file itself allowed: a backing
  // file, a data file or an extent elsewhere is refused before qemu-img opens it.
  let nodes
  try {
    nodes = walkImageChain(path, {
      policy: {
        named: [path],
        insideDirs: [],
        refusal: (_by, file, role) => `names ${file} as its ${role}; an appliance's disks must stand alone`,
      },
    })
  } catch (err) {
    // Said of the disk by its name in the appliance, not by the temporary file it was unpacked to.
    const why = (err as Error).message.split(path).join('it').replace(/^it /, '')
    throw new VireoError('invalid_request', `the disk ${name} ${why}`)
  }
  let info
  try {
    info = await imageInfo(qemuImg, path, nodes[0]!.format)
  } catch (err) {
    throw new VireoError(
      'invalid_request',
      `the disk ${name} is not an image qemu-img can read: ${(err as Error).message.replace(/^.*failed: /, '')}`,
    )
  }
  if (!(IMPORTABLE_FORMATS as readonly string[]).includes(info.format)) {
    throw new VireoError(
      'invalid_request',
      `the disk ${name} is a ${info.format} image; Vireo takes ${IMPORTABLE_FORMATS.join(', ')}`,
    )
  }
  if (info['virtual-size'] > MAX_DISK_BYTES) {
    throw new VireoError(
      'invalid_request',
      `the disk ${name} is ${(info['virtual-size'] / 2 ** 40).toFixed(1)} TiB; Vireo refuses disks over 64 TiB`,
    )
  }
  return { format: info.format, virtualSize: info['virtual-size'] }
}
