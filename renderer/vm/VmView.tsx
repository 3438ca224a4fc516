// One VM: its toolbar (power, pause, ACPI shutdown, reset, Ctrl+Alt+Del, screenshot, scaling,
// fullscreen) over its display, with the serial console in a second tab.
import { lazy, Suspense, useEffect, useRef, useState, type ReactElement } from 'react'
import ArrowBack from '@mui/icons-material/ArrowBack'
import CropFree from '@mui/icons-material/CropFree'
import FitScreen from '@mui/icons-material/FitScreen'
import Fullscreen from '@mui/icons-material/Fullscreen'
import FullscreenExit from '@mui/icons-material/FullscreenExit'
import Keyboard from '@mui/icons-material/Keyboard'
import MoveUp from '@mui/icons-material/MoveUp'
import Pause from '@mui/icons-material/Pause'
import PhotoCamera from '@mui/icons-material/PhotoCamera'
import PlayArrow from '@mui/icons-material/PlayArrow'
import PowerOff from '@mui/icons-material/PowerOff'
import PowerSettingsNew from '@mui/icons-material/PowerSettingsNew'
import RestartAlt from '@mui/icons-material/RestartAlt'
import Settings from '@mui/icons-material/Settings'
import Storage from '@mui/icons-material/Storage'
import Box from '@mui/material/Box'
import Button from '@mui/material/Button'
import Chip from '@mui/material/Chip'
import CircularProgress from '@mui/material/CircularProgress'
import Divider from '@mui/material/Divider'
import IconButton from '@mui/material/IconButton'
import LinearProgress from '@mui/material/LinearProgress'
import Menu from '@mui/material/Menu'
import MenuItem from '@mui/material/MenuItem'
import Paper from '@mui/material/Paper'
import Stack from '@mui/material/Stack'
import Tab from '@mui/material/Tab'
import Tabs from '@mui/material/Tabs'
import ToggleButton from '@mui/material/ToggleButton'
import ToggleButtonGroup from '@mui/material/ToggleButtonGroup'
import Tooltip from '@mui/material/Tooltip'
import Typography from '@mui/material/Typography'
import { useClient } from '../connection/ConnectionGate.tsx'
import { useVms } from '../library/vms.tsx'
import { useMigrationWizard } from '../migration/MigrationProvider.tsx'
import { useNotify } from '../ui/notify.tsx'
import {
  ACTION_LABELS,
  ACTION_VERBS,
  actionAllowed,
  STATE_LABELS,
  stateColor,
  type VmAction,
} from './actions.ts'
import { DisplayPanel, type DisplayHandle, type Scaling } from './DisplayPanel.tsx'
import { SnapshotPanel } from '../snapshots/SnapshotPanel.tsx'
import { DevicesDialog } from './DevicesDialog.tsx'
import { SettingsDialog } from './SettingsDialog.tsx'
import { useVmActions } from './use-vm-actions.tsx'

export interface VmViewProps {
  vmId: string
  onBack(): void
}

/** Combinations the host would catch before the guest saw them, sent from a menu instead. */
const KEY_COMBOS: { label: string; codes: string[] }[] = [
  { label: 'Ctrl+Alt+Del', codes: ['ControlLeft', 'AltLeft', 'Delete'] },
  { label: 'Ctrl+Alt+Backspace', codes: ['ControlLeft', 'AltLeft', 'Backspace'] },
  ...[1, 2, 3, 4, 5, 6, 7].map((n) => ({
    label: `Ctrl+Alt+F${n}`,
    codes: ['ControlLeft', 'AltLeft', `F${n}`],
  })),
  { label: 'Alt+Tab', codes: ['AltLeft', 'Tab'] },
  { label: 'Alt+F4', codes: ['AltLeft', 'F4'] },
  { label: 'Print Screen', codes: ['PrintScreen'] },
  { label: 'Super (Windows key)', codes: ['MetaLeft'] },
]

// xterm.js loads only when a console is first opened.
const ConsolePanel = lazy(() => import('./ConsolePanel.tsx').then((m) => ({ default: m.ConsolePanel })))

const ICONS: Partial<Record<VmAction, ReactElement>> = {
  start: <PlayArrow />,
  pause: <Pause />,
  resume: <PlayArrow />,
  shutdown: <PowerSettingsNew />,
  poweroff: <PowerOff />,
  reset: <RestartAlt />,
}

