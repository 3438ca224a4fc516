// A VM's snapshots: the tree with the current position marked, and take, revert, delete and clone on
// buttons and on a context menu. Reverting and deleting ask first (they discard or merge data);
// long work shows its progress. What cannot take part in a snapshot is named before one is tried.
import { useCallback, useEffect, useRef, useState, type MouseEvent } from 'react'
import Alert from '@mui/material/Alert'
import Box from '@mui/material/Box'
import Button from '@mui/material/Button'
import Checkbox from '@mui/material/Checkbox'
import Chip from '@mui/material/Chip'
import Dialog from '@mui/material/Dialog'
import DialogActions from '@mui/material/DialogActions'
import DialogContent from '@mui/material/DialogContent'
import DialogContentText from '@mui/material/DialogContentText'
import DialogTitle from '@mui/material/DialogTitle'
import FormControlLabel from '@mui/material/FormControlLabel'
import LinearProgress from '@mui/material/LinearProgress'
import List from '@mui/material/List'
import ListItem from '@mui/material/ListItem'
import Menu from '@mui/material/Menu'
import MenuItem from '@mui/material/MenuItem'
import Stack from '@mui/material/Stack'
import TextField from '@mui/material/TextField'
import Typography from '@mui/material/Typography'
import type { JobProgress, SnapshotInfo, SnapshotTree, VmSummary } from '../../engine/api/rpc.ts'
import { useClient } from '../connection/ConnectionGate.tsx'
import { plainError } from '../ui/notify.tsx'
import { describeKind, revertWarning, treeRows } from './snapshot-tree.ts'

export interface SnapshotPanelProps {
  vm: Pick<VmSummary, 'id' | 'name' | 'state'>
}

type Ask =
  | { kind: 'take' }
  | { kind: 'revert'; snapshot: SnapshotInfo }
  | { kind: 'delete'; snapshot: SnapshotInfo }
  | { kind: 'clone'; snapshot: SnapshotInfo | null }

const when = (iso: string) => new Date(iso).toLocaleString()

