// A disk size from a request, already checked by the schema (engine/api/disk-size.ts), to bytes.
import { VireoError } from '../api/errors.ts'
import { diskSizeProblem, sizeBytes } from '../api/disk-size.ts'

export function parseSize(text: string): number {
  const problem = diskSizeProblem(text)
  if (problem) throw new VireoError('invalid_request', problem)
  // qcow2 sizes are whole 512-byte sectors.
  return Math.ceil(sizeBytes(text)! / 512) * 512
}
