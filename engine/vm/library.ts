// The VM library: one folder per VM under <data dir>/vms/<uuid>, each with vm.json, disks/ and logs/.
// Names are display names, unique per host under nameKey (case, Unicode normalization and invisible
// characters aside); ids are UUIDs.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { isAbsolute, join, resolve } from 'node:path'
import { VireoError } from '../api/errors.ts'
import { readInput } from '../api/input-errors.ts'
import { nameKey, VmConfig, type VmConfigInput } from '../api/vm-config.ts'
import { quoted } from '../api/visible-text.ts'
import { DATA_DIR_MODE } from '../util/data-dir.ts'
import { writeJsonAtomic } from '../util/atomic-file.ts'

export interface VmRecord {
  config: VmConfig
  dir: string
}

export interface LibraryProblem {
  dir: string
  message: string
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export class VmLibrary {
  readonly vmsDir: string
  private readonly vms = new Map<string, VmRecord>()
  /** Folders that could not be loaded; reported, never deleted. */
  readonly problems: LibraryProblem[] = []

  constructor(vmsDir: string) {
    this.vmsDir = vmsDir
  }

  load(): void {
    mkdirSync(this.vmsDir, { recursive: true, mode: DATA_DIR_MODE })
    this.vms.clear()
    this.problems.length = 0
    for (const entry of readdirSync(this.vmsDir, { withFileTypes: true })) {
      if (!entry.isDirectory() || !UUID_RE.test(entry.name)) continue
      const dir = join(this.vmsDir, entry.name)
      const file = join(dir, 'vm.json')
      if (!existsSync(file)) continue
      try {
        const config = readInput(VmConfig, JSON.parse(readFileSync(file, 'utf8')), 'the VM settings')
        if (config.id !== entry.name) throw new Error(`vm.json says id ${config.id}`)
        this.vms.set(config.id, { config, dir })
      } catch (err) {
        this.problems.push({ dir, message: `cannot read ${file}: ${(err as Error).message}` })
      }
    }
  }

  list(): VmRecord[] {
    return [...this.vms.values()].sort((a, b) => a.config.createdAt.localeCompare(b.config.createdAt))
  }

  /** Finds a VM by UUID or by name. */
  resolve(ref: string): VmRecord {
    const byId = this.vms.get(ref.toLowerCase())
    if (byId) return byId
    const wanted = nameKey(ref)
    for (const rec of this.vms.values()) if (nameKey(rec.config.name) === wanted) return rec
    throw new VireoError('not_found', `there is no VM named ${quoted(ref)}`)
  }

  find(ref: string): VmRecord | null {
    try {
      return this.resolve(ref)
    } catch {
      return null
    }
  }

  assertNameFree(name: string, exceptId?: string): void {
    const wanted = nameKey(name)
    for (const rec of this.vms.values()) {
      if (rec.config.id !== exceptId && nameKey(rec.config.name) === wanted) {
        throw new VireoError(
          'conflict',
          `a VM named ${quoted(rec.config.name)} already exists; choose another name`,
        )
      }
    }
  }

  dirFor(id: string): string {
    return join(this.vmsDir, id)
  }

  /** Writes a new VM's folder. The caller has made the folder and its disks already. */
  add(input: VmConfigInput): VmRecord {
    const config = this.checked(input)
    this.assertNameFree(config.name)
    const dir = this.dirFor(config.id)
    mkdirSync(join(dir, 'logs'), { recursive: true, mode: DATA_DIR_MODE })
    writeJsonAtomic(join(dir, 'vm.json'), config)
    const rec = { config, dir }
    this.vms.set(config.id, rec)
    return rec
  }

  save(input: VmConfigInput): VmRecord {
    const config = this.checked(input)
    const rec = this.vms.get(config.id)
    if (!rec) throw new VireoError('not_found', `no VM with id ${config.id}`)
    // Only a new name must be free: two look-alike names an older Vireo let in still save.
    if (config.name !== rec.config.name) this.assertNameFree(config.name, config.id)
    writeJsonAtomic(join(rec.dir, 'vm.json'), config)
    rec.config = config
    return rec
  }

  /** What the engine built is checked like a file: failing it is Vireo's bug, said in one line. */
  private checked(input: VmConfigInput): VmConfig {
    return readInput(VmConfig, input, 'the VM settings Vireo made', 'internal')
  }

  /**
   * Removes a VM from the library. With keepDisks, its disks stay where they are (moved out of the
   * VM folder into <vms>/../kept-disks/<name>-<id>) so that nothing the user may want is lost.
   */
  remove(id: string, keepDisks: boolean): string | null {
    const rec = this.vms.get(id)
    if (!rec) throw new VireoError('not_found', `no VM with id ${id}`)
    this.vms.delete(id)
    let kept: string | null = null
    if (keepDisks) {
      const disksDir = join(rec.dir, 'disks')
      if (existsSync(disksDir)) {
        kept = join(this.vmsDir, '..', 'kept-disks', id)
        mkdirSync(join(kept, '..'), { recursive: true, mode: DATA_DIR_MODE })
        rmSync(kept, { recursive: true, force: true })
        // Same filesystem: a rename, never a copy of gigabytes.
        renameSync(disksDir, kept)
      }
    }
    rmSync(rec.dir, { recursive: true, force: true })
    return kept
  }
}

/** Resolves a path stored in vm.json (relative to the VM's folder) to an absolute path. */
export function resolveVmPath(vmDir: string, p: string): string {
  return isAbsolute(p) ? p : resolve(vmDir, p)
}
