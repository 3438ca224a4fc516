// Opening what the user named: an .ova archive or a bare .ovf descriptor.
import { statSync } from 'node:fs'
import { isAbsolute } from 'node:path'
import { VireoError } from '../api/errors.ts'
import type { ApplianceSummary } from '../api/rpc.ts'
import { quoted } from '../api/visible-text.ts'
import { parseDescriptor, type Appliance } from './descriptor.ts'
import { checkLimits } from './limits.ts'
import { cleanApplianceName } from './unique-name.ts'
import { openOva } from './ova-archive.ts'
import { openOvfFolder } from './ovf-folder.ts'
import type { ApplianceSource } from './source.ts'

export async function openAppliance(
  path: string,
): Promise<{ source: ApplianceSource; appliance: Appliance }> {
  if (!isAbsolute(path))
    throw new VireoError('invalid_request', `the appliance path must be absolute, not ${quoted(path)}`)
  let st
  try {
    st = statSync(path)
  } catch {
    throw new VireoError('not_found', `the appliance ${path} does not exist`)
  }
  if (!st.isFile()) throw new VireoError('invalid_request', `the appliance ${path} is not a file`)
  const source = /\.ovf$/i.test(path) ? openOvfFolder(path) : await openOva(path)
  return { source, appliance: parseDescriptor(source.descriptor) }
}

export function summarize(a: Appliance): ApplianceSummary {
  return {
    name: cleanApplianceName(a.name),
    cpus: a.cpus,
    memoryMiB: a.memoryMiB,
    firmware: a.firmware,
    disks: a.disks.map((d) => ({ file: d.file?.href ?? '', capacityBytes: d.capacityBytes, bus: d.bus })),
    nics: a.nics.map((n) => ({ model: n.model, ...(n.mac ? { mac: n.mac } : {}) })),
    ...(a.os ? { os: a.os } : {}),
  }
}

/**
 * An appliance's hardware as its descriptor states it, read without writing anything (image.inspect).
 * What an import would refuse is refused here too, so no result is built from absurd hardware.
 */
export async function readApplianceSummary(path: string): Promise<ApplianceSummary> {
  const { appliance } = await openAppliance(path)
  checkLimits(appliance)
  return summarize(appliance)
}
