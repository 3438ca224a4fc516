// Bundles the desktop shell: main/main.ts → dist/main/main.js (ESM, what package.json's "main"
// names) and preload/preload.ts → dist/preload/preload.cjs (one CommonJS file: a sandboxed preload
// can require nothing but electron). The engine is not bundled: the utility process runs its
// TypeScript as it is, like the CLI. Run with `node main/build.ts`, or call buildDesktop().
import { readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

export interface BuildOptions {
  /** The checkout. */
  root?: string
  /** Where dist/ goes (the checkout's own dist/ unless given). */
  outDir?: string
}

export async function buildDesktop(opts: BuildOptions = {}): Promise<{ main: string; preload: string }> {
  const root = opts.root ?? resolve(dirname(fileURLToPath(import.meta.url)), '..')
  const outDir = resolve(root, opts.outDir ?? 'dist')
  const main = join(outDir, 'main', 'main.js')
  const preload = join(outDir, 'preload', 'preload.cjs')
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>
  }
  // Runtime dependencies ship in node_modules; devDependencies (electron-store) are bundled in.
  const external = ['electron', ...Object.keys(pkg.dependencies ?? {}), 'bufferutil', 'utf-8-validate']
  await build({
    absWorkingDir: root,
    entryPoints: ['main/main.ts'],
    outfile: main,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    sourcemap: true,
    external,
    // Bundled CommonJS (ajv, under electron-store) calls require: give the ES module one.
    banner: {
      js: "import { createRequire as __vireoRequire } from 'node:module'; const require = __vireoRequire(import.meta.url);",
    },
    logLevel: 'warning',
  })
  await build({
    absWorkingDir: root,
    entryPoints: ['preload/preload.ts'],
    outfile: preload,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'chrome130',
    sourcemap: 'inline',
    external: ['electron'],
    logLevel: 'warning',
  })
  return { main, preload }
}

if (import.meta.main) await buildDesktop()
