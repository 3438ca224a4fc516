// The folder the short-lived unix sockets go in (/tmp/vireo-<uid>, or $XDG_RUNTIME_DIR/vireo) sits
// in a place others may write: /tmp is everyone's. Whoever owns that folder can swap a socket for
// their own and hear the CLI's requests or drive a guest's QEMU, so a host uses it only when it is a
// real folder of this user's, private; one another user made first is refused.
import { chmodSync, lstatSync, mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { VireoError } from '../api/errors.ts'
import { DATA_DIR_MODE } from '../util/data-dir.ts'

/** Makes (or checks) the parent of a data dir's runtime root; returns it. */
export function ensureRuntimeBase(runtimeRoot: string): string {
  const base = dirname(runtimeRoot)
  mkdirSync(base, { recursive: true, mode: DATA_DIR_MODE })
  const st = lstatSync(base)
  const uid = process.getuid?.()
  if (st.isSymbolicLink() || !st.isDirectory()) {
    throw new VireoError(
      'invalid_state',
      `the runtime folder ${base} is not a folder but ${st.isSymbolicLink() ? 'a symbolic link' : 'a file'}; remove it, or point XDG_RUNTIME_DIR at a folder of your own`,
    )
  }
  if (uid !== undefined && st.uid !== uid) {
    throw new VireoError(
      'invalid_state',
      `the runtime folder ${base} belongs to another user (uid ${st.uid}), who could replace this host's sockets; remove it, or point XDG_RUNTIME_DIR at a folder of your own`,
    )
  }
  if ((st.mode & 0o077) !== 0) chmodSync(base, DATA_DIR_MODE)
  return base
}
