// A path a user gave for a file Vireo will read (an ISO, a disk image, a kernel, an appliance):
// absolute, since clients resolve it against their own working directory, and a file that exists.
import { statSync } from 'node:fs'
import { isAbsolute } from 'node:path'
import { VireoError } from '../api/errors.ts'

export function checkUserFile(p: string, what: string): string {
  if (!isAbsolute(p))
    throw new VireoError('invalid_request', `the ${what} path must be absolute (got "${p}")`)
  let st
  try {
    st = statSync(p)
  } catch {
    throw new VireoError('not_found', `the ${what} ${p} does not exist`)
  }
  if (!st.isFile() && !st.isBlockDevice())
    throw new VireoError('invalid_request', `the ${what} ${p} is not a file`)
  return p
}
