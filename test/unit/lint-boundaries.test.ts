// The import boundaries as ESLint applies them with the project's own config: snippets placed in
// the folders they would live in, refused or accepted by lint/import-allowlist.ts.
import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ESLint } from 'eslint'
import { describe, expect, it } from 'vitest'
import { allowlist } from '../../lint/import-allowlist.ts'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const eslint = new ESLint({ cwd: root, overrideConfigFile: join(root, 'eslint.config.js') })

/** The boundary rule's messages for `code` as the file `file` (relative to the root). */
async function boundaryErrors(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(root, file) })
  return (result?.messages ?? []).filter((m) => m.ruleId === 'vireo/import-boundaries').map((m) => m.message)
}

/** One import line per specifier, each used so that no other rule speaks up. */
function imports(...specifiers: string[]): string {
  return specifiers.map((s, i) => `import * as m${i} from '${s}'\nexport { m${i} }\n`).join('')
}

describe('the renderer sees only engine/api, its own files and its packages', () => {
  const file = 'renderer/library/Probe.tsx'

  it.each([
    ['engine internals', '../../engine/vm/library.ts', /renderer\/ may not import engine\/vm\/library\.ts/],
    [
      'engine internals spelled through engine/api',
      '../../engine/api/../vm/library.ts',
      /engine\/vm\/library\.ts/,
    ],
    ['an absolute path, even to engine/api', join(root, 'engine/api/rpc.ts'), /is an absolute path/],
    ['a bare Node module', 'fs', /the Node builtin node:fs \(written 'fs'\)/],
    ['a bare Node submodule', 'fs/promises', /the Node builtin node:fs/],
    ['a node: builtin', 'node:fs', /the Node builtin node:fs/],
    ['electron', 'electron', /the package electron/],
    ['the preload itself', '../../preload/preload.ts', /preload\/preload\.ts/],
    ['a path out of the repository', '../../../elsewhere/x.ts', /leads out of the repository/],
    ['a URL', 'file:///etc/passwd', /is a URL/],
  ])('refuses %s', async (_what, specifier, message) => {
    const errors = await boundaryErrors(file, imports(specifier))
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatch(message)
  })

  it('checks every way of importing: re-exports, dynamic and type imports, require', async () => {
    const errors = await boundaryErrors(
      file,
      [
        "export * from '../../engine/vm/library.ts'",
        "export { VmLibrary } from '../../engine/vm/library.ts'",
        "export const lazy = () => import('../../engine/vm/library.ts')",
        "export type Lib = typeof import('../../engine/vm/library.ts')",
        "import lib = require('../../engine/vm/library.ts')",
        'export { lib }',
        "export const viaRequire = require('../../engine/vm/library.ts')",
        'export const computed = (name: string) => import(`../../engine/${name}`)',
      ].join('\n'),
    )
    expect(errors).toHaveLength(7)
    expect(errors.slice(0, 6).every((e) => e.includes('engine/vm/library.ts'))).toBe(true)
    expect(errors[6]).toMatch(/computed at run time/)
  })

  it('accepts the contract, its own files, window.vireo and its packages', async () => {
    expect(
      await boundaryErrors(
        file,
        imports(
          '../../engine/api/rpc.ts',
          '../../engine/api/transports/port.ts',
          '../vm/actions.ts',
          './LibraryView.tsx',
          '../../preload/api.ts',
          'react',
          'react-dom/client',
          '@mui/material/Button',
          '@xterm/xterm',
        ),
      ),
    ).toEqual([])
  })
})

describe('the argv builder is pure', () => {
  const file = 'engine/qemu/argv/probe.ts'

  it.each([
    ['node:fs', /engine\/qemu\/argv\/ may not import the Node builtin node:fs/],
    ['../../qmp/client.ts', /may not import engine\/qmp\/client\.ts/],
    ['../qemu-process.ts', /may not import engine\/qemu\/qemu-process\.ts/],
    ['../../devices/attach.ts', /may not import engine\/devices\/attach\.ts/],
  ])('refuses %s', async (specifier, message) => {
    const errors = await boundaryErrors(file, imports(specifier))
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatch(message)
  })

  it('accepts engine/api, itself and node:path', async () => {
    expect(await boundaryErrors(file, imports('../../api/vm-config.ts', './json.ts', 'node:path'))).toEqual(
      [],
    )
  })
})

describe('engine/api is self-contained', () => {
  const file = 'engine/api/probe.ts'

  it.each(['../vm/library.ts', '../util/atomic-file.ts', 'node:fs', 'ws'])(
    'refuses %s',
    async (specifier) => {
      expect(await boundaryErrors(file, imports(specifier))).toHaveLength(1)
    },
  )

  it('accepts itself and zod', async () => {
    expect(await boundaryErrors(file, imports('./errors.ts', './transports/port.ts', 'zod'))).toEqual([])
  })
})

describe('the engine is layered', () => {
  it.each([
    ['engine/vm/probe.ts', '../host/host.ts'],
    ['engine/qemu/probe.ts', '../vm/library.ts'],
    ['engine/storage/probe.ts', '../snapshots/index.ts'],
    ['engine/peers/probe.ts', '../host/host.ts'],
    ['engine/util/probe.ts', '../api/errors.ts'],
    ['engine/host/probe.ts', 'electron'],
    ['engine/migration/incoming-reaper.mjs', '../api/errors.ts'],
  ])('refuses %s importing %s', async (file, specifier) => {
    expect(await boundaryErrors(file, imports(specifier))).toHaveLength(1)
  })

  it.each([
    ['engine/vm/probe.ts', '../util/process-alive.ts'],
    ['engine/snapshots/probe.ts', '../vm/library.ts'],
    ['engine/peers/probe.ts', '../host/conn-guard.ts'],
    ['engine/host/probe.ts', '../engine.ts'],
    ['main/probe.ts', '../engine/host/ensure-data-dir.ts'],
  ])('accepts %s importing %s', async (file, specifier) => {
    expect(await boundaryErrors(file, imports(specifier))).toEqual([])
  })
})

describe('every file has a place', () => {
  it.each(['stray/probe.ts', 'engine/display/probe.ts', 'engine/probe.ts'])(
    'refuses %s, which no entry covers',
    async (file) => {
      const errors = await boundaryErrors(file, 'export const x = 1\n')
      expect(errors).toEqual([
        `No import rule covers ${file}: give it or its folder an entry in lint/import-allowlist.ts.`,
      ])
    },
  )

  it('names only folders and files that exist', () => {
    const named = Object.entries(allowlist).flatMap(([key, rule]) => [key, ...(rule.code ?? [])])
    expect(named.filter((p) => !existsSync(join(root, p)))).toEqual([])
  })
})
