// The VM's serial console in xterm.js, over the engine's console stream. The engine keeps the output
// since the last boot and replays it on attach, so nothing printed before this tab opened is lost.
import { useEffect, useRef, useState } from 'react'
import { FitAddon } from '@xterm/addon-fit'
import { Terminal } from '@xterm/xterm'
import '@xterm/xterm/css/xterm.css'
import Box from '@mui/material/Box'
import Typography from '@mui/material/Typography'
import { useTheme } from '@mui/material/styles'
import type { VmSummary } from '../../engine/api/rpc.ts'
import type { ClientStream } from '../../engine/api/client.ts'
import { useClient } from '../connection/ConnectionGate.tsx'
import { plainError } from '../ui/notify.tsx'

export function ConsolePanel(props: { vm: VmSummary }) {
  const { vm } = props
  const live = vm.state === 'running' || vm.state === 'paused'
  if (!live) {
    return (
      <Box sx={{ flex: 1, p: 3 }}>
        <Typography color="text.secondary">The serial console is available while the VM runs.</Typography>
      </Box>
    )
  }
  return <LiveConsole vm={vm} />
}

function LiveConsole(props: { vm: VmSummary }) {
  const client = useClient()
  const theme = useTheme()
  const dark = theme.palette.mode === 'dark'
  const hostRef = useRef<HTMLDivElement | null>(null)
  const termRef = useRef<Terminal | null>(null)
  const [status, setStatus] = useState<string | null>('Connecting to the serial console…')
  const vmId = props.vm.id
  const xtermTheme = dark
    ? { background: '#121212', foreground: '#e0e0e0', cursor: '#9fd8bd' }
    : { background: '#fafafa', foreground: '#1e1e1e', cursor: '#1b5e40', selectionBackground: '#b3d7c6' }
  const themeRef = useRef(xtermTheme)
  themeRef.current = xtermTheme

  useEffect(() => {
    const host = hostRef.current
    if (!host) return
    const term = new Terminal({
      cursorBlink: true,
      scrollback: 10_000,
      fontFamily: 'ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace',
      fontSize: 14,
      // Room below the baseline, or underscores vanish into the next row.
      lineHeight: 1.15,
      theme: themeRef.current,
    })
    const fit = new FitAddon()
    term.loadAddon(fit)
    term.open(host)
    termRef.current = term
    const refit = () => {
      try {
        fit.fit()
      } catch {
        /* not laid out yet */
      }
    }
    refit()
    const ro = typeof ResizeObserver === 'undefined' ? null : new ResizeObserver(refit)
    ro?.observe(host)

    let stream: ClientStream | null = null
    let disposed = false
    const input = term.onData((d) => stream?.write(d))
    client.openStream('console', vmId).then(
      (s) => {
        if (disposed) {
          void s.close().catch(() => undefined)
          return
        }
        stream = s
        setStatus(null)
        s.onData((bytes) => term.write(bytes))
        s.onEnd((reason) => {
          term.write(`\r\n\x1b[2m[${reason}]\x1b[0m\r\n`)
          setStatus(`The console closed: ${reason}.`)
          stream = null
        })
        term.focus()
      },
      (err: unknown) => {
        if (!disposed) setStatus(`Could not open the serial console: ${plainError(err)}`)
      },
    )
    return () => {
      disposed = true
      input.dispose()
      ro?.disconnect()
      if (stream) void stream.close().catch(() => undefined)
      termRef.current = null
      term.dispose()
    }
  }, [client, vmId])

  useEffect(() => {
    const term = termRef.current
    if (!term) return
    term.options.theme = themeRef.current
  }, [dark])

  return (
    <Box sx={{ flex: 1, display: 'flex', flexDirection: 'column', minHeight: 0 }}>
      {status && (
        <Typography variant="body2" color="text.secondary" sx={{ px: 2, py: 1 }} role="status">
          {status}
        </Typography>
      )}
      <Box sx={{ flex: 1, minHeight: 240, p: 1, bgcolor: dark ? '#121212' : '#fafafa', display: 'flex' }}>
        {/* FitAddon measures this box: it must have no padding of its own. */}
        <Box
          ref={hostRef}
          aria-label={`Serial console of ${props.vm.name}`}
          sx={{ flex: 1, minWidth: 0, minHeight: 0, overflow: 'hidden' }}
        />
      </Box>
    </Box>
  )
}
