// The library's second group: every paired host with its VMs and their state, kept fresh while the
// library is shown; a host that cannot be reached says why. Hosts are paired, shown this host's code,
// and removed (after a confirmation) from here.
import { useState } from 'react'
import Add from '@mui/icons-material/Add'
import DeleteOutlined from '@mui/icons-material/DeleteOutlined'
import Key from '@mui/icons-material/Key'
import MoveUp from '@mui/icons-material/MoveUp'
import Alert from '@mui/material/Alert'
import Box from '@mui/material/Box'
import Button from '@mui/material/Button'
import Chip from '@mui/material/Chip'
import Dialog from '@mui/material/Dialog'
import DialogActions from '@mui/material/DialogActions'
import DialogContent from '@mui/material/DialogContent'
import DialogContentText from '@mui/material/DialogContentText'
import DialogTitle from '@mui/material/DialogTitle'
import IconButton from '@mui/material/IconButton'
import LinearProgress from '@mui/material/LinearProgress'
import Paper from '@mui/material/Paper'
import Stack from '@mui/material/Stack'
import Table from '@mui/material/Table'
import TableBody from '@mui/material/TableBody'
import TableCell from '@mui/material/TableCell'
import TableHead from '@mui/material/TableHead'
import TableRow from '@mui/material/TableRow'
import Tooltip from '@mui/material/Tooltip'
import Typography from '@mui/material/Typography'
import type { RemoteInfo, RemoteVms } from '../../engine/api/migration.ts'
import { VmState } from '../../engine/api/rpc.ts'
import { useClient } from '../connection/ConnectionGate.tsx'
import { useMigrationWizard } from '../migration/MigrationProvider.tsx'
import { useNotify } from '../ui/notify.tsx'
import { formatMemory, STATE_LABELS, stateColor } from '../vm/actions.ts'
import { AddHostDialog } from './AddHostDialog.tsx'
import { PairCodeDialog } from './PairCodeDialog.tsx'
import { useRemoteHosts } from './remotes.ts'

export function RemoteHostsSection(props: { pollMs?: number }) {
  const client = useClient()
  const notify = useNotify()
  const hosts = useRemoteHosts({ pollMs: props.pollMs })
  const migration = useMigrationWizard()
  const [adding, setAdding] = useState(false)
  const [showingCode, setShowingCode] = useState(false)
  const [removing, setRemoving] = useState<RemoteInfo | null>(null)

  const remove = async () => {
    const remote = removing
    setRemoving(null)
    if (!remote) return
    try {
      await client.call('remote.remove', { name: remote.name })
      notify.info(`Removed the host “${remote.name}”.`)
    } catch (err) {
      notify.error(`Could not remove the host “${remote.name}”`, err)
    }
    hosts.reload()
  }

  return (
    <Box component="section" aria-labelledby="other-hosts-title" sx={{ mt: 4 }}>
      <Stack
        direction={{ xs: 'column', sm: 'row' }}
        spacing={1}
        sx={{ alignItems: { sm: 'center' }, justifyContent: 'space-between', mb: 1.5 }}
      >
        <Typography variant="h6" component="h2" id="other-hosts-title">
          Other hosts
        </Typography>
        <Stack direction="row" spacing={1}>
          {migration && !!hosts.remotes?.length && (
            <Button startIcon={<MoveUp />} onClick={() => migration.open()}>
              Move a VM…
            </Button>
          )}
          <Button startIcon={<Key />} onClick={() => setShowingCode(true)}>
            Pairing code of this host
          </Button>
          <Button variant="outlined" startIcon={<Add />} onClick={() => setAdding(true)}>
            Add host
          </Button>
        </Stack>
      </Stack>
      {hosts.remotes === null && !hosts.error && <LinearProgress aria-label="Loading the other hosts" />}
      {hosts.error && <Alert severity="warning">Could not list the other hosts: {hosts.error}</Alert>}
      {hosts.remotes?.length === 0 && (
        <Typography color="text.secondary" variant="body2">
          No other hosts yet. Pair one to see its VMs here and move VMs to it.
        </Typography>
      )}
      <Stack spacing={2}>
        {hosts.remotes?.map((remote) => (
          <RemoteHostCard
            key={remote.name}
            remote={remote}
            vms={hosts.vms.get(remote.name)}
            onRemove={() => setRemoving(remote)}
          />
        ))}
      </Stack>
      <AddHostDialog
        open={adding}
        onClose={() => setAdding(false)}
        onAdded={(r) => {
          notify.info(`Paired with “${r.name}” (${r.hostName}).`)
          hosts.reload()
        }}
      />
      <PairCodeDialog open={showingCode} onClose={() => setShowingCode(false)} />
      <Dialog open={removing !== null} onClose={() => setRemoving(null)} aria-labelledby="remove-host-title">
        <DialogTitle id="remove-host-title">Remove host “{removing?.name}”?</DialogTitle>
        <DialogContent>
          <DialogContentText>
            This host forgets it and the key they share; its VMs stay where they are. To move VMs to it again,
            pair it anew with a fresh code.
          </DialogContentText>
        </DialogContent>
        <DialogActions>
          <Button onClick={() => setRemoving(null)} autoFocus>
            Cancel
          </Button>
          <Button color="error" variant="contained" onClick={() => void remove()}>
            Remove
          </Button>
        </DialogActions>
      </Dialog>
    </Box>
  )
}

