// Every host file an image makes QEMU read or write: the image, its backing files, a qcow2's
// external data file, a VMDK's extents. A disk from a stranger may name /etc/shadow as its backing
// file or an extent, or loop; so the chain is walked from the headers alone (image-headers.ts),
// and each file in it must be one the user gave for this disk or one inside the VM's folder.
// The chain found is what QEMU is then told to open, node by node (engine/qemu/argv/disks.ts).
import { realpathSync, statSync } from 'node:fs'
import { dirname, isAbsolute, relative, resolve } from 'node:path'
import { VireoError } from '../api/errors.ts'
import { KNOWN_FORMATS, readImageHeader, type KnownFormat } from './image-headers.ts'

export interface ChainNode {
  /** Absolute, as QEMU is told to open it. */
  path: string
  /** The file behind it, symlinks resolved: what policies and same-file checks compare. */
  real: string
  format: KnownFormat
  /** qcow2's external data file, absolute. */
  dataFile: string | null
  /** A VMDK's extent files other than itself, absolute. */
  extents: string[]
}

/** A Vireo snapshot tree is one layer per snapshot; this bound only stops a runaway walk. */
const MAX_DEPTH = 1000

/** QEMU reads a name with a colon before any slash as a protocol (`nbd:`, `json:`, `file:`, …). */
function hasProtocol(name: string): boolean {
  const colon = name.indexOf(':')
  if (colon < 0) return false
  const slash = name.indexOf('/')
  return slash < 0 || colon < slash
}

/** Resolves a name found inside `owner` the way QEMU does: relative to the owner's folder. */
function referenced(owner: string, name: string, role: string): string {
  if (name === '' || name.includes('\0'))
    throw new VireoError(
      'invalid_request',
      `${owner} names an empty or malformed file as its ${role}; refused`,
    )
  if (hasProtocol(name)) {
    throw new VireoError(
      'invalid_request',
      `${owner} names "${name.slice(0, 200)}" as its ${role}, which is not a plain file path; Vireo refuses images that reach beyond files`,
    )
  }
  return isAbsolute(name) ? resolve(name) : resolve(dirname(owner), name)
}

function realOf(path: string, owner: string | null, role: string): string {
  try {
    const real = realpathSync(path)
    const st = statSync(real)
    if (!st.isFile() && !st.isBlockDevice())
      throw new VireoError(
        'invalid_request',
        `${owner ? `${owner} names ${path} as its ${role}, which` : `${path}`} is not a regular file or a block device`,
      )
    return real
  } catch (err) {
    if (err instanceof VireoError) throw err
    throw new VireoError(
      'not_found',
      owner
        ? `${owner} names ${path} as its ${role}, which does not exist`
        : `the image ${path} does not exist`,
    )
  }
}

export interface ChainPolicy {
  /** Files the user named for this disk (the image itself, each --allow-backing). */
  named: readonly string[]
  /** Folders whose files Vireo made (the VM's folder): allowed without naming. */
  insideDirs: readonly string[]
  /** The sentence for a file not allowed, where the default (which offers --allow-backing) does not fit. */
  refusal?: (by: string | null, file: string, role: ChainRole) => string
}

/** The file behind a path, or the path itself when it does not exist (yet). */
export function realOrSelf(p: string): string {
  try {
    return realpathSync(p)
  } catch {
    return resolve(p)
  }
}

function inside(dir: string, file: string): boolean {
  const rel = relative(dir, file)
  return rel !== '' && !rel.startsWith('../') && rel !== '..' && !isAbsolute(rel)
}

function allowedBy(policy: ChainPolicy): (real: string) => boolean {
  const named = new Set(policy.named.map(realOrSelf))
  const dirs = policy.insideDirs.map(realOrSelf)
  return (real) => named.has(real) || dirs.some((d) => inside(d, real))
}

/** A file of the chain that the policy does not allow; it carries what was walked before it. */
export class NotGivenError extends VireoError {
  readonly file: string
  readonly role: ChainRole
  readonly walked: readonly ChainNode[]
  constructor(message: string, file: string, role: ChainRole, walked: readonly ChainNode[]) {
    super('invalid_request', message)
    this.file = file
    this.role = role
    this.walked = walked
  }
}

export type ChainRole = 'image' | 'backing file' | 'external data file' | 'extent'

