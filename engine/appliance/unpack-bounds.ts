// How many bytes an appliance's disk file may take once it is on this host. A small archive can
// declare a 1 MiB disk and hold a gzip stream that unpacks to gigabytes: every byte written while
// unpacking is counted against what the descriptor itself declares, and unpacking stops at the
// bound with a refusal (the import then removes the VM folder, so nothing partial stays).
import { Transform } from 'node:stream'
import { VireoError } from '../api/errors.ts'
import { quoted } from '../api/visible-text.ts'
import { formatBytes } from '../storage/disk-ops.ts'
import type { ApplianceDisk, ApplianceFile } from './descriptor.ts'

/**
 * An image file holds its disk's data plus its own metadata: qcow2 tables (about 2 % with the
 * smallest clusters), a streamOptimized VMDK's grain markers and sector padding (under 1 %). A
 * thirty-second of the capacity and 32 MiB more is above any of these and far below a bomb.
 */
export function unpackedBound(disk: Pick<ApplianceDisk, 'capacityBytes'>): number {
  const capacity = Math.max(0, disk.capacityBytes)
  return capacity + Math.ceil(capacity / 32) + 32 * 2 ** 20
}

export interface Bound {
  max: number
  /** The refusal once more than `max` bytes came. */
  refusal: () => VireoError
}

/**
 * The bytes the file may hold as the appliance stores it (compressed or not, all chunks together):
 * its File's ovf:size when it declares one (the stored size, by the OVF standard), and never more
 * than its disk's image could take. A size of 0 is read as "not known", as some producers write it.
 */
export function storedBound(file: ApplianceFile, disk: ApplianceDisk): Bound {
  const byImage = unpackedBound(disk)
  const declared = file.size !== null && file.size > 0 ? file.size : null
  if (declared !== null && declared <= byImage)
    return {
      max: declared,
      refusal: () =>
        new VireoError(
          'invalid_request',
          `the appliance's file ${quoted(file.href)} holds more than the ${formatBytes(declared)} its descriptor declares; the appliance is damaged or not what it claims, so Vireo stopped and kept nothing of it`,
        ),
    }
  return {
    max: byImage,
    refusal: () =>
      new VireoError(
        'invalid_request',
        `the appliance's file ${quoted(file.href)} holds more than a ${formatBytes(disk.capacityBytes)} disk's image can take; the appliance is damaged or not what it claims, so Vireo stopped and kept nothing of it`,
      ),
  }
}

/** What the file may unpack to (gzip undone): its disk's image, and not a byte more. */
export function expandedBound(file: ApplianceFile, disk: ApplianceDisk): Bound {
  return {
    max: unpackedBound(disk),
    refusal: () =>
      new VireoError(
        'invalid_request',
        `the appliance's file ${quoted(file.href)} unpacks to more than ${formatBytes(unpackedBound(disk))}, far beyond the ${formatBytes(disk.capacityBytes)} disk it claims to hold; Vireo stopped unpacking it and kept nothing of it`,
      ),
  }
}

/** Passes bytes through until more than the bound have come, then fails the stream with its refusal. */
export function limitBytes(bound: Bound): Transform {
  let seen = 0
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      seen += chunk.length
      if (seen > bound.max) cb(bound.refusal())
      else cb(null, chunk)
    },
  })
}
