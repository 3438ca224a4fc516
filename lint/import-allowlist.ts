// What each folder may import, in VS Code's manner: an entry per folder (or per file, where one file
// differs from its folder) lists the code, npm packages and Node builtins it may use; anything else
// is refused, and so is a file no entry covers (lint/import-boundaries.ts). A folder lists itself.
//
// The engine is layered, each layer importing only from those below it:
//   host, cli           the processes that run an engine or reach one
//   engine.ts           the composition root
//   migration, peers, snapshots, devices, images, appliance   services that drive the VMs
//   vm, storage, net, qemu, qmp, console, osinfo               a VM and its parts
//   qemu/argv           pure: a config in, QEMU's argv out, no I/O
//   api, util           the contract (no Node at all); helpers for files, processes, the data dir
// The renderer sees only the contract, and the Electron shell only the contract and the entry
// points it starts.
import type { Allowlist } from './import-boundaries.ts'

const ALL_NODE = ['node:*']

/** The peers' server is built from the host's connection pieces while host/serve-port.ts builds on
 * it: a cycle between the two folders, kept to these files until the pieces move below both. */
const HOST_CONNECTION_PIECES = [
  'engine/host/conn-guard.ts',
  'engine/host/conn-limits.ts',
  'engine/host/front-door.ts',
  'engine/host/limited-http.ts',
  'engine/host/refusal.ts',
  'engine/host/rpc-upgrade.ts',
  'engine/host/ws-liveness.ts',
]

export const allowlist: Allowlist = {
  'engine/host/': {
    code: ['engine/api/', 'engine/util/', 'engine/host/', 'engine/engine.ts', 'engine/peers/'],
    packages: ['ws', 'zod'],
    node: ALL_NODE,
  },
  'engine/cli/': {
    // The CLI reaches the engine over the contract; it starts a host itself when none runs.
    code: ['engine/api/', 'engine/util/', 'engine/cli/', 'engine/host/', 'engine/qemu/argv/shell-quote.ts'],
    packages: ['commander', 'ws'],
    node: ALL_NODE,
  },
  'engine/engine.ts': {
    code: [
      'engine/api/',
      'engine/util/',
      'engine/migration/',
      'engine/peers/',
      'engine/snapshots/',
      'engine/devices/',
      'engine/images/',
      'engine/appliance/',
      'engine/vm/',
      'engine/storage/',
      'engine/net/',
      'engine/qemu/',
      'engine/qmp/',
      'engine/osinfo/',
    ],
    node: ALL_NODE,
  },
  'engine/migration/': {
    code: [
      'engine/api/',
      'engine/migration/',
      'engine/peers/',
      'engine/snapshots/',
      'engine/storage/',
      'engine/qemu/',
      'engine/qmp/',
    ],
    packages: ['zod'],
    node: ALL_NODE,
  },
  // Runs apart from the engine, under plain Node or Electron-as-Node, with nothing to build.
  'engine/migration/incoming-reaper.mjs': { node: ['node:fs', 'node:path'] },
  'engine/peers/': {
    code: ['engine/api/', 'engine/util/', 'engine/peers/', ...HOST_CONNECTION_PIECES],
    packages: ['@serenity-kit/opaque', 'ws', 'zod'],
    node: ALL_NODE,
  },
  'engine/snapshots/': {
    code: [
      'engine/api/',
      'engine/util/',
      'engine/snapshots/',
      'engine/vm/',
      'engine/storage/',
      'engine/qemu/',
      'engine/qmp/',
    ],
    packages: ['zod'],
    node: ALL_NODE,
  },
  'engine/devices/': {
    code: [
      'engine/api/',
      'engine/devices/',
      'engine/images/',
      'engine/vm/',
      'engine/storage/',
      'engine/net/',
      'engine/qemu/argv/',
      'engine/qmp/',
    ],
    node: ALL_NODE,
  },
  'engine/images/': {
    code: ['engine/api/', 'engine/images/', 'engine/appliance/', 'engine/storage/', 'engine/osinfo/'],
    node: ALL_NODE,
  },
  'engine/appliance/': {
    code: ['engine/api/', 'engine/appliance/', 'engine/vm/', 'engine/storage/'],
    packages: ['fast-xml-parser', 'tar-stream'],
    node: ALL_NODE,
  },
  'engine/vm/': {
    code: ['engine/api/', 'engine/util/', 'engine/vm/', 'engine/console/', 'engine/qemu/', 'engine/qmp/'],
    packages: ['zod'],
    node: ALL_NODE,
  },
  'engine/storage/': {
    code: ['engine/api/', 'engine/storage/', 'engine/qemu/'],
    packages: ['zod'],
    node: ALL_NODE,
  },
  'engine/net/': { code: ['engine/api/', 'engine/net/', 'engine/qemu/argv/'], node: ALL_NODE },
  'engine/qemu/': { code: ['engine/api/', 'engine/util/', 'engine/qemu/'], node: ALL_NODE },
  // Pure: node:path only for joining and checking path strings, never the file system.
  'engine/qemu/argv/': { code: ['engine/api/', 'engine/qemu/argv/'], node: ['node:path'] },
  // QMP's typed commands take the very device JSON the argv builder makes.
  'engine/qmp/': { code: ['engine/api/', 'engine/qmp/', 'engine/qemu/argv/'], node: ALL_NODE },
  'engine/console/': { code: ['engine/api/', 'engine/console/'], node: ALL_NODE },
  'engine/osinfo/': { code: ['engine/osinfo/'], packages: ['fast-xml-parser'], node: ALL_NODE },
  'engine/api/': { code: ['engine/api/'], packages: ['zod'] },
  'engine/util/': { code: ['engine/util/'], node: ALL_NODE },

  // Sandboxed, no Node: the contract, `window.vireo` (preload/api.ts, which imports no electron)
  // and the UI's packages. '@vitejs/plugin-react' is the dev server's refresh preamble.
  'renderer/': {
    code: ['renderer/', 'engine/api/', 'preload/api.ts'],
    packages: ['react', 'react-dom', '@mui/*', '@xterm/*', '@vitejs/plugin-react'],
  },
  'preload/': { code: ['preload/'], packages: ['electron'] },
  // What the renderer may see of the preload: plain types and checks, no electron.
  'preload/api.ts': { code: ['preload/channels.ts'] },
  'preload/channels.ts': {},
  'main/': {
    code: [
      'main/',
      'preload/api.ts',
      'preload/channels.ts',
      'engine/api/',
      'engine/util/data-dir.ts',
      'engine/host/ensure-data-dir.ts',
      'engine/host/utility-main.ts',
    ],
    packages: ['electron', 'electron-store', 'ws', 'esbuild'],
    node: ALL_NODE,
  },

  // Tools and tests reach into whatever they build, measure or test.
  'test/': {
    code: ['engine/', 'main/', 'preload/', 'renderer/', 'test/', 'lint/', 'scripts/'],
    packages: ['*'],
    node: ALL_NODE,
  },
  'bench/': { code: ['bench/', 'engine/', 'renderer/', 'test/'], packages: ['*'], node: ALL_NODE },
  'scripts/': { code: ['scripts/', 'main/'], packages: ['*'], node: ALL_NODE },
  'lint/': { code: ['lint/'], packages: ['*'], node: ALL_NODE },
  'eslint.config.js': { code: ['lint/'], packages: ['*'], node: ALL_NODE },
  'vite.config.ts': { packages: ['*'], node: ALL_NODE },
  'vitest.config.ts': { packages: ['*'], node: ALL_NODE },
}
