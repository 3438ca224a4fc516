// Reverting to a live snapshot: a QEMU started with -incoming defer (and -S) reads the saved state
// from a unix socket the engine feeds from the state file; the caller then lets its CPUs run.
import { VireoError } from '../api/errors.ts'
import type { QmpClient } from '../qmp/client.ts'
import { sendState } from './state-socket.ts'

export async function loadLive(qmp: QmpClient, stateFile: string, socketPath: string): Promise<number> {
  const started = performance.now()
  await qmp.execute('migrate-incoming', { uri: `unix:${socketPath}` })
  const sending = sendState(socketPath, stateFile)
  sending.catch(() => undefined)
  for (;;) {
    const r = (await qmp.execute('query-migrate')) as { status?: string; 'error-desc'?: string }
    if (r.status === 'completed') break
    if (r.status === 'failed' || r.status === 'cancelled')
      throw new VireoError('qemu_failed', `loading the saved memory failed: ${r['error-desc'] ?? r.status}`)
    await new Promise((res) => setTimeout(res, 5))
  }
  await sending
  return performance.now() - started
}
