// The runtime dependencies and everything they pull in, found as Node finds them: nested under the
// package that needs them first (npm nests a package several others need, such as b4a, when it does
// not hoist it), then in the folders above. electron-builder packs each one at node_modules/NAME, so
// a nested one needs its own asarUnpack entry too. Optional ones not installed are skipped.
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'

export interface InstalledPackage {
  name: string
  /** Its folder, wherever npm put it. */
  dir: string
}

export function runtimeClosure(root: string, roots: string[]): InstalledPackage[] {
  const seen = new Map<string, string>()
  const visit = (name: string, from: string) => {
    if (seen.has(name)) return
    let dir = from
    let manifest = join(dir, 'node_modules', name, 'package.json')
    while (!existsSync(manifest)) {
      if (dir === root || dirname(dir) === dir) return
      dir = dirname(dir)
      manifest = join(dir, 'node_modules', name, 'package.json')
    }
    seen.set(name, dirname(manifest))
    const p = JSON.parse(readFileSync(manifest, 'utf8')) as {
      dependencies?: Record<string, string>
      optionalDependencies?: Record<string, string>
    }
    for (const d of Object.keys({ ...p.dependencies, ...p.optionalDependencies })) visit(d, dirname(manifest))
  }
  for (const r of roots) visit(r, root)
  return [...seen].map(([name, dir]) => ({ name, dir })).sort((a, b) => a.name.localeCompare(b.name))
}
