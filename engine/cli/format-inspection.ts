// `vireo inspect` for people: what the file is, what boots it, which OS it holds and from what
// evidence, and each recommended setting with the reason it was chosen.
import type { ImageInspection } from '../api/rpc.ts'
import { table } from './output.ts'
import { safe } from './plain-text.ts'

function bootOf(iso: NonNullable<ImageInspection['iso']>): string {
  const firmware = [iso.bootable.bios ? 'BIOS' : null, iso.bootable.uefi ? 'UEFI' : null].filter(Boolean)
  const how = firmware.length ? firmware.join(' and ') : 'not bootable'
  return iso.hybrid ? `${how}; hybrid (also boots as a disk)` : how
}

export function formatInspection(i: ImageInspection): string {
  const lines = [`File:     ${safe(i.path)} (${i.sizeBytes} bytes)`, `Kind:     ${i.kind}`]
  if (i.iso) lines.push(`Volume:   "${safe(i.iso.volumeId)}"`, `Boot:     ${bootOf(i.iso)}`)
  if (i.disk) {
    lines.push(
      `Disk:     ${safe(i.disk.format)}, ${i.disk.virtualSize} bytes virtual${i.disk.backingFile ? `, backing file ${safe(i.disk.backingFile)}` : ''}`,
    )
    // The files it reads besides itself: each must be named with --allow-backing to be used.
    for (const link of i.disk.chain.slice(1))
      lines.push(`Reads:    ${safe(link.path)} (${link.role}${link.format ? `, ${link.format}` : ''})`)
  }
  if (i.appliance) {
    const a = i.appliance
    lines.push(
      `Appliance: "${safe(a.name)}", ${a.disks.length} disk${a.disks.length === 1 ? '' : 's'}, ${a.nics.length} network card${a.nics.length === 1 ? '' : 's'}${a.os ? `, OS ${safe(a.os)}` : ''}`,
    )
  }
  // Why no OS was recognised is one of the warnings; it belongs beside the verdict.
  const unknown = i.os ? undefined : i.warnings.find((w) => w.startsWith('OS not recognised: '))
  lines.push(
    i.os
      ? `OS:       ${safe(i.os.name)} (${safe(i.os.id)}, ${i.os.source}): ${safe(i.os.evidence)}`
      : `OS:       unknown${unknown ? ` (${safe(unknown.replace('OS not recognised: ', ''))})` : ''}`,
    '',
    'Recommended:',
  )
  const r = i.recommended
  const rows: [string, string, string][] = [
    ['memory', `${r.memoryMiB.value} MiB`, r.memoryMiB.reason],
    ['disk', r.diskSize.value ?? 'none', r.diskSize.reason],
    ['firmware', r.firmware.value, r.firmware.reason],
    ['nic', r.nic.value, r.nic.reason],
    ['disk bus', r.diskBus.value, r.diskBus.reason],
    ['cpus', String(r.cpus.value), r.cpus.reason],
  ]
  lines.push(...table(rows.map(([k, v, why]) => [`  ${k}`, safe(v), safe(why)])).split('\n'))
  for (const w of i.warnings) if (w !== unknown) lines.push(`Note:     ${safe(w)}`)
  return lines.join('\n')
}