function notGiven(
  policy: ChainPolicy | undefined,
  by: string | null,
  f: string,
  role: ChainRole,
  walked: readonly ChainNode[],
): NotGivenError {
  const message = policy?.refusal
    ? policy.refusal(by, f, role)
    : by
      ? `${by} names ${f} as its ${role}, a file you did not give Vireo; if the image is meant to read it, name it with --allow-backing ${f}`
      : `the image ${f} is not one you gave for this disk; refused`
  return new NotGivenError(message, f, by ? role : 'image', walked)
}

/**
 * The chain of `top`, top first. `format` is the top's format when the caller already knows it (a
 * VM's disk); otherwise it is probed from the header. Throws a sentence for anything QEMU would
 * open that is not a plain file, for loops, and for formats Vireo does not understand. With a
 * policy, each file is judged before a byte of it is read: a file the user did not give is
 * refused, never opened.
 */
export function walkImageChain(
  top: string,
  opts: { format?: KnownFormat; policy?: ChainPolicy } = {},
): ChainNode[] {
  const allowed = opts.policy ? allowedBy(opts.policy) : () => true
  const nodes: ChainNode[] = []
  const seen = new Map<string, string>()
  let path = resolve(top)
  let declared: string | null = opts.format ?? null
  let owner: string | null = null
  for (;;) {
    const real = realOf(path, owner, 'backing file')
    if (seen.has(real)) {
      throw new VireoError(
        'invalid_request',
        `the backing chain of ${top} loops: ${owner} names ${path}, which is already in the chain; refused`,
      )
    }
    seen.set(real, path)
    if (!allowed(real)) throw notGiven(opts.policy, owner, path, 'backing file', nodes)
    if (nodes.length >= MAX_DEPTH)
      throw new VireoError(
        'invalid_request',
        `the backing chain of ${top} is over ${MAX_DEPTH} files deep; refused`,
      )
    if (declared !== null && !(KNOWN_FORMATS as readonly string[]).includes(declared)) {
      throw new VireoError(
        'invalid_request',
        `${owner} declares its backing file ${path} to be "${declared.slice(0, 40)}", a format Vireo does not run; refused`,
      )
    }
    const header = readImageHeader(path)
    // A declared format wins, as it does in QEMU: a qcow2 file read as raw names nothing.
    const fmt = (declared ?? header.format) as KnownFormat
    if (declared !== null && declared !== 'raw' && declared !== header.format) {
      throw new VireoError(
        'invalid_request',
        `${owner ? `${owner} declares ${path} to be ${declared}` : `${path} is recorded as ${declared}`}, but it is not a ${declared} image`,
      )
    }
    const own = fmt === header.format ? header : { backing: null, dataFile: null, extents: [] }
    const other = (name: string, role: ChainRole): string => {
      const abs = referenced(path, name, role)
      const r = realOf(abs, path, role)
      if (r !== real && !allowed(r))
        throw notGiven(opts.policy, path, abs, role, [
          ...nodes,
          { path, real, format: fmt, dataFile: null, extents: [] },
        ])
      return abs
    }
    const dataFile = own.dataFile === null ? null : other(own.dataFile, 'external data file')
    const extents = own.extents.map((e) => other(e, 'extent')).filter((e) => realOrSelf(e) !== real)
    nodes.push({ path, real, format: fmt, dataFile, extents })
    if (!own.backing) return nodes
    owner = path
    path = referenced(path, own.backing.name, 'backing file')
    declared = own.backing.format
  }
}

/** Every file of a chain: the images, data files and extents. */
export function chainFiles(nodes: readonly ChainNode[]): string[] {
  return nodes.flatMap((n) => [n.path, ...(n.dataFile ? [n.dataFile] : []), ...n.extents])
}

/** Every file of a chain with the part it plays, for `vireo inspect` and the wizard. */
export function chainRoles(
  nodes: readonly ChainNode[],
): { path: string; role: ChainRole; format: string | null }[] {
  return nodes.flatMap((n, i) => [
    { path: n.path, role: i === 0 ? ('image' as const) : ('backing file' as const), format: n.format },
    ...(n.dataFile ? [{ path: n.dataFile, role: 'external data file' as const, format: null }] : []),
    ...n.extents.map((e) => ({ path: e, role: 'extent' as const, format: null })),
  ])
}
