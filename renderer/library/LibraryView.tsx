// The VM library: every VM with its live state, OS, CPUs and memory; search; the lifecycle actions
// as buttons, in a per-row menu and in a context menu; an empty state that offers a first VM.
import { useEffect, useMemo, useState, type MouseEvent } from 'react'
import Add from '@mui/icons-material/Add'
import Computer from '@mui/icons-material/Computer'
import MoreVert from '@mui/icons-material/MoreVert'
import Pause from '@mui/icons-material/Pause'
import PlayArrow from '@mui/icons-material/PlayArrow'
import PowerSettingsNew from '@mui/icons-material/PowerSettingsNew'
import Search from '@mui/icons-material/Search'
import Alert from '@mui/material/Alert'
import Box from '@mui/material/Box'
import Button from '@mui/material/Button'
import Chip from '@mui/material/Chip'
import CircularProgress from '@mui/material/CircularProgress'
import IconButton from '@mui/material/IconButton'
import InputAdornment from '@mui/material/InputAdornment'
import LinearProgress from '@mui/material/LinearProgress'
import Link from '@mui/material/Link'
import Menu from '@mui/material/Menu'
import MenuItem from '@mui/material/MenuItem'
import Paper from '@mui/material/Paper'
import Stack from '@mui/material/Stack'
import Table from '@mui/material/Table'
import TableBody from '@mui/material/TableBody'
import TableCell from '@mui/material/TableCell'
import TableContainer from '@mui/material/TableContainer'
import TableHead from '@mui/material/TableHead'
import TableRow from '@mui/material/TableRow'
import TextField from '@mui/material/TextField'
import Tooltip from '@mui/material/Tooltip'
import Typography from '@mui/material/Typography'
import type { VmSummary } from '../../engine/api/rpc.ts'
import {
  ACTION_LABELS,
  ACTION_VERBS,
  actionAllowed,
  formatMemory,
  STATE_LABELS,
  stateColor,
  type VmAction,
} from '../vm/actions.ts'
import { SettingsDialog } from '../vm/SettingsDialog.tsx'
import { useVmActions } from '../vm/use-vm-actions.tsx'
import { useClient } from '../connection/ConnectionGate.tsx'
import { useMigrationWizard } from '../migration/MigrationProvider.tsx'
import { RemoteHostsSection } from '../remotes/RemoteHostsSection.tsx'
import { useNotify } from '../ui/notify.tsx'
import { Thumbnail } from './Thumbnail.tsx'
import { useVms } from './vms.tsx'

export interface LibraryViewProps {
  onOpen(id: string): void
  onNew(): void
  /** How often the other hosts are asked for their VMs (tests make it short). */
  remotePollMs?: number
}

/** Case-insensitive match on name, OS and state. */
export function matchesSearch(vm: VmSummary, query: string): boolean {
  const q = query.trim().toLowerCase()
  if (!q) return true
  return [vm.name, vm.os ?? '', vm.state, STATE_LABELS[vm.state]].some((s) => s.toLowerCase().includes(q))
}

const MENU_ACTIONS: VmAction[] = ['start', 'pause', 'resume', 'shutdown', 'poweroff', 'reset', 'delete']

interface MenuState {
  vm: VmSummary
  anchor: { el: HTMLElement } | { x: number; y: number }
}