function RemoteHostCard(props: { remote: RemoteInfo; vms: RemoteVms | undefined; onRemove(): void }) {
  const { remote, vms } = props
  const unreachable = vms !== undefined && !vms.reachable
  return (
    <Paper variant="outlined" component="article" aria-label={`Host ${remote.name}`}>
      <Stack direction="row" spacing={1} sx={{ alignItems: 'center', px: 2, py: 1 }}>
        <Typography variant="subtitle1" component="h3" sx={{ fontWeight: 600 }}>
          {remote.name}
        </Typography>
        <Typography variant="body2" color="text.secondary" sx={{ flex: 1 }} noWrap>
          {remote.hostName} · {remote.address}:{remote.port}
        </Typography>
        {vms && (
          <Chip
            size="small"
            variant="outlined"
            color={unreachable ? 'error' : 'success'}
            label={unreachable ? 'Unreachable' : 'Reachable'}
          />
        )}
        <Tooltip title="Remove this host">
          <IconButton aria-label={`Remove host ${remote.name}`} onClick={props.onRemove}>
            <DeleteOutlined />
          </IconButton>
        </Tooltip>
      </Stack>
      {vms === undefined && <LinearProgress aria-label={`Asking ${remote.name} for its VMs`} />}
      {unreachable && (
        <Alert severity="error" square>
          Cannot reach “{remote.name}”: {vms.error ?? 'it did not answer'}
        </Alert>
      )}
      {vms?.reachable && vms.vms.length === 0 && (
        <Typography variant="body2" color="text.secondary" sx={{ px: 2, pb: 1.5 }}>
          No VMs on this host.
        </Typography>
      )}
      {vms?.reachable && vms.vms.length > 0 && (
        <Table size="small" aria-label={`VMs on ${remote.name}`}>
          <TableHead>
            <TableRow>
              <TableCell>Name</TableCell>
              <TableCell>State</TableCell>
              <TableCell>OS</TableCell>
              <TableCell align="right">CPUs</TableCell>
              <TableCell align="right">Memory</TableCell>
            </TableRow>
          </TableHead>
          <TableBody>
            {[...vms.vms]
              .sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }))
              .map((vm) => {
                const state = VmState.safeParse(vm.state)
                return (
                  <TableRow key={vm.id} aria-label={`${vm.name} on ${remote.name}`} data-vm-id={vm.id}>
                    <TableCell component="th" scope="row">
                      {vm.name}
                    </TableCell>
                    <TableCell>
                      <Chip
                        size="small"
                        variant="outlined"
                        label={state.success ? STATE_LABELS[state.data] : vm.state}
                        color={state.success ? stateColor(state.data) : 'default'}
                      />
                    </TableCell>
                    <TableCell>{vm.os ?? '—'}</TableCell>
                    <TableCell align="right">{vm.cpus}</TableCell>
                    <TableCell align="right">{formatMemory(vm.memoryMiB)}</TableCell>
                  </TableRow>
                )
              })}
          </TableBody>
        </Table>
      )}
    </Paper>
  )
}
