// Where an appliance's files come from: an OVA (a tar, perhaps gzip-compressed) or a bare .ovf with
// its files beside it. Either way the importer sees one descriptor, an optional manifest, and files
// named relative to the descriptor, which it asks to have written into a staging folder it owns.
import type { Manifest } from './manifest.ts'
import type { Bound } from './unpack-bounds.ts'

export interface ApplianceSource {
  /** For messages: the .ova or .ovf the user named. */
  path: string
  descriptor: string
  manifest: Manifest | null
  /** Whether a file beside the descriptor (a relative, `/`-separated name) exists. */
  has(name: string): boolean
  /**
   * Makes these members readable as plain files, verified against the manifest when there is one:
   * an OVA's are extracted into `stagingDir` (under names of Vireo's choosing), a folder's are read
   * where they are. A member larger than its bound is refused before a byte of it is written.
   * Returns each member's path.
   */
  materialize(
    names: readonly string[],
    stagingDir: string,
    onBytes?: (done: number, total: number) => void,
    bounds?: ReadonlyMap<string, Bound>,
  ): Promise<Map<string, string>>
}
