// The typed objects behind every -device, -blockdev, -netdev and -object. Each is built once and
// rendered twice: as one JSON argv string at start, and as the arguments of QMP device_add,
// blockdev-add, netdev_add and object-add for hot-plug (QEMU 7.2 accepts both, typed the same).

export type JsonScalar = string | number | boolean

/** Arguments of device_add / `-device '{…}'`. */
export interface DeviceJson {
  driver: string
  id: string
  bus?: string
  addr?: string
  [property: string]: JsonScalar | undefined
}

export interface BlockCacheJson {
  direct: boolean
  'no-flush': boolean
}

interface BlockdevCommon {
  'node-name': string
  'read-only': boolean
  cache?: BlockCacheJson
  discard?: 'unmap' | 'ignore'
  'detect-zeroes'?: 'off' | 'on' | 'unmap'
}

/** The protocol node: the file on the host. */
export interface FileBlockdevJson extends BlockdevCommon {
  driver: 'file'
  filename: string
}

/** The format node a device attaches to, on top of its file node. */
export interface FormatBlockdevJson extends BlockdevCommon {
  driver: 'qcow2' | 'raw' | 'vmdk' | 'vdi' | 'vhdx' | 'vpc'
  file: string
  /** qcow2 and vmdk: the image below, or null for none; absent, QEMU follows the image's own name. */
  backing?: InlineImageJson | null
  /** qcow2: its external data file. */
  'data-file'?: InlineFileJson
}

/** A file node defined inside its parent's options. */
export interface InlineFileJson {
  driver: 'file'
  'node-name': string
  filename: string
}

/**
 * An image below the top one, defined inside its parent rather than by reference: QEMU then
 * opens it read-only as a backing file yet can reopen it writable for a block job (block-stream
 * into a middle layer), which a node given by reference, with options of its own, refuses.
 */
export interface InlineImageJson {
  driver: 'qcow2' | 'raw' | 'vmdk' | 'vdi' | 'vhdx' | 'vpc'
  'node-name': string
  file: InlineFileJson
  backing?: InlineImageJson | null
  'data-file'?: InlineFileJson
}

/** Arguments of blockdev-add / `-blockdev '{…}'`. */
export type BlockdevJson = FileBlockdevJson | FormatBlockdevJson

/** Arguments of netdev_add / `-netdev '{…}'` (QAPI's Netdev: hostfwd is a list of {str}). */
export type NetdevJson =
  | { type: 'user'; id: string; hostfwd?: { str: string }[] }
  | { type: 'stream'; id: string; server: boolean; addr: { type: 'unix'; path: string } }

/** Arguments of object-add / `-object '{…}'`. */
export interface ObjectJson {
  'qom-type': string
  id: string
  [property: string]: JsonScalar
}

export function deviceArg(d: DeviceJson): string[] {
  return ['-device', JSON.stringify(d)]
}

export function blockdevArgs(nodes: BlockdevJson[]): string[] {
  return nodes.flatMap((n) => ['-blockdev', JSON.stringify(n)])
}

export function netdevArg(n: NetdevJson): string[] {
  return ['-netdev', JSON.stringify(n)]
}

export function objectArg(o: ObjectJson): string[] {
  return ['-object', JSON.stringify(o)]
}
