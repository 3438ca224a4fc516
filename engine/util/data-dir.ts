// Where a host keeps its library, and where it puts the short-lived unix sockets.
import { createHash } from 'node:crypto'
import { homedir, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

/**
 * A data dir holds guests' disks, memory images and the keys of paired hosts: its user's alone.
 * Unprivileged containers (a later issue) will need their mapped root to traverse it: grant that
 * with one ACL entry (--x for that uid), never a wider mode.
 */
export const DATA_DIR_MODE = 0o700

/** The platform's user data dir, the same one Electron's app.getPath('userData') gives for "Vireo". */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  if (env.VIREO_DATA_DIR) return resolve(env.VIREO_DATA_DIR)
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'Vireo')
  if (platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'Vireo')
  return join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'Vireo')
}

/** Per-user, per-host cache (the accelerator verdict): shared by every data dir on this machine. */
export function userCacheDir(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  if (platform === 'darwin') return join(homedir(), 'Library', 'Caches', 'Vireo')
  if (platform === 'win32')
    return join(env.LOCALAPPDATA ?? join(homedir(), 'AppData', 'Local'), 'Vireo', 'Cache')
  return join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'vireo')
}

export interface DataDirLayout {
  root: string
  vmsDir: string
  cacheDir: string
  hostJson: string
  lockFile: string
  tokenFile: string
  /** Paired hosts and their keys (mode 0600). */
  peersFile: string
  /** Whether the host accepts other hosts when not told on the command line. */
  acceptFile: string
  /** Short per-host directory for unix sockets (sun_path is limited to 108 bytes). */
  runtimeRoot: string
  hostSocket: string
}

export function dataDirLayout(root: string, env: NodeJS.ProcessEnv = process.env): DataDirLayout {
  const abs = resolve(root)
  const runtimeRoot = runtimeRootFor(abs, env)
  return {
    root: abs,
    vmsDir: join(abs, 'vms'),
    cacheDir: join(abs, 'cache'),
    hostJson: join(abs, 'host.json'),
    lockFile: join(abs, 'host.lock'),
    tokenFile: join(abs, 'token'),
    peersFile: join(abs, 'peers.json'),
    acceptFile: join(abs, 'accept.json'),
    runtimeRoot,
    hostSocket: join(runtimeRoot, 'host.sock'),
  }
}

function runtimeRootFor(dataDir: string, env: NodeJS.ProcessEnv): string {
  const tag = createHash('sha256').update(dataDir).digest('hex').slice(0, 10)
  const base = env.XDG_RUNTIME_DIR
    ? join(env.XDG_RUNTIME_DIR, 'vireo')
    : join(tmpdir(), `vireo-${process.getuid?.() ?? 'user'}`)
  return join(base, tag)
}

/** A VM's runtime dir: its QMP, serial and VNC sockets. */
export function vmRuntimeDir(layout: DataDirLayout, vmId: string): string {
  return join(layout.runtimeRoot, vmId.slice(0, 8))
}