export function LibraryView(props: LibraryViewProps) {
  const { vms, error, reload } = useVms()
  const actions = useVmActions()
  const [query, setQuery] = useState('')
  const [menu, setMenu] = useState<MenuState | null>(null)
  const [settingsFor, setSettingsFor] = useState<string | null>(null)
  const migration = useMigrationWizard()

  const sorted = useMemo(
    () => (vms ? [...vms].sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true })) : []),
    [vms],
  )
  const shown = sorted.filter((vm) => matchesSearch(vm, query))

  const openContextMenu = (vm: VmSummary, e: MouseEvent<HTMLElement>) => {
    e.preventDefault()
    // The keyboard's menu key fires contextmenu at (0, 0): anchor to the row instead.
    const anchor =
      e.clientX === 0 && e.clientY === 0 ? { el: e.currentTarget } : { x: e.clientX, y: e.clientY }
    setMenu({ vm, anchor })
  }

  const menuVm = menu ? (vms?.find((v) => v.id === menu.vm.id) ?? menu.vm) : null

  return (
    // Full width up to the cap: in the app's column flexbox, auto margins alone would shrink the
    // library to its content, so it jumped wider when the demo offer arrived, under a moving pointer.
    <Box
      component="main"
      sx={{ p: { xs: 2, sm: 3 }, width: '100%', boxSizing: 'border-box', maxWidth: 1200, mx: 'auto' }}
    >
      <Stack
        direction={{ xs: 'column', sm: 'row' }}
        spacing={2}
        sx={{ alignItems: { sm: 'center' }, justifyContent: 'space-between', mb: 2 }}
      >
        <Typography variant="h5" component="h1">
          Virtual machines
        </Typography>
        <Stack direction="row" spacing={1} sx={{ alignItems: 'center' }}>
          <TextField
            size="small"
            type="search"
            label="Search"
            value={query}
            onChange={(e) => setQuery(e.target.value)}
            slotProps={{
              input: {
                startAdornment: (
                  <InputAdornment position="start">
                    <Search fontSize="small" />
                  </InputAdornment>
                ),
              },
            }}
          />
          <Button variant="contained" startIcon={<Add />} onClick={props.onNew}>
            New VM
          </Button>
        </Stack>
      </Stack>

      {vms === null && !error && <LinearProgress aria-label="Loading the VMs" />}
      {error && (
        <Alert
          severity="error"
          action={
            <Button color="inherit" size="small" onClick={reload}>
              Try again
            </Button>
          }
        >
          Could not list the VMs: {error}
        </Alert>
      )}

      {vms !== null && vms.length === 0 && <EmptyLibrary onNew={props.onNew} onOpen={props.onOpen} />}

      {vms !== null && vms.length > 0 && shown.length === 0 && (
        <Typography sx={{ py: 4, textAlign: 'center' }} color="text.secondary" role="status">
          No VM matches “{query.trim()}”.
        </Typography>
      )}

      {shown.length > 0 && (
        <TableContainer component={Paper} variant="outlined">
          <Table aria-label="Virtual machines" size="medium">
            <TableHead>
              <TableRow>
                <TableCell>Name</TableCell>
                <TableCell>State</TableCell>
                <TableCell>OS</TableCell>
                <TableCell align="right">CPUs</TableCell>
                <TableCell align="right">Memory</TableCell>
                <TableCell align="right">Actions</TableCell>
              </TableRow>
            </TableHead>
            <TableBody>
              {shown.map((vm) => (
                <VmRow
                  key={vm.id}
                  vm={vm}
                  pending={actions.pending.get(vm.id)}
                  onOpen={() => props.onOpen(vm.id)}
                  onAction={(a) => actions.run(a, vm)}
                  onMenu={(el) => setMenu({ vm, anchor: { el } })}
                  onContextMenu={(e) => openContextMenu(vm, e)}
                />
              ))}
            </TableBody>
          </Table>
        </TableContainer>
      )}

      <Menu
        open={menu !== null}
        onClose={() => setMenu(null)}
        {...(menu && 'el' in menu.anchor
          ? { anchorEl: menu.anchor.el }
          : {
              anchorReference: 'anchorPosition' as const,
              anchorPosition:
                menu && 'x' in menu.anchor ? { left: menu.anchor.x, top: menu.anchor.y } : undefined,
            })}
      >
        <MenuItem
          onClick={() => {
            if (menuVm) props.onOpen(menuVm.id)
            setMenu(null)
          }}
        >
          Open
        </MenuItem>
        <MenuItem
          onClick={() => {
            if (menuVm) setSettingsFor(menuVm.id)
            setMenu(null)
          }}
        >
          Settings…
        </MenuItem>
        {migration && (
          <MenuItem
            onClick={() => {
              if (menuVm) migration.open(menuVm.id)
              setMenu(null)
            }}
          >
            Move to another host…
          </MenuItem>
        )}
        {menuVm &&
          MENU_ACTIONS.map((a) => (
            <MenuItem
              key={a}
              disabled={!actionAllowed(a, menuVm.state) || actions.pending.has(menuVm.id)}
              onClick={() => {
                actions.run(a, menuVm)
                setMenu(null)
              }}
              sx={a === 'delete' ? { color: 'error.main' } : undefined}
            >
              {ACTION_LABELS[a]}
            </MenuItem>
          ))}
      </Menu>
      <RemoteHostsSection pollMs={props.remotePollMs} />
      {actions.dialog}
      <SettingsDialog vmId={settingsFor} onClose={() => setSettingsFor(null)} />
    </Box>
  )
}