export function VmView(props: VmViewProps) {
  const client = useClient()
  const notify = useNotify()
  const { vms, reasons } = useVms()
  const actions = useVmActions({ onDeleted: props.onBack })
  const migration = useMigrationWizard()
  const vm = vms?.find((v) => v.id === props.vmId) ?? null
  const [tab, setTab] = useState<'display' | 'console' | 'snapshots'>('display')
  const [scaling, setScaling] = useState<Scaling>('fit')
  const [fullscreen, setFullscreen] = useState(false)
  const [shooting, setShooting] = useState(false)
  const [settingsOpen, setSettingsOpen] = useState(false)
  const [devicesOpen, setDevicesOpen] = useState(false)
  const [keysMenu, setKeysMenu] = useState<HTMLElement | null>(null)
  const display = useRef<DisplayHandle | null>(null)
  const stage = useRef<HTMLDivElement | null>(null)
  const releaseTarget = useRef<HTMLButtonElement | null>(null)

  useEffect(() => {
    const onChange = () => setFullscreen(document.fullscreenElement !== null)
    document.addEventListener('fullscreenchange', onChange)
    return () => document.removeEventListener('fullscreenchange', onChange)
  }, [])

  if (!vms) return null
  if (!vm) {
    return (
      <Box component="main" sx={{ p: 3 }}>
        <Typography sx={{ mb: 2 }}>This VM no longer exists.</Typography>
        <Button startIcon={<ArrowBack />} onClick={props.onBack}>
          Back to the library
        </Button>
      </Box>
    )
  }

  const pending = actions.pending.get(vm.id)
  const busy = pending !== undefined
  const live = vm.state === 'running' || vm.state === 'paused'
  const reason = vm.state === 'stopped' ? reasons.get(vm.id) : undefined

  const act = (a: VmAction) => actions.run(a, vm)

  const screenshot = async () => {
    setShooting(true)
    try {
      const shot = await client.call('vm.screenshot', { vm: vm.id })
      const bytes = Uint8Array.from(atob(shot.png), (c) => c.charCodeAt(0))
      const url = URL.createObjectURL(new Blob([bytes], { type: 'image/png' }))
      const a = document.createElement('a')
      const stamp = new Date().toISOString().replace(/[:.]/g, '-')
      a.href = url
      a.download = `${vm.name.replace(/[^\w.-]+/g, '_')}-${stamp}.png`
      document.body.append(a)
      a.click()
      a.remove()
      setTimeout(() => URL.revokeObjectURL(url), 10_000)
      notify.info(`Screenshot saved (${shot.width}×${shot.height}).`)
    } catch (err) {
      notify.error(`Could not take a screenshot of “${vm.name}”`, err)
    } finally {
      setShooting(false)
    }
  }

  const toggleFullscreen = () => {
    if (document.fullscreenElement) void document.exitFullscreen().catch(() => undefined)
    else
      void stage.current?.requestFullscreen().then(
        () => display.current?.focus(),
        (err: unknown) => notify.error('Could not go full screen', err),
      )
  }

  const actionButton = (a: VmAction) => (
    <Tooltip key={a} title={ACTION_LABELS[a]}>
      <span>
        <IconButton
          aria-label={ACTION_LABELS[a]}
          disabled={busy || !actionAllowed(a, vm.state)}
          onClick={() => act(a)}
        >
          {pending === a ? (
            <CircularProgress size={20} aria-label={`${ACTION_VERBS[a]} in progress`} />
          ) : (
            ICONS[a]
          )}
        </IconButton>
      </span>
    </Tooltip>
  )

  return (
    <Box component="main" sx={{ display: 'flex', flexDirection: 'column', flex: 1, minHeight: 0 }}>
      <Paper square elevation={0} sx={{ borderBottom: 1, borderColor: 'divider' }}>
        <Stack
          direction="row"
          spacing={1}
          sx={{ alignItems: 'center', px: 1, py: 0.5, flexWrap: 'wrap', rowGap: 0.5 }}
          role="toolbar"
          aria-label={`Controls of ${vm.name}`}
        >
          <Tooltip title="Back to the library">
            <IconButton ref={releaseTarget} aria-label="Back to the library" onClick={props.onBack}>
              <ArrowBack />
            </IconButton>
          </Tooltip>
          <Typography variant="h6" component="h1" sx={{ mr: 1 }} noWrap>
            {vm.name}
          </Typography>
          <Chip
            size="small"
            label={STATE_LABELS[vm.state]}
            color={stateColor(vm.state)}
            variant="outlined"
            data-testid="vm-state"
          />
          <Divider orientation="vertical" flexItem sx={{ mx: 1 }} />
          {actionButton(vm.state === 'stopped' ? 'start' : vm.state === 'paused' ? 'resume' : 'pause')}
          {actionButton('shutdown')}
          {actionButton('poweroff')}
          {actionButton('reset')}
          <Tooltip title="Send a key combination">
            <span>
              <IconButton
                aria-label="Send a key combination"
                aria-haspopup="menu"
                disabled={vm.state !== 'running' || tab !== 'display'}
                onClick={(e) => setKeysMenu(e.currentTarget)}
              >
                <Keyboard />
              </IconButton>
            </span>
          </Tooltip>
          <Menu anchorEl={keysMenu} open={keysMenu !== null} onClose={() => setKeysMenu(null)}>
            {KEY_COMBOS.map((combo) => (
              <MenuItem
                key={combo.label}
                onClick={() => {
                  setKeysMenu(null)
                  if (!display.current?.sendCombo(combo.codes))
                    notify.error('The display is not connected yet')
                  else display.current.focus()
                }}
              >
                {combo.label}
              </MenuItem>
            ))}
          </Menu>
          <Tooltip title="Save a screenshot (PNG)">
            <span>
              <IconButton
                aria-label="Save a screenshot"
                disabled={!live || shooting}
                onClick={() => void screenshot()}
              >
                {shooting ? <CircularProgress size={20} aria-label="Taking a screenshot" /> : <PhotoCamera />}
              </IconButton>
            </span>
          </Tooltip>
          <Tooltip title="Settings">
            <span>
              <IconButton aria-label="Settings" disabled={busy} onClick={() => setSettingsOpen(true)}>
                <Settings />
              </IconButton>
            </span>
          </Tooltip>
          <Tooltip title="Devices: CD, disks, network cards">
            <span>
              <IconButton aria-label="Devices" disabled={busy} onClick={() => setDevicesOpen(true)}>
                <Storage />
              </IconButton>
            </span>
          </Tooltip>
          {migration && (
            <Tooltip title="Move to another host…">
              <span>
                <IconButton
                  aria-label="Move to another host"
                  disabled={busy}
                  onClick={() => migration.open(vm.id)}
                >
                  <MoveUp />
                </IconButton>
              </span>
            </Tooltip>
          )}
          <Box sx={{ flex: 1 }} />
          <ToggleButtonGroup
            size="small"
            exclusive
            value={scaling}
            onChange={(_e, v: Scaling | null) => v && setScaling(v)}
            aria-label="Scaling"
          >
            <ToggleButton value="fit" aria-label="Scale to fit">
              <Tooltip title="Scale to fit">
                <FitScreen fontSize="small" />
              </Tooltip>
            </ToggleButton>
            <ToggleButton value="1:1" aria-label="Actual size (1:1)">
              <Tooltip title="Actual size (1:1)">
                <CropFree fontSize="small" />
              </Tooltip>
            </ToggleButton>
          </ToggleButtonGroup>
          <Tooltip title={fullscreen ? 'Leave full screen' : 'Full screen'}>
            <span>
              <IconButton
                aria-label={fullscreen ? 'Leave full screen' : 'Full screen'}
                onClick={toggleFullscreen}
                disabled={tab !== 'display'}
              >
                {fullscreen ? <FullscreenExit /> : <Fullscreen />}
              </IconButton>
            </span>
          </Tooltip>
        </Stack>
        <Tabs value={tab} onChange={(_e, v: typeof tab) => setTab(v)} sx={{ px: 1 }}>
          <Tab value="display" label="Display" id="tab-display" aria-controls="panel-display" />
          <Tab value="console" label="Serial console" id="tab-console" aria-controls="panel-console" />
          <Tab value="snapshots" label="Snapshots" id="tab-snapshots" aria-controls="panel-snapshots" />
        </Tabs>
      </Paper>
      {reason && (
        <Typography variant="body2" color="text.secondary" sx={{ px: 2, py: 1 }} role="status">
          {reason}
        </Typography>
      )}
      <Box
        ref={stage}
        role="tabpanel"
        id={`panel-${tab}`}
        aria-labelledby={`tab-${tab}`}
        sx={{
          flex: 1,
          display: 'flex',
          flexDirection: 'column',
          minHeight: 0,
          bgcolor: 'background.default',
        }}
      >
        {tab === 'display' ? (
          <DisplayPanel
            vm={vm}
            scaling={fullscreen ? 'fit' : scaling}
            handle={display}
            onStart={() => act('start')}
            onReleaseKeyboard={() => releaseTarget.current?.focus()}
          />
        ) : tab === 'console' ? (
          <Suspense fallback={<LinearProgress aria-label="Loading the console" />}>
            <ConsolePanel vm={vm} />
          </Suspense>
        ) : (
          <SnapshotPanel vm={vm} />
        )}
      </Box>
      {actions.dialog}
      <DevicesDialog vmId={devicesOpen ? vm.id : null} onClose={() => setDevicesOpen(false)} />
      <SettingsDialog
        vmId={settingsOpen ? vm.id : null}
        onClose={() => setSettingsOpen(false)}
        onSaved={(saved) => notify.info(`Settings of “${saved.name}” saved.`)}
      />
    </Box>
  )
}
