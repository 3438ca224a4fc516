// The app's own settings (not the VMs': those live in the engine's data dir): window geometry, the
// folders the file dialogs last opened, the theme, and what quitting does while VMs run. Stored by
// electron-store in settings.json under the user data dir, checked against a JSON schema; a file
// that fails the schema is replaced by the defaults rather than stopping the app.
import Store, { type Schema } from 'electron-store'
import {
  FILE_KINDS,
  QUIT_BEHAVIORS,
  THEMES,
  type FileKind,
  type QuitBehavior,
  type Theme,
} from '../preload/channels.ts'
import type { RendererSettings } from '../preload/api.ts'

export interface WindowBounds {
  x?: number
  y?: number
  width: number
  height: number
  maximized: boolean
}

export interface AppSettings {
  theme: Theme
  windowBounds: WindowBounds | null
  lastFolders: Record<FileKind, string>
  quitWithRunningVms: QuitBehavior
}

export interface Settings {
  get(): AppSettings
  setTheme(theme: Theme): void
  setLastFolder(kind: FileKind, dir: string): void
  setWindowBounds(bounds: WindowBounds): void
  setQuitBehavior(behavior: QuitBehavior): void
}

const LAST_FOLDERS_DEFAULT = Object.fromEntries(FILE_KINDS.map((k) => [k, ''])) as Record<FileKind, string>

export const SETTINGS_SCHEMA: Schema<AppSettings> = {
  theme: { type: 'string', enum: [...THEMES], default: 'system' },
  windowBounds: {
    anyOf: [
      { type: 'null' },
      {
        type: 'object',
        properties: {
          x: { type: 'integer' },
          y: { type: 'integer' },
          width: { type: 'integer', minimum: 320, maximum: 16384 },
          height: { type: 'integer', minimum: 240, maximum: 16384 },
          maximized: { type: 'boolean' },
        },
        required: ['width', 'height', 'maximized'],
        additionalProperties: false,
      },
    ],
    default: null,
  },
  lastFolders: {
    type: 'object',
    properties: Object.fromEntries(FILE_KINDS.map((k) => [k, { type: 'string' }])),
    // Only the kinds the first release knew: a store written then must still load.
    required: ['iso', 'disk'],
    additionalProperties: false,
    default: LAST_FOLDERS_DEFAULT,
  },
  quitWithRunningVms: { type: 'string', enum: [...QUIT_BEHAVIORS], default: 'ask' },
}

export interface OpenSettingsOptions {
  /** The directory of settings.json; Electron's userData dir unless given. */
  cwd?: string
}

export function openSettings(opts: OpenSettingsOptions = {}): Settings {
  const store = new Store<AppSettings>({
    name: 'settings',
    schema: SETTINGS_SCHEMA,
    clearInvalidConfig: true,
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
  })
  const round = (n: number | undefined) => (n === undefined ? undefined : Math.round(n))
  return {
    get: () => ({
      theme: store.get('theme'),
      windowBounds: store.get('windowBounds'),
      lastFolders: { ...LAST_FOLDERS_DEFAULT, ...store.get('lastFolders') },
      quitWithRunningVms: store.get('quitWithRunningVms'),
    }),
    setTheme: (theme) => store.set('theme', theme),
    setLastFolder: (kind, dir) => store.set('lastFolders', { ...store.get('lastFolders'), [kind]: dir }),
    setWindowBounds: (b) => {
      const x = round(b.x)
      const y = round(b.y)
      store.set('windowBounds', {
        ...(x !== undefined && y !== undefined ? { x, y } : {}),
        width: Math.min(16384, Math.max(320, Math.round(b.width))),
        height: Math.min(16384, Math.max(240, Math.round(b.height))),
        maximized: b.maximized,
      })
    },
    setQuitBehavior: (behavior) => store.set('quitWithRunningVms', behavior),
  }
}

/** What the renderer may see of the settings. */
export function rendererSettings(s: AppSettings): RendererSettings {
  return { theme: s.theme, quitWithRunningVms: s.quitWithRunningVms }
}
