// Reads Debian's osinfo-db (/usr/share/osinfo/os/**/*.xml) as data, without libosinfo. An OS may be
// spread over several files (win-10.xml and win-10.d/*.xml carry the same id), and much of what it
// supports comes from the OSes it derives from, clones or upgrades: a device or firmware listed
// there counts unless the OS itself says `supported="false"`, and resources it leaves out come
// from there too. All of that is resolved here, once, into flat records.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { XMLParser } from 'fast-xml-parser'
import {
  VIRTIO_BLK_IDS,
  VIRTIO_NET_IDS,
  type MediaMatch,
  type OsRecord,
  type Resources,
} from './os-record.ts'

type Node = Record<string, unknown>

interface RawOs {
  uri: string
  shortIds: string[]
  name: string | null
  family: string | null
  releaseDate: string | null
  parents: string[]
  media: MediaMatch[]
  /** Per arch; what an entry leaves out comes from the OSes it derives from (`inherit="true"` or not). */
  resources: { arch: string; minimum: Resources; recommended: Resources }[]
  devices: { id: string; supported: boolean }[]
  firmware: { arch: string; type: string; supported: boolean }[]
}

const LISTS = new Set([
  'os',
  'short-id',
  'name',
  'media',
  'resources',
  'device',
  'firmware',
  'derives-from',
  'upgrades',
  'clones',
  'devices',
])

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  parseTagValue: false,
  parseAttributeValue: false,
  // Only the elements Vireo reads; the rest (installer scripts, variants, l10n) is skipped early.
  isArray: (name) => LISTS.has(name),
})

const asList = (v: unknown): Node[] => (Array.isArray(v) ? (v as Node[]) : v === undefined ? [] : [v as Node])
const textOf = (v: unknown): string | null => {
  if (typeof v === 'string') return v.trim()
  if (v && typeof v === 'object' && typeof (v as Node)['#text'] === 'string')
    return ((v as Node)['#text'] as string).trim()
  return null
}
const num = (v: unknown): number | null => {
  const t = textOf(v)
  const n = t === null ? NaN : Number(t)
  return Number.isFinite(n) ? n : null
}

function resourcesOf(v: unknown): Resources {
  const n = (v ?? {}) as Node
  const ram = num(n.ram)
  return {
    ramMiB: ram === null ? null : Math.round(ram / 2 ** 20),
    storageBytes: num(n.storage),
    cpus: num(n['n-cpus']),
  }
}

function rawOs(os: Node): RawOs {
  const names = asList(os.name)
  const plain = names.find((n) => typeof n === 'string' || !('@xml:lang' in n)) ?? names[0]
  return {
    uri: String(os['@id']),
    shortIds: asList(os['short-id']).flatMap((s) => textOf(s) ?? []),
    name: textOf(plain),
    family: textOf(os.family),
    releaseDate: textOf(os['release-date']),
    parents: ['derives-from', 'clones', 'upgrades'].flatMap((k) =>
      asList(os[k]).map((p) => String(p['@id'])),
    ),
    media: asList(os.media).map((m) => {
      const iso = (m.iso ?? {}) as Node
      const match: MediaMatch = { arch: String(m['@arch'] ?? 'all') }
      for (const [field, key] of [
        ['volume-id', 'volumeId'],
        ['system-id', 'systemId'],
        ['publisher-id', 'publisherId'],
        ['application-id', 'applicationId'],
      ] as const) {
        const t = textOf(iso[field])
        if (t) match[key] = t
      }
      return match
    }),
    resources: asList(os.resources).map((r) => ({
      arch: String(r['@arch'] ?? 'all'),
      minimum: resourcesOf(r.minimum),
      recommended: resourcesOf(r.recommended),
    })),
    devices: asList(os.devices).flatMap((d) =>
      asList(d.device).map((x) => ({ id: String(x['@id']), supported: x['@supported'] !== 'false' })),
    ),
    firmware: asList(os.firmware).map((f) => ({
      arch: String(f['@arch'] ?? 'all'),
      type: String(f['@type']),
      supported: f['@supported'] !== 'false',
    })),
  }
}

/** Every XML file under the osinfo-db `os` folder, in a stable order. */
export function osinfoFiles(osDir: string): string[] {
  const out: string[] = []
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(dir, e.name)
      if (e.isDirectory()) walk(p)
      else if (e.name.endsWith('.xml')) out.push(p)
    }
  }
  walk(osDir)
  return out
}

