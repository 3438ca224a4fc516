// Runs VM actions with progress (which VM is busy with what) and reports failures in plain words.
import { useCallback, useState, type ReactNode } from 'react'
import Button from '@mui/material/Button'
import Checkbox from '@mui/material/Checkbox'
import Dialog from '@mui/material/Dialog'
import DialogActions from '@mui/material/DialogActions'
import DialogContent from '@mui/material/DialogContent'
import DialogContentText from '@mui/material/DialogContentText'
import DialogTitle from '@mui/material/DialogTitle'
import FormControlLabel from '@mui/material/FormControlLabel'
import type { VmSummary } from '../../engine/api/rpc.ts'
import { useClient } from '../connection/ConnectionGate.tsx'
import { useNotify } from '../ui/notify.tsx'
import { ACTION_VERBS, runVmAction, type VmAction } from './actions.ts'

export interface VmActions {
  /** The action in flight per VM id. */
  pending: ReadonlyMap<string, VmAction>
  run(action: VmAction, vm: Pick<VmSummary, 'id' | 'name'>): void
  /** The delete confirmation; render it once. */
  dialog: ReactNode
}

export function useVmActions(opts: { onDeleted?(id: string): void } = {}): VmActions {
  const client = useClient()
  const notify = useNotify()
  const [pending, setPending] = useState<ReadonlyMap<string, VmAction>>(new Map())
  const [confirm, setConfirm] = useState<Pick<VmSummary, 'id' | 'name'> | null>(null)
  const [keepDisks, setKeepDisks] = useState(false)
  const { onDeleted } = opts

  const track = useCallback(
    async (action: VmAction, vm: Pick<VmSummary, 'id' | 'name'>, work: () => Promise<unknown>) => {
      setPending((m) => new Map(m).set(vm.id, action))
      try {
        await work()
        return true
      } catch (err) {
        notify.error(`Could not ${ACTION_VERBS[action]} “${vm.name}”`, err)
        return false
      } finally {
        setPending((m) => {
          const next = new Map(m)
          next.delete(vm.id)
          return next
        })
      }
    },
    [notify],
  )

  const run = useCallback(
    (action: VmAction, vm: Pick<VmSummary, 'id' | 'name'>) => {
      if (action === 'delete') {
        setKeepDisks(false)
        setConfirm(vm)
        return
      }
      void track(action, vm, () => runVmAction(client, action, vm.id))
    },
    [client, track],
  )

  const doDelete = () => {
    const vm = confirm
    if (!vm) return
    setConfirm(null)
    void track('delete', vm, () => client.call('vm.delete', { vm: vm.id, keepDisks })).then((ok) => {
      if (ok) onDeleted?.(vm.id)
    })
  }

  const dialog = (
    <Dialog open={confirm !== null} onClose={() => setConfirm(null)} aria-labelledby="delete-vm-title">
      <DialogTitle id="delete-vm-title">Delete “{confirm?.name}”?</DialogTitle>
      <DialogContent>
        <DialogContentText>
          The VM and its settings are removed. Unless you keep them, its disk images are deleted too; this
          cannot be undone.
        </DialogContentText>
        <FormControlLabel
          control={<Checkbox checked={keepDisks} onChange={(e) => setKeepDisks(e.target.checked)} />}
          label="Keep the disk images"
        />
      </DialogContent>
      <DialogActions>
        <Button onClick={() => setConfirm(null)} autoFocus>
          Cancel
        </Button>
        <Button color="error" variant="contained" onClick={doDelete}>
          Delete
        </Button>
      </DialogActions>
    </Dialog>
  )

  return { pending, run, dialog }
}
