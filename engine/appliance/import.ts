// Importing an appliance: descriptor read and checked, then the VM's folder made and its disks
// converted to qcow2 in it. Everything is refused before the folder exists where it can be; once it
// does, any failure removes it whole, and nothing is ever written elsewhere (staging lives inside it).
import { randomBytes } from 'node:crypto'
import { mkdirSync, rmSync } from 'node:fs'
import { basename, join } from 'node:path'
import { VireoError } from '../api/errors.ts'
import type { JobProgress } from '../api/rpc.ts'
import { VM_CONFIG_SCHEMA_VERSION, type VmConfigInput } from '../api/vm-config.ts'
import { convertImage, createImage } from '../storage/qemu-img.ts'
import { assemble, piecesOf } from './assemble.ts'
import type { ApplianceDisk } from './descriptor.ts'
import { checkApplianceImage } from './disk-image.ts'
import { checkLimits } from './limits.ts'
import { openAppliance } from './open.ts'
import { storedBound, type Bound } from './unpack-bounds.ts'

export interface ImportOptions {
  path: string
  qemuImg: string
  /** OVMF's variable store template, or null where OVMF is not installed. */
  ovmfVarsTemplate: string | null
  machineAliases: Record<'q35' | 'pc', string>
  id: string
  /** The VM's folder (from the library); made here, removed on failure. */
  vmDir: string
  /** The VM's name from the appliance's own one (the caller decides about clashes). */
  chooseName: (applianceName: string) => string
  macInUse: (mac: string) => boolean
  newMac: () => string
  onProgress?: (p: Omit<JobProgress, 'job'>) => void
}

function diskSerial(): string {
  return `VIREO-${randomBytes(5).toString('hex').toUpperCase()}`
}

/** Each member's bound: what its disk's file may hold as stored (all chunks together at most). */
function memberBounds(plan: { disk: ApplianceDisk; pieces: string[] }[]): Map<string, Bound> {
  const bounds = new Map<string, Bound>()
  for (const { disk, pieces } of plan) {
    if (!disk.file) continue
    for (const piece of pieces) bounds.set(piece, storedBound(disk.file, disk))
  }
  return bounds
}

export async function importAppliance(o: ImportOptions): Promise<VmConfigInput> {
  const { source, appliance } = await openAppliance(o.path)
  checkLimits(appliance)
  if (appliance.firmware === 'uefi' && !o.ovmfVarsTemplate) {
    throw new VireoError(
      'unavailable',
      'this appliance boots with UEFI, which needs OVMF (Debian/Ubuntu: apt-get install ovmf)',
    )
  }
  const name = o.chooseName(appliance.name)
  const plan = appliance.disks.map((d) => ({ disk: d, pieces: d.file ? piecesOf(d.file, source) : [] }))

  const staging = join(o.vmDir, 'import')
  mkdirSync(join(o.vmDir, 'disks'), { recursive: true })
  mkdirSync(join(o.vmDir, 'logs'), { recursive: true })
  mkdirSync(staging)
  try {
    const unpack = `unpacking ${basename(o.path)}`
    const paths = await source.materialize(
      plan.flatMap((p) => p.pieces),
      staging,
      o.onProgress
        ? (done, total) => o.onProgress?.({ phase: unpack, done, total, unit: 'bytes' })
        : undefined,
      memberBounds(plan),
    )
    const disks: NonNullable<VmConfigInput['disks']> = []
    for (const [i, { disk, pieces }] of plan.entries()) {
      const id = `disk${i}`
      const target = join(o.vmDir, 'disks', `${id}.qcow2`)
      if (!disk.file) {
        await createImage(o.qemuImg, target, 'qcow2', disk.capacityBytes)
      } else {
        const image = await assemble(disk.file, disk, pieces, paths, staging, i)
        const checked = await checkApplianceImage(o.qemuImg, image, disk.file.href)
        const phase = `converting ${disk.file.href} to qcow2`
        await convertImage(o.qemuImg, image, target, 'qcow2', {
          inFormat: checked.format,
          ...(o.onProgress
            ? { onProgress: (done: number) => o.onProgress?.({ phase, done, total: 100, unit: 'percent' }) }
            : {}),
        })
        if (image.startsWith(staging)) rmSync(image, { force: true })
      }
      disks.push({ id, path: `disks/${id}.qcow2`, format: 'qcow2', bus: disk.bus, serial: diskSerial() })
    }
    rmSync(staging, { recursive: true, force: true })
    if (appliance.firmware === 'uefi' && o.ovmfVarsTemplate) {
      // qcow2, not raw: raw vars make snapshot-save refuse the whole VM.
      await convertImage(o.qemuImg, o.ovmfVarsTemplate, join(o.vmDir, 'nvram.qcow2'), 'qcow2')
    }
    // A guest installed on IDE may have no AHCI driver: give it the PIIX IDE of the pc machine.
    const machine = disks.some((d) => d.bus === 'ide') ? 'pc' : 'q35'
    const taken = new Set<string>()
    const nics = appliance.nics.map((n, i) => {
      // The appliance's MAC is kept when it is valid and no other VM here uses it (licences and DHCP
      // reservations follow MACs); otherwise the card gets a new one.
      let mac = n.mac && !o.macInUse(n.mac) && !taken.has(n.mac) ? n.mac : o.newMac()
      while (taken.has(mac)) mac = o.newMac()
      taken.add(mac)
      return { id: `net${i}`, model: n.model, mac, network: { mode: 'nat' as const, portForwards: [] } }
    })
    return {
      schemaVersion: VM_CONFIG_SCHEMA_VERSION,
      id: o.id,
      name,
      createdAt: new Date().toISOString(),
      machine: { type: machine, version: o.machineAliases[machine] },
      firmware: appliance.firmware,
      cpus: appliance.cpus,
      memoryMiB: appliance.memoryMiB,
      disks,
      // A CD drive is always there (empty): SATA drives cannot be hot-plugged later.
      cdroms: [{ id: 'cd0', path: null, bus: machine === 'pc' ? 'ide' : 'sata' }],
      nics,
      // The appliance's order first; the disk and the CD always stay bootable after it, since a
      // vendor's order may name only devices this VM does not have.
      bootOrder: [...new Set([...(appliance.bootOrder ?? []), 'disk' as const, 'cdrom' as const])],
    }
  } catch (err) {
    rmSync(o.vmDir, { recursive: true, force: true })
    throw err
  }
}
