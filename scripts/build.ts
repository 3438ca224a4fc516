// One command builds everything that is built: the renderer (vite → dist/renderer) and the desktop
// shell (esbuild → dist/main, dist/preload). The engine and CLI run their TypeScript as it is.
import { build as viteBuild } from 'vite'
import { buildDesktop } from '../main/build.ts'

await viteBuild({ configFile: new URL('../vite.config.ts', import.meta.url).pathname, logLevel: 'warn' })
const out = await buildDesktop()
process.stdout.write(`built dist/renderer, ${out.main}, ${out.preload}\n`)
