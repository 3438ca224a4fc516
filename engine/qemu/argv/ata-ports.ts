// Disks and CD drives on SATA (AHCI) and IDE. These have no PCI slot of their own and cannot be
// hot-plugged, so their port is derived from config order: disks first, then CD drives.
//
// Bus names in QEMU 7.2: q35's built-in ich9-ahci (00:1f.2, no id) has one bus per port, ide.0 to
// ide.5. The pc machine's PIIX3 IDE has ide.0 and ide.1 with units 0 and 1 each; SATA on pc is an
// added ich9-ahci with the id sata0, whose ports are sata0.0 to sata0.5.
import type { VmConfig } from '../../api/vm-config.ts'
import { PCI_LAYOUT } from './placement.ts'
import { ArgvError } from './context.ts'
import type { DeviceJson } from './json.ts'
import { pciAddr } from './pcie.ts'

export const PC_AHCI_ID = 'sata0'
const AHCI_PORTS = 6
const IDE_POSITIONS = [
  { bus: 'ide.0', unit: 0 },
  { bus: 'ide.0', unit: 1 },
  { bus: 'ide.1', unit: 0 },
  { bus: 'ide.1', unit: 1 },
] as const

export interface AtaPosition {
  bus: string
  /** Only for IDE: master (0) or slave (1) on the channel. AHCI has one device per port. */
  unit?: number
}

interface AtaMember {
  id: string
  bus: 'sata' | 'ide'
  what: string
}

function members(config: VmConfig): AtaMember[] {
  const out: AtaMember[] = []
  for (const d of config.disks) {
    if (d.bus === 'sata' || d.bus === 'ide') out.push({ id: d.id, bus: d.bus, what: 'disks' })
  }
  for (const c of config.cdroms) out.push({ id: c.id, bus: c.bus, what: 'CD drives' })
  return out
}

function hasSata(config: VmConfig): boolean {
  return members(config).some((m) => m.bus === 'sata')
}

/** The bus (and IDE unit) of every SATA and IDE device, by device id. */
export function ataPositions(config: VmConfig): Map<string, AtaPosition> {
  const positions = new Map<string, AtaPosition>()
  let sata = 0
  let ide = 0
  for (const m of members(config)) {
    if (m.bus === 'ide') {
      if (config.machine.type !== 'pc') {
        throw new ArgvError(`IDE ${m.what} need the pc machine type; on q35 choose SATA (for "${m.id}")`)
      }
      const pos = IDE_POSITIONS[ide++]
      if (!pos)
        throw new ArgvError(
          `the pc machine has room for ${IDE_POSITIONS.length} IDE disks and CD drives; "${m.id}" is one too many`,
        )
      positions.set(m.id, { bus: pos.bus, unit: pos.unit })
    } else {
      if (sata >= AHCI_PORTS)
        throw new ArgvError(`SATA has ${AHCI_PORTS} ports; "${m.id}" is one device too many`)
      const prefix = config.machine.type === 'q35' ? 'ide' : PC_AHCI_ID
      positions.set(m.id, { bus: `${prefix}.${sata++}` })
    }
  }
  return positions
}

export function ataPosition(config: VmConfig, id: string): AtaPosition {
  const pos = ataPositions(config).get(id)
  if (!pos) throw new ArgvError(`"${id}" is not a SATA or IDE device`)
  return pos
}

/** The AHCI controller a pc VM needs for SATA; q35 has one built in. */
export function pcAhciController(config: VmConfig): DeviceJson | null {
  if (config.machine.type !== 'pc' || !hasSata(config)) return null
  return { driver: 'ich9-ahci', id: PC_AHCI_ID, bus: 'pci.0', addr: pciAddr(PCI_LAYOUT.pc.ahci) }
}
