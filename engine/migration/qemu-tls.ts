// QEMU's TLS-PSK credentials for one migration: a keys.psk file in a private directory of the VM's
// runtime dir (QEMU reads `identity:hexkey` lines), and the tls-creds-psk object that points at it.
// The key is the migration's own (peer-keys.ts), never the pairing's.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { QmpClient } from '../qmp/client.ts'

export const TLS_OBJECT_ID = 'vireo-migration-tls'

/**
 * RFC 7919's ffdhe2048 group (PKCS#3). Without a dh-params.pem QEMU generates fresh DH parameters
 * when a server's credentials are made, 0.2 s to over 1 s here, on the migration's critical path;
 * a published, vetted group is what QEMU's documentation asks for instead.
 */
export const DH_PARAMS_PEM = [
  '-----BEGIN DH PARAMETERS-----',
  'MIIBCAKCAQEA//////////+t+FRYortKmq/cViAnPTzx2LnFg84tNpWp4TZBFGQz',
  '+8yTnc4kmz75fS/jY2MMddj2gbICrsRhetPfHtXV/WVhJDP1H18GbtCFY2VVPe0a',
  '87VXE15/V8k1mE8McODmi3fipona8+/och3xWKE2rec1MKzKT0g6eXq8CrGCsyT7',
  'YdEIqUuyyOP7uWrat2DX9GgdT0Kj3jlN9K5W7edjcrsZCwenyO4KbXCeAvzhzffi',
  '7MA0BM0oNC9hkXL+nOmFg/+OTxIy7vKBg8P+OxtMb61zO7X8vC7CIAXFjvGDfRaD',
  'ssbzSibBsu/6iGtCOGEoXJf//////////wIBAg==',
  '-----END DH PARAMETERS-----',
].join('\n')

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
  if (endpoint === 'server') writeFileSync(join(dir, 'dh-params.pem'), DH_PARAMS_PEM + '\n')
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
