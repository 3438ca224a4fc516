// Every entry point (CLI commands, `vireo serve`, the background host, the desktop app's engine)
// passes its data dir through here first: a missing one is made (mkdir -p), one that cannot be used
// is refused with a sentence that says why, before anything is written anywhere.
import {
  accessSync,
  chmodSync,
  constants,
  lstatSync,
  mkdirSync,
  readlinkSync,
  statSync,
  type Stats,
} from 'node:fs'
import { dirname, join, resolve, sep } from 'node:path'
import { VireoError } from '../api/errors.ts'
import { DATA_DIR_MODE } from '../util/data-dir.ts'

/**
 * Linux's PATH_MAX is 4096 with the NUL; Vireo's own paths inside a data dir
 * (vms/<uuid>/snapshots/<uuid>/disks/<name>.qcow2 and the like) need up to about 250 bytes more.
 */
export const MAX_DATA_DIR_BYTES = 3840
/** NAME_MAX on Linux, macOS and Windows' NTFS alike. */
export const MAX_NAME_BYTES = 255

const refuse = (message: string): VireoError => new VireoError('invalid_request', message)

/** A path as shown in a sentence: a 4000-byte one would drown what the sentence says. */
function shown(path: string): string {
  return path.length > 80 ? `${path.slice(0, 40)}…${path.slice(-20)}` : path
}

/** Makes the data dir if it is missing and checks that this user can keep a library there. */
export function ensureDataDir(dir: string): string {
  if (dir.includes('\0')) throw refuse('the data dir path contains a NUL byte; choose another path')
  const abs = resolve(dir)
  checkLength(abs)
  let st = statIfAny(abs)
  if (!st) {
    create(abs)
    st = statSync(abs)
  }
  checkUsable(abs, st)
  // The log the CLI's background host writes goes here; making it now keeps it private (the CLI
  // runs with the user's own umask, so that what it saves elsewhere, a screenshot, keeps theirs).
  mkdirSync(join(abs, 'logs'), { recursive: true, mode: DATA_DIR_MODE })
  return abs
}

function checkLength(abs: string): void {
  const bytes = Buffer.byteLength(abs)
  if (bytes > MAX_DATA_DIR_BYTES) {
    throw refuse(
      `the data dir path ${shown(abs)} is ${bytes} bytes long, and Vireo needs it to be at most ${MAX_DATA_DIR_BYTES} so that the files inside stay under the system's limit; choose a shorter path`,
    )
  }
  for (const name of abs.split(sep)) {
    const n = Buffer.byteLength(name)
    if (n > MAX_NAME_BYTES) {
      throw refuse(
        `the data dir path ${shown(abs)} has a name of ${n} bytes, and names may be at most ${MAX_NAME_BYTES}; choose a shorter name`,
      )
    }
  }
}

/** The data dir's stat (through symbolic links), or null when nothing is there yet. */
function statIfAny(abs: string): Stats | null {
  try {
    return statSync(abs)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') {
      const link = lstatIfAny(abs)
      if (link?.isSymbolicLink()) {
        const target = resolve(dirname(abs), readlinkSync(abs))
        throw refuse(
          `the data dir ${shown(abs)} is a symbolic link to ${shown(target)}, which does not exist; create that folder or choose another path`,
        )
      }
      return null
    }
    throw pathProblem(abs, err)
  }
}

function lstatIfAny(path: string): Stats | null {
  try {
    return lstatSync(path)
  } catch {
    return null
  }
}

function create(abs: string): void {
  try {
    // Parents get the user's usual modes (mkdir -p); only the data dir itself is theirs alone.
    mkdirSync(dirname(abs), { recursive: true })
    mkdirSync(abs, { mode: DATA_DIR_MODE })
  } catch (err) {
    // Another process made it in between: what is there now is checked like any existing one.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST' && lstatIfAny(abs)?.isDirectory()) return
    throw pathProblem(abs, err)
  }
  // A umask stricter than 077 would leave the owner without access to their own library.
  chmodSync(abs, DATA_DIR_MODE)
}

