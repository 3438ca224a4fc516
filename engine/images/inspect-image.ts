// What a file on the host is (ISO, disk image, appliance, Linux kernel), which OS it holds and what
// a VM made from it should have. The content decides, never the name, except for appliances, whose
// OVF is parsed elsewhere.
import { dirname, extname } from 'node:path'
import { VireoError } from '../api/errors.ts'
import type { DetectedOs, ImageInspection } from '../api/rpc.ts'
import { GENERIC_LINUX } from '../osinfo/built-in.ts'
import { matchIsoOs } from '../osinfo/match-media.ts'
import { findOs, type OsIndex } from '../osinfo/os-index.ts'
import type { OsRecord } from '../osinfo/os-record.ts'
import { readApplianceSummary } from '../appliance/open.ts'
import { inspectImage } from '../storage/existing-disk.ts'
import { checkUserFile } from '../storage/user-file.ts'
import {
  chainRoles,
  NotGivenError,
  walkImageChain,
  type ChainNode,
  type ChainRole,
} from '../storage/image-chain.ts'
import { FileReader, findIsoFile, looksLikeIso, readIso, type IsoFacts } from './iso9660.ts'
import { KERNEL_HEAD_BYTES, parseLinuxKernel, type LinuxKernel } from './linux-kernel.ts'
import { recommend, type ImageFacts } from './recommend.ts'

export interface InspectDeps {
  qemuImg: () => Promise<string>
  osIndex: () => OsIndex
  hostCpus: number
}

/** Where live and installer CDs keep their kernel: Debian, Ubuntu, Fedora, SUSE, grub-mkrescue images. */
const ISO_KERNEL_PATHS = [
  'boot/vmlinuz',
  'vmlinuz',
  'live/vmlinuz',
  'casper/vmlinuz',
  'install.amd/vmlinuz',
  'isolinux/vmlinuz',
  'images/pxeboot/vmlinuz',
  'boot/x86_64/loader/linux',
]

interface Found {
  os: OsRecord
  detected: DetectedOs
}

const detected = (os: OsRecord, evidence: string): Found => ({
  os,
  detected: { id: os.id, name: os.name, source: os.source, evidence },
})

function linuxFound(kernel: LinuxKernel, where: string): Found {
  const name = kernel.version ? `Linux ${kernel.version}` : 'Linux'
  return detected(
    { ...GENERIC_LINUX, name },
    `a Linux kernel${where}${kernel.version ? `, version ${kernel.version}` : ''}`,
  )
}

function kernelInIso(r: FileReader, iso: IsoFacts): Found | null {
  for (const path of ISO_KERNEL_PATHS) {
    const at = findIsoFile(r, iso, path)
    if (!at) continue
    const kernel = parseLinuxKernel(r.read(at.lba * iso.blockSize, Math.min(at.bytes, KERNEL_HEAD_BYTES)))
    if (kernel) return linuxFound(kernel, ` at /${path} on the CD`)
  }
  return null
}

function applianceKind(r: FileReader, path: string): boolean {
  const ext = extname(path).toLowerCase()
  if (ext === '.ova') {
    // A tar archive: "ustar" at 257.
    if (r.read(257, 5).toString('latin1') !== 'ustar')
      throw new VireoError(
        'invalid_request',
        `${path} is named .ova but is not a tar archive, so not an appliance`,
      )
    return true
  }
  if (ext === '.ovf') {
    if (!/<(\w+:)?Envelope\b/.test(r.read(0, 16384).toString('utf8')))
      throw new VireoError('invalid_request', `${path} is named .ovf but holds no OVF Envelope`)
    return true
  }
  return false
}

