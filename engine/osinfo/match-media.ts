// Which OS an install CD belongs to, by its primary volume descriptor, as libosinfo decides it: a
// media entry matches when every field it names (volume, system, publisher, application id) matches
// its regex, searched anywhere in the field as libosinfo does. osinfo-db first, the built-in table
// after it (for releases newer than the installed database).
import type { MediaMatch, OsRecord } from './os-record.ts'
import type { OsIndex } from './os-index.ts'

export interface IsoIds {
  volumeId: string
  systemId: string
  publisherId: string
  applicationId: string
}

export interface OsMatch {
  os: OsRecord
  media: MediaMatch
  /** In words, for the user: `volume id "Debian 11.5.0 amd64 n" matches debian11's /…/`. */
  evidence: string
}

const FIELDS = [
  ['volumeId', 'volume id'],
  ['systemId', 'system id'],
  ['publisherId', 'publisher id'],
  ['applicationId', 'application id'],
] as const

const compiled = new Map<string, RegExp | null>()
function regex(source: string): RegExp | null {
  let re = compiled.get(source)
  if (re === undefined) {
    try {
      re = new RegExp(source)
    } catch {
      // A few osinfo-db patterns use PCRE syntax JavaScript lacks; such an entry never matches.
      re = null
    }
    compiled.set(source, re)
  }
  return re
}

function matches(m: MediaMatch, ids: IsoIds): boolean {
  let named = 0
  for (const [key] of FIELDS) {
    const source = m[key]
    if (!source) continue
    named++
    const re = regex(source)
    if (!re || !ids[key] || !re.test(ids[key])) return false
  }
  return named > 0
}

/** x86 media first (Vireo runs x86_64 guests), then entries that name more fields, then longer patterns. */
function rank(m: MediaMatch): number[] {
  const arch = m.arch === 'x86_64' ? 2 : m.arch === 'i686' || m.arch === 'all' ? 1 : 0
  const named = FIELDS.filter(([k]) => m[k]).length
  const length = FIELDS.reduce((n, [k]) => n + (m[k]?.length ?? 0), 0)
  return [arch, named, length]
}

function better(a: number[], b: number[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return (a[i] ?? 0) > (b[i] ?? 0)
  return false
}

function bestIn(records: OsRecord[], ids: IsoIds): { os: OsRecord; media: MediaMatch } | null {
  let best: { os: OsRecord; media: MediaMatch; rank: number[] } | null = null
  for (const os of records) {
    for (const media of os.media) {
      if (!matches(media, ids)) continue
      const r = rank(media)
      if (!best || better(r, best.rank)) best = { os, media, rank: r }
    }
  }
  return best
}

export function matchIsoOs(index: OsIndex, ids: IsoIds): OsMatch | null {
  const found = bestIn(index.osinfo, ids) ?? bestIn(index.builtIn, ids)
  if (!found) return null
  const said = FIELDS.filter(([k]) => found.media[k]).map(
    ([k, words]) => `${words} "${ids[k]}" matches /${found.media[k]}/`,
  )
  const where =
    found.os.source === 'osinfo-db' ? `osinfo-db's ${found.os.id}` : `Vireo's built-in ${found.os.id}`
  return { ...found, evidence: `${said.join(', ')} (${where})` }
}
