// A bare .ovf with its files beside it (what ovftool writes with `--targetType=OVF`). Files are
// read where they are, never copied; each must resolve, links included, inside the descriptor's folder.
import { createReadStream, existsSync, readFileSync, realpathSync, statSync } from 'node:fs'
import { basename, dirname, join, relative, sep } from 'node:path'
import { VireoError } from '../api/errors.ts'
import { MAX_DESCRIPTOR_BYTES } from './limits.ts'
import { algorithmsOf, MultiHash, parseManifest, verifyDigest, type Manifest } from './manifest.ts'
import type { ApplianceSource } from './source.ts'

function inside(folder: string, path: string): boolean {
  const r = relative(folder, path)
  return r !== '' && !r.startsWith(`..${sep}`) && r !== '..' && !r.startsWith(sep)
}

export function openOvfFolder(path: string): ApplianceSource {
  const size = statSync(path).size
  if (size > MAX_DESCRIPTOR_BYTES)
    throw new VireoError('invalid_request', `${path} is too large to be an OVF descriptor`)
  const folder = realpathSync(dirname(path))
  const bytes = readFileSync(path)
  const mfPath = join(folder, basename(path).replace(/\.ovf$/i, '.mf'))
  let manifest: Manifest | null = null
  try {
    manifest = parseManifest(readFileSync(mfPath, 'utf8'), `the manifest ${basename(mfPath)}`)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  if (manifest) {
    const hash = new MultiHash(algorithmsOf(manifest))
    hash.update(bytes)
    verifyDigest(manifest, basename(path), hash.digests())
  }
  return {
    path,
    descriptor: bytes.toString('utf8'),
    manifest,
    has: (name) => existsSync(join(folder, name)),
    async materialize(names, _stagingDir, onBytes, bounds) {
      const out = new Map<string, string>()
      const total = names.reduce((n, name) => n + (statSync(join(folder, name)).size || 0), 0)
      let done = 0
      for (const name of names) {
        const p = join(folder, name)
        let real: string
        try {
          real = realpathSync(p)
        } catch {
          throw new VireoError('not_found', `the appliance's file ${p} does not exist`)
        }
        if (!inside(folder, real)) {
          throw new VireoError(
            'invalid_request',
            `the appliance's file ${name} leads outside ${folder}; Vireo refuses it`,
          )
        }
        const st = statSync(real)
        if (!st.isFile())
          throw new VireoError('invalid_request', `the appliance's file ${p} is not a regular file`)
        const bound = bounds?.get(name)
        if (bound && st.size > bound.max) throw bound.refusal()
        if (manifest) {
          const hash = new MultiHash(algorithmsOf(manifest))
          for await (const c of createReadStream(real)) {
            hash.update(c as Buffer)
            done += (c as Buffer).length
            onBytes?.(done, total)
          }
          verifyDigest(manifest, name, hash.digests())
        }
        out.set(name, real)
      }
      return out
    },
  }
}
