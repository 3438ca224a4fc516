// accept.json in the data dir: whether (and where) this host accepts other hosts and browsers on
// TCP when nobody said so on the command line, as the user last chose.
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { z } from 'zod'
import { writeJsonAtomic } from '../util/atomic-file.ts'

const Accept = z.object({ address: z.string().min(1), port: z.number().int().min(0).max(65535) })
export type Accept = z.infer<typeof Accept>

export function loadAccept(file: string): Accept | null {
  if (!existsSync(file)) return null
  try {
    return Accept.parse(JSON.parse(readFileSync(file, 'utf8')))
  } catch {
    return null
  }
}

export function saveAccept(file: string, value: Accept | null): void {
  if (value) writeJsonAtomic(file, value, 0o600)
  else rmSync(file, { force: true })
}
