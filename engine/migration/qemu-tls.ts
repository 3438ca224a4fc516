// QEMU's TLS-PSK credentials for one migration: a keys.psk file in a private directory of the VM's
// runtime dir (QEMU reads `identity:hexkey` lines), and the tls-creds-psk object that points at it.
// The key is the migration's own (peer-keys.ts), never the pairing's.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { QmpClient } from '../qmp/client.ts'

export const TLS_OBJECT_ID = 'vireo-migration-tls'

export function pskIdentity(migrationId: string): string {
  return `vireo-${migrationId}`
}

export async function addTlsCreds(
  qmp: QmpClient,
  runtimeDir: string,
  endpoint: 'client' | 'server',
  migrationId: string,
  key: Buffer,
): Promise<string> {
  const dir = join(runtimeDir, 'migration-tls')
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { mode: 0o700 })
  writeFileSync(join(dir, 'keys.psk'), `${pskIdentity(migrationId)}:${key.toString('hex')}\n`, {
    mode: 0o600,
  })
  await qmp.execute('object-add', {
    'qom-type': 'tls-creds-psk',
    id: TLS_OBJECT_ID,
    endpoint,
    dir,
    ...(endpoint === 'client' ? { username: pskIdentity(migrationId) } : {}),
  })
  return dir
}

export async function removeTlsCreds(qmp: QmpClient | null, runtimeDir: string): Promise<void> {
  await qmp?.execute('object-del', { id: TLS_OBJECT_ID }).catch(() => undefined)
  rmSync(join(runtimeDir, 'migration-tls'), { recursive: true, force: true })
}