function checkUsable(abs: string, st: Stats): void {
  if (!st.isDirectory()) {
    throw refuse(`the data dir ${shown(abs)} is ${kindOf(st)}, not a folder; choose a folder`)
  }
  const uid = process.getuid?.()
  if (uid !== undefined && st.uid !== uid) {
    throw refuse(
      `the data dir ${shown(abs)} belongs to another user (uid ${st.uid}); choose a folder of your own`,
    )
  }
  // Anyone could plant a token, a lock or a VM folder in it (as in /tmp).
  if (process.platform !== 'win32' && (st.mode & 0o002) !== 0) {
    throw refuse(
      `the data dir ${shown(abs)} can be written by every user of this machine; choose a folder of your own`,
    )
  }
  try {
    accessSync(abs, constants.W_OK | constants.X_OK)
  } catch {
    throw refuse(`the data dir ${shown(abs)} is not writable by you; choose a folder you can write to`)
  }
}

function kindOf(st: Stats): string {
  if (st.isFile()) return 'a file'
  if (st.isBlockDevice() || st.isCharacterDevice()) return 'a device'
  if (st.isFIFO()) return 'a named pipe'
  if (st.isSocket()) return 'a socket'
  return 'something else'
}

/** The sentence for an error the system gave on the data dir's path. */
function pathProblem(abs: string, err: unknown): VireoError {
  const code = (err as NodeJS.ErrnoException).code
  switch (code) {
    case 'ENOTDIR': {
      const file = firstNonFolder(abs)
      return refuse(
        `the data dir ${shown(abs)} cannot be made: ${shown(file ?? dirname(abs))} is a file, not a folder; choose another place`,
      )
    }
    case 'ELOOP':
      return refuse(
        `the data dir ${shown(abs)} cannot be reached: its path loops through symbolic links; choose another path`,
      )
    case 'ENAMETOOLONG':
      return refuse(`the data dir path ${shown(abs)} is too long for this system; choose a shorter path`)
    case 'EACCES':
    case 'EPERM': {
      const at = deepestExisting(abs)
      return refuse(
        at === abs
          ? `the data dir ${shown(abs)} cannot be reached: you may not enter a folder on its path; choose a folder you can write to`
          : `the data dir ${shown(abs)} cannot be made: you cannot write in ${shown(at)}; choose a folder you can write to`,
      )
    }
    case 'EROFS':
      return refuse(
        `the data dir ${shown(abs)} cannot be made: ${shown(deepestExisting(abs))} is on a read-only filesystem; choose a folder you can write to`,
      )
    case 'ENOENT':
      // /proc and the like: a folder that exists but takes no new entries.
      return refuse(
        `the data dir ${shown(abs)} cannot be made: ${shown(deepestExisting(abs))} takes no new folders; choose a folder you can write to`,
      )
    case 'EEXIST':
      // mkdir -p met something that is not a folder and not a file: a dangling link on the way.
      return refuse(
        `the data dir ${shown(abs)} cannot be made: ${shown(deepestExisting(abs))} is in the way; choose another place`,
      )
    default:
      return refuse(`the data dir ${shown(abs)} cannot be used: ${(err as Error).message}`)
  }
}

/** The nearest ancestor (or the path itself) that exists and is something other than a folder. */
function firstNonFolder(abs: string): string | null {
  for (let p = abs; ; p = dirname(p)) {
    const st = lstatIfAny(p)
    if (st && !st.isDirectory() && !st.isSymbolicLink()) return p
    if (dirname(p) === p) return null
  }
}

/** The deepest part of the path that exists (the folder mkdir would have written in). */
function deepestExisting(abs: string): string {
  let p = abs
  while (dirname(p) !== p && !lstatIfAny(p)) p = dirname(p)
  return p
}
