// One command builds everything that is built: the renderer (vite → dist/renderer) and the desktop
// shell (esbuild → dist/main, dist/preload). The engine and CLI run their TypeScript as it is.
// `node scripts/build.ts --out-dir DIR` builds elsewhere (tests do, so as not to touch dist/).
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { build as viteBuild } from 'vite'
import { buildDesktop } from '../main/build.ts'

const root = resolve(import.meta.dirname, '..')

export interface BuiltApp {
  renderer: string
  main: string
  preload: string
}

export async function buildApp(opts: { outDir?: string } = {}): Promise<BuiltApp> {
  const outDir = resolve(root, opts.outDir ?? 'dist')
  const renderer = join(outDir, 'renderer')
  await viteBuild({
    configFile: join(root, 'vite.config.ts'),
    logLevel: 'warn',
    build: { outDir: renderer },
  })
  const desktop = await buildDesktop({ root, outDir })
  return { renderer, ...desktop }
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { 'out-dir': { type: 'string' } } })
  const out = await buildApp(values['out-dir'] ? { outDir: values['out-dir'] } : {})
  process.stdout.write(`built ${out.renderer}, ${out.main}, ${out.preload}\n`)
}
