// What an import specifier names, read from its spelling alone. Vireo's imports carry their file
// extensions (NodeNext), so a relative specifier already is a path: normalising it is all the
// resolving the import rules need, and a spelling such as '../api/../vm/x.ts' counts as engine/vm.
import { builtinModules } from 'node:module'
import { posix } from 'node:path'

export type ImportTarget =
  /** A file of this repository, relative to its root ('engine/vm/library.ts'). */
  | { kind: 'file'; path: string }
  /** A Node builtin by its node: name ('node:fs' for 'fs', 'node:fs' and 'node:fs/promises'). */
  | { kind: 'builtin'; name: string }
  /** An npm package by name ('react', '@mui/material'), whatever subpath follows. */
  | { kind: 'package'; name: string }
  /** A spelling no rule can place. */
  | { kind: 'refused'; why: 'absolute' | 'outside' | 'url' }

const BUILTINS = new Set(builtinModules.map((m) => m.split('/')[0]))

/** `importer` is the importing file's path relative to the repository root, with '/' separators. */
export function resolveImport(specifier: string, importer: string): ImportTarget {
  if (specifier === '.' || specifier === '..' || specifier.startsWith('./') || specifier.startsWith('../')) {
    // A bundler's query ('./x.css?inline') is not part of the path.
    const path = posix.normalize(posix.join(posix.dirname(importer), specifier.replace(/[?#].*$/, '')))
    if (path === '..' || path.startsWith('../')) return { kind: 'refused', why: 'outside' }
    return { kind: 'file', path }
  }
  if (specifier.startsWith('/') || specifier.startsWith('\\') || /^[A-Za-z]:[\\/]/.test(specifier)) {
    return { kind: 'refused', why: 'absolute' }
  }
  if (specifier.startsWith('node:'))
    return { kind: 'builtin', name: `node:${specifier.slice(5).split('/')[0]}` }
  // A scheme (file:, data:, https:): a package name never holds a colon.
  if (specifier.includes(':')) return { kind: 'refused', why: 'url' }
  const parts = specifier.split('/')
  if (BUILTINS.has(parts[0]!)) return { kind: 'builtin', name: `node:${parts[0]}` }
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!
  return { kind: 'package', name }
}