/** Parses every file and resolves inheritance; a file that does not parse is skipped, not fatal. */
export function parseOsinfoDb(osDir: string): OsRecord[] {
  const byUri = new Map<string, RawOs>()
  for (const file of osinfoFiles(osDir)) {
    let doc: Node
    try {
      doc = parser.parse(readFileSync(file, 'utf8')) as Node
    } catch {
      continue
    }
    for (const os of asList((doc.libosinfo as Node | undefined)?.os)) {
      const raw = rawOs(os)
      const seen = byUri.get(raw.uri)
      if (!seen) {
        byUri.set(raw.uri, raw)
        continue
      }
      // The same OS in another file (a `.d` folder): its lists add to what is known.
      seen.shortIds.push(...raw.shortIds.filter((s) => !seen.shortIds.includes(s)))
      seen.name ??= raw.name
      seen.family ??= raw.family
      seen.releaseDate ??= raw.releaseDate
      seen.parents.push(...raw.parents)
      seen.media.push(...raw.media)
      seen.resources.push(...raw.resources)
      seen.devices.push(...raw.devices)
      seen.firmware.push(...raw.firmware)
    }
  }
  return resolveAll(byUri)
}

interface Resolved {
  devices: Set<string>
  firmware: Map<string, boolean>
  minimum: Resources
  recommended: Resources
}

const X86 = new Set(['x86_64', 'all'])

function fill(own: Resources, from: Resources): Resources {
  return {
    ramMiB: own.ramMiB ?? from.ramMiB,
    storageBytes: own.storageBytes ?? from.storageBytes,
    cpus: own.cpus ?? from.cpus,
  }
}
const NONE: Resources = { ramMiB: null, storageBytes: null, cpus: null }

function resolveAll(byUri: Map<string, RawOs>): OsRecord[] {
  const memo = new Map<string, Resolved>()
  const resolve = (uri: string, path: Set<string>): Resolved => {
    const done = memo.get(uri)
    if (done) return done
    const raw = byUri.get(uri)
    const empty: Resolved = { devices: new Set(), firmware: new Map(), minimum: NONE, recommended: NONE }
    if (!raw || path.has(uri)) return empty
    path.add(uri)
    const out: Resolved = { devices: new Set(), firmware: new Map(), minimum: NONE, recommended: NONE }
    for (const p of raw.parents) {
      const parent = resolve(p, path)
      for (const d of parent.devices) out.devices.add(d)
      for (const [t, s] of parent.firmware) if (!out.firmware.has(t)) out.firmware.set(t, s)
      out.minimum = fill(out.minimum, parent.minimum)
      out.recommended = fill(out.recommended, parent.recommended)
    }
    for (const d of raw.devices) {
      if (d.supported) out.devices.add(d.id)
      else out.devices.delete(d.id)
    }
    for (const f of raw.firmware) if (f.arch === 'x86_64') out.firmware.set(f.type, f.supported)
    // x86_64 first, then `all`: what the OS states wins over what it inherits.
    const mine = raw.resources
      .filter((r) => X86.has(r.arch))
      .sort((a, b) => Number(a.arch !== 'x86_64') - Number(b.arch !== 'x86_64'))
    let minimum = NONE
    let recommended = NONE
    for (const r of mine) {
      minimum = fill(minimum, r.minimum)
      recommended = fill(recommended, r.recommended)
    }
    out.minimum = fill(minimum, out.minimum)
    out.recommended = fill(recommended, out.recommended)
    path.delete(uri)
    memo.set(uri, out)
    return out
  }
  const records: OsRecord[] = []
  for (const raw of byUri.values()) {
    const id = raw.shortIds[0]
    if (!id) continue
    const r = resolve(raw.uri, new Set())
    records.push({
      id,
      name: raw.name ?? id,
      family: raw.family,
      releaseDate: raw.releaseDate,
      media: raw.media.filter((m) => m.volumeId || m.applicationId || m.publisherId),
      minimum: r.minimum,
      recommended: r.recommended,
      virtio: {
        net: VIRTIO_NET_IDS.some((d) => r.devices.has(d)),
        blk: VIRTIO_BLK_IDS.some((d) => r.devices.has(d)),
      },
      firmware: { uefi: r.firmware.get('efi') === true, bios: r.firmware.get('bios') !== false },
      source: 'osinfo-db',
    })
  }
  return records
}
