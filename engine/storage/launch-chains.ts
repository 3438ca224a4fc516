// The image chains a VM's QEMU is told to open, walked and checked at every start (a snapshot's
// layers, a migrated VM's files and a disk the user gave all pass through here), so no name found
// in an image makes QEMU open a file the user did not give this VM.
import { isAbsolute, resolve } from 'node:path'
import type { VmConfig } from '../api/vm-config.ts'
import type { ChainLink } from '../qemu/argv/context.ts'
import { walkImageChain, type ChainNode } from './image-chain.ts'

function links(nodes: readonly ChainNode[]): ChainLink[] {
  return nodes.map(({ path, format, dataFile }) => ({ path, format, dataFile }))
}

/**
 * By disk id, and `nvram` (the UEFI variable store) when given. The variable store is always
 * Vireo's own file (made from OVMF's template, never the user's), so its chain may reach the
 * library's other VM folders, as a linked clone's does.
 */
export function vmChains(
  config: VmConfig,
  vmDir: string,
  nvram: { abs: string; libraryDir: string } | null,
  opts: { strict: boolean },
): Record<string, ChainLink[]> {
  const out: Record<string, ChainLink[]> = {}
  const walk = (f: () => ChainLink[]): ChainLink[] | null => {
    try {
      return f()
    } catch (err) {
      if (opts.strict) throw err
      return null
    }
  }
  for (const d of config.disks) {
    const top = isAbsolute(d.path) ? d.path : resolve(vmDir, d.path)
    // VMs made before chains were checked carry no list: what they already read stays allowed,
    // but the walk still refuses protocols, loops and unknown formats.
    const policy =
      d.trusted === undefined
        ? undefined
        : { named: [...d.trusted, ...(isAbsolute(d.path) ? [d.path] : [])], insideDirs: [vmDir] }
    const chain = walk(() => links(walkImageChain(top, { format: d.format, ...(policy ? { policy } : {}) })))
    if (chain) out[d.id] = chain
  }
  if (nvram) {
    const policy = { named: [], insideDirs: [vmDir, nvram.libraryDir] }
    const chain = walk(() => links(walkImageChain(nvram.abs, { format: 'qcow2', policy })))
    if (chain) out['nvram'] = chain
  }
  return out
}
