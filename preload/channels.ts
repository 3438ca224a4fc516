// The IPC contract between preload and main: channel names and the only values their arguments may
// take. Both sides check them; main never trusts that the preload did.

export const Channels = {
  /** preload → main (invoke): hand this window a MessagePort to the engine. */
  requestPort: 'vireo:request-port',
  /** main → preload: the MessagePort, in `event.ports[0]`. */
  port: 'vireo:port',
  openFileDialog: 'vireo:open-file-dialog',
  getSettings: 'vireo:get-settings',
  setTheme: 'vireo:set-theme',
} as const

/** The `data` of the window message that carries the port into the page's own world. */
export const PORT_MESSAGE = 'vireo:port'

export const FILE_KINDS = ['iso', 'disk', 'appliance'] as const
export type FileKind = (typeof FILE_KINDS)[number]

export const THEMES = ['system', 'light', 'dark'] as const
export type Theme = (typeof THEMES)[number]

/** What quitting does while VMs run: ask each time, or the remembered answer. */
export const QUIT_BEHAVIORS = ['ask', 'keep-running', 'shut-down'] as const
export type QuitBehavior = (typeof QUIT_BEHAVIORS)[number]

export function isFileKind(value: unknown): value is FileKind {
  return typeof value === 'string' && (FILE_KINDS as readonly string[]).includes(value)
}

export function isTheme(value: unknown): value is Theme {
  return typeof value === 'string' && (THEMES as readonly string[]).includes(value)
}

export function isQuitBehavior(value: unknown): value is QuitBehavior {
  return typeof value === 'string' && (QUIT_BEHAVIORS as readonly string[]).includes(value)
}
