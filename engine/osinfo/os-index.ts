// The guest OS catalogue: osinfo-db's records where osinfo-db is installed, the built-in table
// otherwise. Parsing osinfo-db's ~800 XML files costs about half a second, so the records are kept
// as one JSON file in the cache dir, keyed by osinfo-db's version and its files' count, sizes and
// mtimes (an upgrade or a local edit rebuilds it), and in memory for the engine's lifetime.
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { BUILT_IN_OSES, GENERIC_LINUX } from './built-in.ts'
import type { OsRecord } from './os-record.ts'
import { osinfoFiles, parseOsinfoDb } from './parse-osinfo-db.ts'

export const DEFAULT_OSINFO_DIR = '/usr/share/osinfo'
const CACHE_FORMAT = 1

export interface OsIndex {
  /** osinfo-db's records (empty without osinfo-db), in the database's order. */
  osinfo: OsRecord[]
  builtIn: OsRecord[]
  /** Where the records came from: `built` (parsed now), `cache` (JSON) or `memory`; `absent` without osinfo-db. */
  loadedFrom: 'built' | 'cache' | 'memory' | 'absent'
  /** osinfo-db's version (its VERSION file), when installed. */
  version: string | null
}

export interface OsIndexOptions {
  /** osinfo-db's root (the folder holding `os/`); default /usr/share/osinfo. */
  osinfoDir?: string
  /** The JSON cache file; none when omitted. */
  cacheFile?: string
}

const memory = new Map<string, { key: string; index: OsIndex }>()

/** What identifies one state of the installed osinfo-db; any change to its files changes it. */
function dbKey(osinfoDir: string): { key: string; version: string | null } | null {
  const osDir = join(osinfoDir, 'os')
  if (!existsSync(osDir)) return null
  const versionFile = join(osinfoDir, 'VERSION')
  const version = existsSync(versionFile) ? readFileSync(versionFile, 'utf8').trim() : null
  let count = 0
  let bytes = 0
  let newest = 0
  for (const f of osinfoFiles(osDir)) {
    const st = statSync(f)
    count++
    bytes += st.size
    newest = Math.max(newest, st.mtimeMs)
  }
  return { key: `v${CACHE_FORMAT} ${version ?? '?'} ${count} files ${bytes} bytes ${newest}`, version }
}

export function loadOsIndex(opts: OsIndexOptions = {}): OsIndex {
  const osinfoDir = opts.osinfoDir ?? DEFAULT_OSINFO_DIR
  const k = dbKey(osinfoDir)
  if (!k) return { osinfo: [], builtIn: BUILT_IN_OSES, loadedFrom: 'absent', version: null }
  const memoKey = `${osinfoDir}\0${opts.cacheFile ?? ''}`
  const held = memory.get(memoKey)
  if (held && held.key === k.key) return { ...held.index, loadedFrom: 'memory' }
  let index: OsIndex | null = null
  if (opts.cacheFile) index = readCache(opts.cacheFile, k.key, k.version)
  if (!index) {
    index = {
      osinfo: parseOsinfoDb(join(osinfoDir, 'os')),
      builtIn: BUILT_IN_OSES,
      loadedFrom: 'built',
      version: k.version,
    }
    if (opts.cacheFile) writeCache(opts.cacheFile, k.key, index.osinfo)
  }
  memory.set(memoKey, { key: k.key, index })
  return index
}

function readCache(file: string, key: string, version: string | null): OsIndex | null {
  try {
    const data = JSON.parse(readFileSync(file, 'utf8')) as { key?: unknown; records?: unknown }
    if (data.key !== key || !Array.isArray(data.records)) return null
    return { osinfo: data.records as OsRecord[], builtIn: BUILT_IN_OSES, loadedFrom: 'cache', version }
  } catch {
    return null
  }
}

function writeCache(file: string, key: string, records: OsRecord[]): void {
  try {
    mkdirSync(dirname(file), { recursive: true })
    const partial = `${file}.${process.pid}.partial`
    writeFileSync(partial, JSON.stringify({ key, records }))
    renameSync(partial, file)
  } catch {
    // A cache that cannot be written only costs the next start half a second.
  }
}

/** Forgets the in-memory copy (tests measure a cold load). */
export function forgetOsIndex(): void {
  memory.clear()
}

/** An OS by its short id (osinfo-db's, or a built-in one such as `linux`), or null. */
export function findOs(index: OsIndex, id: string): OsRecord | null {
  return (
    index.osinfo.find((o) => o.id === id) ??
    index.builtIn.find((o) => o.id === id) ??
    (id === GENERIC_LINUX.id ? GENERIC_LINUX : null)
  )
}