function VmRow(props: {
  vm: VmSummary
  pending: VmAction | undefined
  onOpen(): void
  onAction(a: VmAction): void
  onMenu(el: HTMLElement): void
  onContextMenu(e: MouseEvent<HTMLElement>): void
}) {
  const { vm, pending } = props
  const busy = pending !== undefined
  const primary: VmAction | null = actionAllowed('start', vm.state)
    ? 'start'
    : actionAllowed('pause', vm.state)
      ? 'pause'
      : actionAllowed('resume', vm.state)
        ? 'resume'
        : null
  const primaryIcon = primary === 'pause' ? <Pause /> : <PlayArrow />
  return (
    <TableRow
      hover
      onContextMenu={props.onContextMenu}
      onDoubleClick={props.onOpen}
      data-vm-id={vm.id}
      aria-label={vm.name}
    >
      <TableCell component="th" scope="row">
        <Stack direction="row" spacing={1.5} sx={{ alignItems: 'center' }}>
          <Thumbnail vm={vm} />
          <Link
            component="button"
            variant="body1"
            underline="hover"
            onClick={props.onOpen}
            sx={{ fontWeight: 500 }}
          >
            {vm.name}
          </Link>
        </Stack>
      </TableCell>
      <TableCell>
        <Chip size="small" label={STATE_LABELS[vm.state]} color={stateColor(vm.state)} variant="outlined" />
      </TableCell>
      <TableCell>
        {vm.os ?? (
          <Typography color="text.secondary" component="span">
            —
          </Typography>
        )}
      </TableCell>
      <TableCell align="right">{vm.cpus}</TableCell>
      <TableCell align="right">{formatMemory(vm.memoryMiB)}</TableCell>
      <TableCell align="right" sx={{ whiteSpace: 'nowrap' }}>
        {busy && (
          <Tooltip title={`Working: ${ACTION_VERBS[pending]}…`}>
            <CircularProgress
              size={20}
              sx={{ mr: 1, verticalAlign: 'middle' }}
              aria-label={`${ACTION_VERBS[pending]} in progress`}
            />
          </Tooltip>
        )}
        {primary && (
          <Tooltip title={ACTION_LABELS[primary]}>
            <span>
              <IconButton
                aria-label={`${ACTION_LABELS[primary]} ${vm.name}`}
                disabled={busy}
                onClick={() => props.onAction(primary)}
              >
                {primaryIcon}
              </IconButton>
            </span>
          </Tooltip>
        )}
        <Tooltip title="Shut down">
          <span>
            <IconButton
              aria-label={`Shut down ${vm.name}`}
              disabled={busy || !actionAllowed('shutdown', vm.state)}
              onClick={() => props.onAction('shutdown')}
            >
              <PowerSettingsNew />
            </IconButton>
          </span>
        </Tooltip>
        <Tooltip title="More actions">
          <IconButton
            aria-label={`More actions for ${vm.name}`}
            aria-haspopup="menu"
            onClick={(e) => props.onMenu(e.currentTarget)}
          >
            <MoreVert />
          </IconButton>
        </Tooltip>
      </TableCell>
    </TableRow>
  )
}

function EmptyLibrary(props: { onNew(): void; onOpen(id: string): void }) {
  const client = useClient()
  const notify = useNotify()
  const [demo, setDemo] = useState<{ name: string; iso: string } | null>(null)
  const [starting, setStarting] = useState(false)
  useEffect(() => {
    let live = true
    client.call('host.info', {}).then(
      (info) => live && setDemo(info.demo),
      () => undefined,
    )
    return () => {
      live = false
    }
  }, [client])

  const tryDemo = async () => {
    if (!demo) return
    setStarting(true)
    try {
      // Small enough for software emulation: the demo boots in seconds even without KVM.
      const vm = await client.call('vm.create', { name: demo.name, iso: demo.iso, memoryMiB: 256, cpus: 1 })
      await client.call('vm.start', { vm: vm.id })
      props.onOpen(vm.id)
    } catch (err) {
      notify.error('Could not start the demo VM', err)
      setStarting(false)
    }
  }

  return (
    <Paper variant="outlined" sx={{ p: 6, textAlign: 'center' }}>
      <Stack spacing={2} sx={{ alignItems: 'center' }}>
        <Computer sx={{ fontSize: 56 }} color="disabled" aria-hidden />
        <Typography variant="h6" component="h2">
          No virtual machines yet
        </Typography>
        <Typography color="text.secondary">
          Create one from an install ISO on the host, with a new empty disk to install onto
          {demo ? ', or try a small demo guest first.' : '.'}
        </Typography>
        <Stack direction="row" spacing={1}>
          <Button variant="contained" startIcon={<Add />} onClick={props.onNew}>
            New VM
          </Button>
          {demo && (
            <Button
              variant="outlined"
              startIcon={
                starting ? <CircularProgress size={16} aria-label="Starting the demo" /> : <PlayArrow />
              }
              disabled={starting}
              onClick={() => void tryDemo()}
            >
              Try the demo VM
            </Button>
          )}
        </Stack>
      </Stack>
    </Paper>
  )
}
