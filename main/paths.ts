// Where the app's parts live, in a checkout (`electron .`) and packaged (resources/app.asar, with
// the engine, the CLI and the QEMU-facing assets unpacked beside it: see electron-builder.yml).
import { join, resolve } from 'node:path'
import { defaultDataDir } from '../engine/util/data-dir.ts'

export interface AppPaths {
  /** app.getAppPath(): the checkout, or …/resources/app.asar. */
  root: string
  /** Files that other processes run or read (the engine, the CLI, QEMU's assets). */
  unpackedRoot: string
  preload: string
  rendererDir: string
  engineEntry: string
  cli: string
  icon: string
}

export function appPaths(appPath: string): AppPaths {
  const root = resolve(appPath)
  const unpackedRoot = root.endsWith('.asar') ? `${root}.unpacked` : root
  return {
    root,
    unpackedRoot,
    preload: join(root, 'dist', 'preload', 'preload.cjs'),
    rendererDir: join(root, 'dist', 'renderer'),
    engineEntry: join(unpackedRoot, 'engine', 'host', 'utility-main.ts'),
    cli: join(unpackedRoot, 'bin', 'vireo'),
    icon: join(root, 'assets', 'icon.png'),
  }
}

/** `--data-dir DIR` / `--data-dir=DIR` on the app's command line, else VIREO_DATA_DIR, else the user data dir. */
export function dataDirFromCommandLine(argv: readonly string[], env: NodeJS.ProcessEnv): string {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? ''
    const value =
      arg === '--data-dir' ? argv[i + 1] : arg.startsWith('--data-dir=') ? arg.slice(11) : undefined
    if (value) return resolve(value)
  }
  return defaultDataDir(env)
}
