// The paired hosts and, while someone looks, their VMs: remote.list once (and again after a change),
// then remote.vms for each host every few seconds. A host that cannot be reached keeps its place with
// the reason in words, whether the engine says so in its answer or the call itself fails.
import { useCallback, useEffect, useState } from 'react'
import type { RemoteInfo, RemoteVms } from '../../engine/api/migration.ts'
import { useClient } from '../connection/ConnectionGate.tsx'
import { plainError } from '../ui/notify.tsx'

export const REMOTE_POLL_MS = 5000

export interface RemoteHosts {
  /** null until the first list arrived. */
  remotes: RemoteInfo[] | null
  error: string | null
  /** Each host's VMs as last seen, by remote name; absent until its first answer. */
  vms: ReadonlyMap<string, RemoteVms>
  reload(): void
}

export function useRemoteHosts(opts: { pollMs?: number; vms?: boolean } = {}): RemoteHosts {
  const client = useClient()
  const pollMs = opts.pollMs ?? REMOTE_POLL_MS
  const withVms = opts.vms ?? true
  const [remotes, setRemotes] = useState<RemoteInfo[] | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [vms, setVms] = useState<ReadonlyMap<string, RemoteVms>>(new Map())
  const [generation, setGeneration] = useState(0)

  useEffect(() => {
    let live = true
    client.call('remote.list', {}).then(
      (list) => {
        if (!live) return
        setRemotes([...list].sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true })))
        setError(null)
      },
      (err: unknown) => live && setError(plainError(err)),
    )
    return () => {
      live = false
    }
  }, [client, generation])

  const names = remotes?.map((r) => r.name).join('\n') ?? ''
  useEffect(() => {
    if (!withVms || !names) return
    let live = true
    const list = names.split('\n')
    // A slow host is not asked again before it answered.
    const asking = new Set<string>()
    const poll = () => {
      for (const remote of list) {
        if (asking.has(remote)) continue
        asking.add(remote)
        client
          .call('remote.vms', { remote })
          .finally(() => asking.delete(remote))
          .then(
            (answer) => live && setVms((m) => new Map(m).set(remote, answer)),
            (err: unknown) =>
              live &&
              setVms((m) =>
                new Map(m).set(remote, {
                  remote,
                  reachable: false,
                  error: plainError(err),
                  vms: [],
                }),
              ),
          )
      }
    }
    poll()
    const timer = setInterval(poll, pollMs)
    return () => {
      live = false
      clearInterval(timer)
    }
  }, [client, names, withVms, pollMs])

  const reload = useCallback(() => setGeneration((g) => g + 1), [])
  return { remotes, error, vms, reload }
}
