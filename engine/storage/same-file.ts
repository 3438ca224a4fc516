// Whether two paths are one file: another name for a disk (a symlink, a hard link, `a/../b`) must
// not let two VMs write it. QEMU's image locking is the second line, at open time.
import { realpathSync, statSync } from 'node:fs'
import { resolve } from 'node:path'

export function sameFile(a: string, b: string): boolean {
  if (resolve(a) === resolve(b)) return true
  try {
    const [x, y] = [statSync(a), statSync(b)]
    if (x.dev === y.dev && x.ino === y.ino) return true
    return realpathSync(a) === realpathSync(b)
  } catch {
    return false
  }
}