export function SnapshotPanel({ vm }: SnapshotPanelProps) {
  const client = useClient()
  const [tree, setTree] = useState<SnapshotTree | null>(null)
  const [failure, setFailure] = useState<string | null>(null)
  const [done, setDone] = useState<string | null>(null)
  const [busy, setBusy] = useState<string | null>(null)
  const [progress, setProgress] = useState<JobProgress | null>(null)
  const [ask, setAsk] = useState<Ask | null>(null)
  const [menu, setMenu] = useState<{ x: number; y: number; snapshot: SnapshotInfo } | null>(null)
  const jobRef = useRef(`snap-${Math.random().toString(36).slice(2, 10)}`)

  const load = useCallback(async () => {
    try {
      setTree(await client.call('snapshot.list', { vm: vm.id }))
    } catch (err) {
      setFailure(`Could not read the snapshots: ${plainError(err)}`)
    }
  }, [client, vm.id])

  useEffect(() => {
    void load()
  }, [load, vm.state])
  useEffect(() => {
    const sub = client.on('job.progress', (p) => {
      if (p.job === jobRef.current) setProgress(p)
    })
    return () => sub.dispose()
  }, [client])

  const run = async (what: string, op: (job: string) => Promise<string>) => {
    setAsk(null)
    setBusy(what)
    setFailure(null)
    setDone(null)
    setProgress(null)
    try {
      setDone(await op(jobRef.current))
    } catch (err) {
      setFailure(`${what} failed: ${plainError(err)}`)
    } finally {
      setBusy(null)
      await load()
    }
  }

  const running = vm.state === 'running' || vm.state === 'paused'
  const blockers = tree?.blockers ?? []
  const rows = tree ? treeRows(tree) : []
  const percent = progress?.total ? Math.min(100, (100 * progress.done) / progress.total) : undefined

  const openMenu = (e: MouseEvent, snapshot: SnapshotInfo) => {
    e.preventDefault()
    setMenu({ x: e.clientX, y: e.clientY, snapshot })
  }

  return (
    <Box sx={{ p: 2, overflow: 'auto', height: '100%' }} role="region" aria-label="Snapshots">
      <Stack spacing={2}>
        <Stack direction="row" spacing={1} sx={{ alignItems: 'center' }}>
          <Button
            variant="contained"
            disabled={!!busy || !tree || blockers.length > 0}
            onClick={() => setAsk({ kind: 'take' })}
          >
            Take snapshot
          </Button>
          <Button disabled={!!busy || !tree} onClick={() => setAsk({ kind: 'clone', snapshot: null })}>
            Clone the VM
          </Button>
          <Typography variant="body2" color="text.secondary">
            {running
              ? 'A snapshot of the running VM keeps its memory too: reverting resumes it where it was.'
              : 'A snapshot of the stopped VM keeps its disks.'}
          </Typography>
        </Stack>
        {busy && (
          <Box>
            <LinearProgress
              aria-label={progress?.phase ?? busy}
              variant={percent === undefined ? 'indeterminate' : 'determinate'}
              {...(percent === undefined ? {} : { value: percent })}
            />
            <Typography variant="body2" aria-live="polite">
              {progress?.phase ?? busy}…
            </Typography>
          </Box>
        )}
        {failure && <Alert severity="error">{failure}</Alert>}
        {done && <Alert severity="success">{done}</Alert>}
        {blockers.map((b) => (
          <Alert key={b} severity="warning">
            {b}
          </Alert>
        ))}
        {tree && rows.length === 0 && (
          <Typography variant="body2">No snapshots yet. Take one before a risky change.</Typography>
        )}
        <List aria-label="Snapshot tree" dense>
          {rows.map((r) => (
            <ListItem
              key={r.snapshot.id}
              aria-label={`Snapshot ${r.snapshot.name}${r.current ? ' (current)' : ''}`}
              onContextMenu={(e) => openMenu(e, r.snapshot)}
              sx={{ pl: 2 + r.depth * 3, alignItems: 'flex-start', opacity: r.onCurrentPath ? 1 : 0.75 }}
              secondaryAction={
                <Stack direction="row" spacing={0.5}>
                  <Button
                    size="small"
                    disabled={!!busy}
                    onClick={() => setAsk({ kind: 'revert', snapshot: r.snapshot })}
                  >
                    Revert
                  </Button>
                  <Button
                    size="small"
                    disabled={!!busy}
                    onClick={() => setAsk({ kind: 'clone', snapshot: r.snapshot })}
                  >
                    Clone
                  </Button>
                  <Button
                    size="small"
                    color="error"
                    disabled={!!busy}
                    onClick={() => setAsk({ kind: 'delete', snapshot: r.snapshot })}
                  >
                    Delete
                  </Button>
                </Stack>
              }
            >
              <Stack direction="row" spacing={1.5} sx={{ alignItems: 'center', pr: 30 }}>
                {r.snapshot.thumbnail ? (
                  <img
                    src={`data:image/png;base64,${r.snapshot.thumbnail}`}
                    alt=""
                    width={64}
                    style={{ borderRadius: 4, imageRendering: 'auto' }}
                  />
                ) : null}
                <Box>
                  <Typography variant="body2" sx={{ fontWeight: r.current ? 700 : 500 }}>
                    {r.depth > 0 ? '└ ' : ''}
                    {r.snapshot.name}
                  </Typography>
                  <Typography variant="caption" color="text.secondary">
                    {when(r.snapshot.createdAt)} · {describeKind(r.snapshot)}
                    {r.snapshot.description ? ` · ${r.snapshot.description}` : ''}
                  </Typography>
                </Box>
                {r.current && <Chip size="small" color="primary" label="You are here" />}
              </Stack>
            </ListItem>
          ))}
        </List>
      </Stack>
      <Menu
        open={!!menu}
        onClose={() => setMenu(null)}
        anchorReference="anchorPosition"
        {...(menu ? { anchorPosition: { top: menu.y, left: menu.x } } : {})}
      >
        {(['revert', 'clone', 'delete'] as const).map((k) => (
          <MenuItem
            key={k}
            disabled={!!busy}
            onClick={() => {
              if (menu) setAsk({ kind: k, snapshot: menu.snapshot })
              setMenu(null)
            }}
          >
            {
              {
                revert: 'Revert to this snapshot',
                clone: 'Clone a VM from it',
                delete: 'Delete this snapshot',
              }[k]
            }
          </MenuItem>
        ))}
      </Menu>
      {ask?.kind === 'take' && (
        <TakeDialog
          live={running}
          onCancel={() => setAsk(null)}
          onTake={(name, description) =>
            void run('Taking the snapshot', async (job) => {
              const s = await client.call('snapshot.take', { vm: vm.id, name, description, job })
              return `Took “${s.name}” (${describeKind(s)}).`
            })
          }
        />
      )}
      {ask?.kind === 'revert' && tree && (
        <Confirm
          title={`Revert to “${ask.snapshot.name}”?`}
          text={revertWarning(tree, ask.snapshot, running)}
          action="Revert"
          onCancel={() => setAsk(null)}
          onConfirm={() =>
            void run('Reverting', async (job) => {
              await client.call('snapshot.revert', { vm: vm.id, snapshot: ask.snapshot.id, job })
              return `Reverted to “${ask.snapshot.name}”.`
            })
          }
        />
      )}
      {ask?.kind === 'delete' && (
        <Confirm
          title={`Delete “${ask.snapshot.name}”?`}
          text="The snapshot goes away; its data is merged into the snapshots after it, so they and the current state stay exactly as they are."
          action="Delete"
          onCancel={() => setAsk(null)}
          onConfirm={() =>
            void run('Deleting the snapshot', async (job) => {
              await client.call('snapshot.delete', { vm: vm.id, snapshot: ask.snapshot.id, job })
              return `Deleted “${ask.snapshot.name}”.`
            })
          }
        />
      )}
      {ask?.kind === 'clone' && (
        <CloneDialog
          source={ask.snapshot ? `the snapshot “${ask.snapshot.name}”` : `the current state of “${vm.name}”`}
          defaultName={`${vm.name} clone`}
          onCancel={() => setAsk(null)}
          onClone={(name, linked) =>
            void run('Cloning', async (job) => {
              const clone = await client.call('vm.clone', {
                vm: vm.id,
                name,
                linked,
                job,
                ...(ask.snapshot ? { from: ask.snapshot.id } : {}),
              })
              return `Created “${clone.name}”${linked ? ' (linked)' : ''}.`
            })
          }
        />
      )}
    </Box>
  )
}