export async function inspectImageFile(path: string, deps: InspectDeps): Promise<ImageInspection> {
  checkUserFile(path, 'image')
  const r = new FileReader(path)
  try {
    const warnings: string[] = []
    let kind: ImageInspection['kind']
    let iso: ImageInspection['iso'] = null
    let disk: ImageInspection['disk'] = null
    let found: Found | null = null
    let appliance: ImageInspection['appliance'] = null
    // Named .iso and not ISO 9660 at all: most likely cut short before its descriptors; say so.
    if (looksLikeIso(r) || extname(path).toLowerCase() === '.iso') {
      kind = 'iso'
      const facts = readIso(path, r)
      iso = { volumeId: facts.volumeId, bootable: facts.bootable, hybrid: facts.hybrid }
      const index = deps.osIndex()
      const m = matchIsoOs(index, facts)
      found = m ? detected(m.os, m.evidence) : kernelInIso(r, facts)
      if (!found) {
        const db = index.osinfo.length
          ? `osinfo-db${index.version ? ` ${index.version}` : ''}`
          : 'osinfo-db (not installed)'
        warnings.push(
          `OS not recognised: volume id "${facts.volumeId}" matches nothing in ${db} or Vireo's built-in table, and the CD holds no Linux kernel where installers keep one; the defaults are generic`,
        )
      }
      if (!facts.bootable.bios && !facts.bootable.uefi)
        warnings.push('the CD has no El Torito boot entry: no firmware can start it')
    } else if ((found = kernelOf(r))) {
      kind = 'kernel'
      warnings.push('boot it with: vireo create NAME --kernel PATH [--initrd PATH] [--cmdline TEXT]')
    } else if (applianceKind(r, path)) {
      kind = 'appliance'
      // Read (and checked: paths, links, manifest, sizes) as an import would, before anything is written.
      appliance = await readApplianceSummary(path)
      warnings.push('an appliance brings its own hardware; import it with: vireo import FILE')
    } else {
      kind = 'disk'
      // The chain from the headers first: a name that is no plain file, or a loop, is refused
      // here, before qemu-img opens anything of it. Files outside the image's own folder are
      // listed but not read: an image must not make even `inspect` open a host secret.
      let nodes: readonly ChainNode[]
      let beyond: { path: string; role: ChainRole; format: null } | null = null
      try {
        nodes = walkImageChain(path, { policy: { named: [path], insideDirs: [dirname(path)] } })
      } catch (err) {
        if (!(err instanceof NotGivenError) || err.walked.length === 0) throw err
        nodes = err.walked
        beyond = { path: err.file, role: err.role, format: null }
      }
      const top = nodes[0]!
      // qemu-img opens a data file and extents by name: only when they were allowed just now.
      const info =
        beyond && nodes.length === 1 && beyond.role !== 'backing file'
          ? null
          : await inspectImage(await deps.qemuImg(), path, top.format)
      const chain = [...chainRoles(nodes), ...(beyond ? [beyond] : [])]
      disk = {
        format: info?.format ?? top.format,
        virtualSize: info?.['virtual-size'] ?? 0,
        backingFile: info?.['backing-filename'] ?? null,
        chain,
      }
      const others = chain.slice(1).map((c) => c.path)
      if (others.length > 0)
        warnings.push(
          `the image also reads ${others.join(', ')}; to use it, name ${others.length === 1 ? 'that file' : 'each of them'} with --allow-backing (they must stay where they are)`,
        )
      if (beyond)
        warnings.push(
          `${beyond.path} lies outside the image's folder, so Vireo read no further; what it reads in turn shows once it is allowed`,
        )
      warnings.push('a disk image does not name its OS; the defaults are generic')
    }
    const facts: ImageFacts = { kind, bootable: iso?.bootable ?? null }
    return {
      path,
      kind,
      sizeBytes: r.size,
      iso,
      disk,
      appliance,
      os: found?.detected ?? null,
      recommended: appliance
        ? applianceHardware(appliance, recommend(null, facts, { cpus: deps.hostCpus }))
        : recommend(found?.os ?? null, facts, { cpus: deps.hostCpus }),
      warnings,
    }
  } finally {
    r.close()
  }
}

/** An appliance brings its hardware: what an import will give the VM, said as such. */
function applianceHardware(
  a: NonNullable<ImageInspection['appliance']>,
  generic: ImageInspection['recommended'],
): ImageInspection['recommended'] {
  const said = "as the appliance's descriptor says"
  return {
    memoryMiB: { value: a.memoryMiB, reason: said },
    cpus: { value: a.cpus, reason: said },
    firmware: { value: a.firmware, reason: said },
    diskSize: { value: null, reason: 'the appliance brings its disks' },
    nic: a.nics[0] ? { value: a.nics[0].model, reason: said } : generic.nic,
    diskBus: a.disks[0] ? { value: a.disks[0].bus, reason: said } : generic.diskBus,
  }
}

function kernelOf(r: FileReader): Found | null {
  const kernel = parseLinuxKernel(r.read(0, KERNEL_HEAD_BYTES))
  return kernel ? linuxFound(kernel, '') : null
}

/**
 * The inspection `create` acts on, for the image in the role it was given: an `--iso` that is no
 * ISO 9660 file (and not named .iso) and a `--kernel` that is no Linux bzImage (QEMU also loads
 * multiboot and ELF kernels) are left to the firmware and QEMU, undetected, rather than refused.
 * A truncated ISO is refused.
 */
export async function inspectForCreate(
  path: string,
  role: 'iso' | 'disk' | 'kernel',
  deps: InspectDeps,
): Promise<ImageInspection | null> {
  if (role !== 'disk') {
    const r = new FileReader(path)
    let ours: boolean
    try {
      ours =
        role === 'iso'
          ? looksLikeIso(r) || extname(path).toLowerCase() === '.iso'
          : parseLinuxKernel(r.read(0, KERNEL_HEAD_BYTES)) !== null
    } finally {
      r.close()
    }
    if (!ours) return null
  }
  return inspectImageFile(path, deps)
}

/**
 * The settings `create` fills in: the inspection's, or, when the user names the OS (`--os`), those
 * of that OS for the same image. An OS id Vireo does not know is refused (a typo would otherwise
 * silently give generic defaults).
 */
export function adviceFor(
  inspection: ImageInspection | null,
  osId: string | undefined,
  deps: InspectDeps,
): ImageInspection['recommended'] | null {
  if (osId === undefined) return inspection?.recommended ?? null
  const os = findOs(deps.osIndex(), osId)
  if (!os) {
    throw new VireoError(
      'invalid_request',
      `Vireo knows no OS "${osId}": give an osinfo-db short id such as debian11, ubuntu22.04 or win10`,
    )
  }
  if (!inspection) return null
  return recommend(
    os,
    { kind: inspection.kind, bootable: inspection.iso?.bootable ?? null },
    { cpus: deps.hostCpus },
  )
}
