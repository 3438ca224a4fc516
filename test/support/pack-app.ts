// `node test/support/pack-app.ts PROJECT OUT ELECTRON_DIST`: electron-builder's own packing of
// PROJECT with electron-builder.yml (its `dir` target for Linux: the app folder an AppImage or deb
// is made from) around an unpacked Electron given here, since Electron's zip cannot be downloaded.
// Fuses are left out: they are written into a real Electron binary.
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { build, Platform, type Configuration } from 'electron-builder'
import { parse } from 'yaml'

const [project, out, electronDist] = process.argv.slice(2).map((p) => resolve(p))
const root = resolve(import.meta.dirname, '..', '..')
const config = parse(readFileSync(join(root, 'electron-builder.yml'), 'utf8')) as Configuration
const electron = JSON.parse(readFileSync(join(root, 'node_modules/electron/package.json'), 'utf8')) as {
  version: string
}
await build({
  projectDir: project!,
  targets: Platform.LINUX.createTarget('dir'),
  publish: 'never',
  config: {
    ...config,
    directories: { ...config.directories, output: out! },
    electronDist: electronDist!,
    electronVersion: electron.version,
    electronFuses: null,
    npmRebuild: false,
  },
})
