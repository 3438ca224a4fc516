// The VM list, kept live: one `vm.list`, then the engine's events (vm.added, vm.removed, vm.state,
// vm.updated). Events that arrive before the list answers are replayed onto it, so none is lost.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react'
import type { EventData, VmSummary } from '../../engine/api/rpc.ts'
import type { VireoClient } from '../connection/types.ts'
import { useClient } from '../connection/ConnectionGate.tsx'

export type VmEvent =
  | { kind: 'added'; data: EventData<'vm.added'> }
  | { kind: 'updated'; data: EventData<'vm.updated'> }
  | { kind: 'removed'; data: EventData<'vm.removed'> }
  | { kind: 'state'; data: EventData<'vm.state'> }

/** Applies one engine event to a list of VMs (pure). */
export function applyVmEvent(vms: readonly VmSummary[], ev: VmEvent): VmSummary[] {
  switch (ev.kind) {
    case 'added':
    case 'updated': {
      const i = vms.findIndex((v) => v.id === ev.data.id)
      if (i < 0) return [...vms, ev.data]
      const next = [...vms]
      next[i] = ev.data
      return next
    }
    case 'removed':
      return vms.filter((v) => v.id !== ev.data.id)
    case 'state':
      return vms.map((v) => (v.id === ev.data.id ? { ...v, state: ev.data.state, name: ev.data.name } : v))
  }
}

export interface VmStore {
  /** null until the first list arrived. */
  vms: VmSummary[] | null
  error: string | null
  /** The reason the engine gave with the latest state change of each VM (e.g. why it stopped). */
  reasons: ReadonlyMap<string, string>
  reload(): void
}

const VmStoreContext = createContext<VmStore | null>(null)

export function useVms(): VmStore {
  const store = useContext(VmStoreContext)
  if (!store) throw new Error('useVms: no VmsProvider')
  return store
}

function subscribe(client: VireoClient, onEvent: (ev: VmEvent) => void) {
  const subs = [
    client.on('vm.added', (data) => onEvent({ kind: 'added', data })),
    client.on('vm.updated', (data) => onEvent({ kind: 'updated', data })),
    client.on('vm.removed', (data) => onEvent({ kind: 'removed', data })),
    client.on('vm.state', (data) => onEvent({ kind: 'state', data })),
  ]
  return () => subs.forEach((s) => s.dispose())
}

export function VmsProvider(props: { children: ReactNode }) {
  const client = useClient()
  const [vms, setVms] = useState<VmSummary[] | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [reasons, setReasons] = useState<ReadonlyMap<string, string>>(new Map())
  const [generation, setGeneration] = useState(0)

  useEffect(() => {
    let live = true
    let pending: VmEvent[] | null = []
    const unsubscribe = subscribe(client, (ev) => {
      if (!live) return
      if (ev.kind === 'state' && ev.data.reason) {
        const { id, reason } = ev.data
        setReasons((m) => new Map(m).set(id, reason))
      }
      if (pending) pending.push(ev)
      else setVms((list) => (list ? applyVmEvent(list, ev) : list))
    })
    client.call('vm.list', {}).then(
      (list) => {
        if (!live) return
        const queued = pending ?? []
        pending = null
        setVms(queued.reduce<VmSummary[]>((acc, ev) => applyVmEvent(acc, ev), list))
        setError(null)
      },
      (err: unknown) => {
        if (!live) return
        pending = null
        setError(err instanceof Error ? err.message : String(err))
      },
    )
    return () => {
      live = false
      unsubscribe()
    }
  }, [client, generation])

  const reload = useCallback(() => setGeneration((g) => g + 1), [])
  const store = useMemo<VmStore>(() => ({ vms, error, reasons, reload }), [vms, error, reasons, reload])
  return <VmStoreContext.Provider value={store}>{props.children}</VmStoreContext.Provider>
}