function Confirm(props: {
  title: string
  text: string
  action: string
  onCancel(): void
  onConfirm(): void
}) {
  return (
    <Dialog open onClose={props.onCancel} aria-labelledby="snapshot-confirm-title">
      <DialogTitle id="snapshot-confirm-title">{props.title}</DialogTitle>
      <DialogContent>
        <DialogContentText>{props.text}</DialogContentText>
      </DialogContent>
      <DialogActions>
        <Button onClick={props.onCancel}>Cancel</Button>
        <Button
          variant="contained"
          color={props.action === 'Delete' ? 'error' : 'primary'}
          onClick={props.onConfirm}
        >
          {props.action}
        </Button>
      </DialogActions>
    </Dialog>
  )
}

function TakeDialog(props: {
  live: boolean
  onCancel(): void
  onTake(name: string, description: string): void
}) {
  const [name, setName] = useState(`Snapshot ${new Date().toLocaleString()}`)
  const [description, setDescription] = useState('')
  const blank = !name.trim()
  return (
    <Dialog open onClose={props.onCancel} aria-labelledby="take-title" fullWidth maxWidth="sm">
      <DialogTitle id="take-title">Take a snapshot</DialogTitle>
      <DialogContent>
        <Stack spacing={2} sx={{ pt: 1 }}>
          <Typography variant="body2">
            {props.live
              ? 'The VM keeps running; its memory and disks are saved as they are at this instant.'
              : 'The VM’s disks are saved as they are now.'}
          </Typography>
          <TextField
            label="Snapshot name"
            value={name}
            autoFocus
            error={blank}
            helperText={blank ? 'Give the snapshot a name.' : ' '}
            onChange={(e) => setName(e.target.value)}
          />
          <TextField
            label="Description"
            value={description}
            multiline
            minRows={2}
            onChange={(e) => setDescription(e.target.value)}
          />
        </Stack>
      </DialogContent>
      <DialogActions>
        <Button onClick={props.onCancel}>Cancel</Button>
        <Button
          variant="contained"
          disabled={blank}
          onClick={() => props.onTake(name.trim(), description.trim())}
        >
          Take
        </Button>
      </DialogActions>
    </Dialog>
  )
}

function CloneDialog(props: {
  source: string
  defaultName: string
  onCancel(): void
  onClone(name: string, linked: boolean): void
}) {
  const [name, setName] = useState(props.defaultName)
  const [linked, setLinked] = useState(false)
  const blank = !name.trim()
  return (
    <Dialog open onClose={props.onCancel} aria-labelledby="clone-title" fullWidth maxWidth="sm">
      <DialogTitle id="clone-title">Clone a VM</DialogTitle>
      <DialogContent>
        <Stack spacing={2} sx={{ pt: 1 }}>
          <Typography variant="body2">A new VM from {props.source}, with its own MAC addresses.</Typography>
          <TextField
            label="Name of the clone"
            value={name}
            autoFocus
            error={blank}
            helperText={blank ? 'Give the clone a name.' : 'Unique on this host.'}
            onChange={(e) => setName(e.target.value)}
          />
          <FormControlLabel
            control={<Checkbox checked={linked} onChange={(e) => setLinked(e.target.checked)} />}
            label="Linked clone: shares the source's disk images (instant and small, but needs them kept)"
          />
        </Stack>
      </DialogContent>
      <DialogActions>
        <Button onClick={props.onCancel}>Cancel</Button>
        <Button variant="contained" disabled={blank} onClick={() => props.onClone(name.trim(), linked)}>
          Clone
        </Button>
      </DialogActions>
    </Dialog>
  )
}
