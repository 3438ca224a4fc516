// The page: theme, messages, the engine connection, then the library or one VM. Which VM is open is
// kept in the address (#/vm/ID), so Back works and a link can open a VM directly.
import { useCallback, useEffect, useState } from 'react'
import BrightnessAuto from '@mui/icons-material/BrightnessAuto'
import DarkMode from '@mui/icons-material/DarkMode'
import LightMode from '@mui/icons-material/LightMode'
import AppBar from '@mui/material/AppBar'
import Box from '@mui/material/Box'
import IconButton from '@mui/material/IconButton'
import Link from '@mui/material/Link'
import Toolbar from '@mui/material/Toolbar'
import Tooltip from '@mui/material/Tooltip'
import Typography from '@mui/material/Typography'
import { ConnectionGate } from '../connection/ConnectionGate.tsx'
import type { Platform } from '../connection/types.ts'
import { LibraryView } from '../library/LibraryView.tsx'
import { NewVmDialog } from '../library/NewVmDialog.tsx'
import { VmsProvider } from '../library/vms.tsx'
import { MigrationProvider } from '../migration/MigrationProvider.tsx'
import { NotifyProvider } from '../ui/notify.tsx'
import { VmView } from '../vm/VmView.tsx'
import { useThemeChoice, VireoThemeProvider } from './theme.tsx'

/** The VM id in `#/vm/ID`, if the address names one. */
export function vmFromHash(hash: string): string | null {
  const m = /^#\/vm\/([0-9a-fA-F-]{36})$/.exec(hash)
  return m?.[1] ?? null
}

export function App(props: { platform: Platform }) {
  return (
    <VireoThemeProvider platform={props.platform}>
      <NotifyProvider>
        <ConnectionGate platform={props.platform}>
          <VmsProvider>
            <MigrationProvider>
              <Shell />
            </MigrationProvider>
          </VmsProvider>
        </ConnectionGate>
      </NotifyProvider>
    </VireoThemeProvider>
  )
}

function Shell() {
  const [vmId, setVmId] = useState<string | null>(() => vmFromHash(location.hash))
  const [creating, setCreating] = useState(false)

  useEffect(() => {
    const onPop = () => setVmId(vmFromHash(location.hash))
    window.addEventListener('popstate', onPop)
    return () => window.removeEventListener('popstate', onPop)
  }, [])

  const open = useCallback((id: string) => {
    history.pushState(null, '', `#/vm/${id}`)
    setVmId(id)
  }, [])
  const back = useCallback(() => {
    history.pushState(null, '', `${location.pathname}${location.search}`)
    setVmId(null)
  }, [])

  return (
    <Box
      sx={{
        display: 'flex',
        flexDirection: 'column',
        minHeight: '100vh',
        height: vmId ? '100vh' : undefined,
      }}
    >
      <TopBar onHome={back} />
      {vmId ? (
        <VmView vmId={vmId} onBack={back} />
      ) : (
        <LibraryView onOpen={open} onNew={() => setCreating(true)} />
      )}
      <NewVmDialog open={creating} onClose={() => setCreating(false)} onCreated={(vm) => open(vm.id)} />
    </Box>
  )
}

function TopBar(props: { onHome(): void }) {
  const theme = useThemeChoice()
  const label =
    theme.preference === 'system'
      ? 'Theme: follows the system (switch to light)'
      : theme.preference === 'light'
        ? 'Theme: light (switch to dark)'
        : 'Theme: dark (switch to follow the system)'
  return (
    <AppBar position="static" color="default" elevation={0} sx={{ borderBottom: 1, borderColor: 'divider' }}>
      <Toolbar variant="dense">
        <Link
          component="button"
          variant="h6"
          underline="none"
          color="inherit"
          onClick={props.onHome}
          sx={{ fontWeight: 600, letterSpacing: 0.3 }}
        >
          Vireo
        </Link>
        <Typography variant="body2" color="text.secondary" sx={{ ml: 1.5, flex: 1 }} noWrap>
          virtual machines
        </Typography>
        <Tooltip title={label}>
          <IconButton aria-label={label} onClick={theme.cycle}>
            {theme.preference === 'system' ? (
              <BrightnessAuto />
            ) : theme.preference === 'light' ? (
              <LightMode />
            ) : (
              <DarkMode />
            )}
          </IconButton>
        </Tooltip>
      </Toolbar>
    </AppBar>
  )
}
