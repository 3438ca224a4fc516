// What a host makes is its user's alone: folders 0700, files 0600.
//
// Decided here, once for the whole process: a host runs with umask 077. QEMU and qemu-img, which
// create disks, overlays, saved memory and UEFI variables with no mode of their own, inherit it, as
// does every mkdir and write in the engine; a mode passed explicitly somewhere can then only be as
// strict or stricter. Data dirs made by older versions (0755 folders, 0644 disks) are tightened once,
// on the first start of a host that knows this, and marked so a mode the user sets by hand later is
// left alone. Only what Vireo keeps in the data dir is touched, never through a symbolic link and
// never a file with a second name elsewhere: disks the user gave from outside stay as they are.
import { chmodSync, existsSync, lstatSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { isMainThread } from 'node:worker_threads'
import { dataDirLayout } from '../util/data-dir.ts'
import { ensureDataDir } from './ensure-data-dir.ts'
import { ensureRuntimeBase } from './runtime-base.ts'

export const PRIVATE_UMASK = 0o077

/** What Vireo itself keeps at a data dir's top level. */
const VIREO_ENTRIES = [
  'vms',
  'kept-disks',
  'logs',
  'cache',
  'token',
  'peers.json',
  'accept.json',
  'host.json',
  'host.lock',
]
/** Present once the data dir's modes were tightened. */
export const TIGHTENED_MARKER = '.private'

/** Makes the data dir ready for a host in this process: made, checked, private, and its sockets' too. */
export function prepareHostDataDir(
  dir: string,
  log: (line: string) => void = () => undefined,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const root = ensureDataDir(dir)
  ensureRuntimeBase(dataDirLayout(root, env).runtimeRoot)
  usePrivateUmask()
  tightenDataDir(root, log)
  return root
}

export function usePrivateUmask(): void {
  // A worker thread may not change it (it is the process's), and Windows has none.
  if (isMainThread && process.platform !== 'win32') process.umask(PRIVATE_UMASK)
}

/** The one-time tightening of a data dir made by an older version; how many entries it changed. */
export function tightenDataDir(root: string, log: (line: string) => void = () => undefined): number {
  if (process.platform === 'win32' || existsSync(join(root, TIGHTENED_MARKER))) return 0
  let changed = 0
  const names = readdirSync(root)
  // A folder the user also keeps other things in (their home, say) keeps its mode: Vireo's own
  // entries in it are made private instead.
  const ours = names.includes('vms') || names.every((n) => VIREO_ENTRIES.includes(n) || n.startsWith('.'))
  if (ours) changed += strip(root)
  else if ((statSync(root).mode & 0o077) !== 0) {
    log(`the data dir ${root} holds other things too, so it keeps its mode; Vireo's files in it are private`)
  }
  for (const name of VIREO_ENTRIES) if (names.includes(name)) changed += stripTree(join(root, name))
  if (changed > 0) log(`made ${changed} of Vireo's files and folders in ${root} private (0700/0600)`)
  writeFileSync(
    join(root, TIGHTENED_MARKER),
    'Vireo made the files in this data dir private (folders 0700, files 0600); it does not do it again.\n',
    { mode: 0o600 },
  )
  return changed
}

function stripTree(path: string): number {
  let changed = strip(path)
  const st = lstatSync(path)
  if (st.isDirectory()) {
    for (const name of readdirSync(path)) changed += stripTree(join(path, name))
  }
  return changed
}

/** Takes group and other bits away; 1 when it did. */
function strip(path: string): number {
  const st = lstatSync(path)
  if (st.isSymbolicLink()) return 0
  if (!st.isDirectory() && st.nlink > 1) return 0
  if ((st.mode & 0o077) === 0) return 0
  // Owner bits stay as they were: a 0755 folder becomes 0700, a 0644 disk 0600.
  chmodSync(path, st.mode & 0o700)
  return 1
}
