// `npm run dist`: the installers for this OS (electron-builder.yml: AppImage and deb on Linux, dmg
// on macOS, NSIS on Windows) in release/. Arguments after `--` go to electron-builder
// (`npm run dist -- --linux deb`).
//
// The accelerator probe's kernel is built from Debian's packages (`npm run test-guest`), not kept in
// the repository; it is copied into assets/probe here, where the packaged engine looks for it. A
// package without it could never verify KVM and would always choose TCG, so none is made.
import { spawn } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..')
export const PROBE_FILES = ['vmlinuz', 'probe-initrd.img'] as const

const hasProbe = (dir: string) => PROBE_FILES.every((f) => existsSync(join(dir, f)))

/** Puts the probe kernel into assets/probe; the reason in one sentence when there is none. */
export function stageProbe(opts: { root?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const base = opts.root ?? root
  const env = opts.env ?? process.env
  const target = join(base, 'assets', 'probe')
  const source = env.VIREO_TEST_GUEST_DIR ?? join(base, '.cache', 'test-guest')
  if (hasProbe(source)) {
    mkdirSync(target, { recursive: true })
    for (const f of PROBE_FILES) copyFileSync(join(source, f), join(target, f))
  } else if (!hasProbe(target)) {
    throw new Error(
      `the accelerator probe's kernel is missing (${PROBE_FILES.join(' and ')} in ${relative(base, source) || source}): ` +
        'build it with `npm run test-guest` first, since a package without it could never verify KVM',
    )
  }
  return target
}

if (import.meta.main) {
  try {
    stageProbe()
  } catch (err) {
    process.stderr.write(`vireo: ${(err as Error).message}.\n`)
    process.exit(1)
  }
  const { buildApp } = await import('./build.ts')
  await buildApp()
  const cli = join(root, 'node_modules', 'electron-builder', 'cli.js')
  const child = spawn(process.execPath, [cli, '--publish', 'never', ...process.argv.slice(2)], {
    cwd: root,
    stdio: 'inherit',
  })
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
}
