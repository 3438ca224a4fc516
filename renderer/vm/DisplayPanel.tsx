// The VM's screen: a canvas fed only by the RFB display stream, scaled to fit or shown 1:1, taking the
// keyboard while focused (Ctrl+Alt gives it back) and the pointer while hovered.
import { useEffect, useImperativeHandle, useRef, useState, type ReactNode, type Ref } from 'react'
import Alert from '@mui/material/Alert'
import Box from '@mui/material/Box'
import Button from '@mui/material/Button'
import CircularProgress from '@mui/material/CircularProgress'
import Stack from '@mui/material/Stack'
import Typography from '@mui/material/Typography'
import type { VmSummary } from '../../engine/api/rpc.ts'
import { useClient } from '../connection/ConnectionGate.tsx'
import { DisplaySession, type DisplayStatus } from '../display/display-session.ts'

export type Scaling = 'fit' | '1:1'

export interface DisplayHandle {
  /** Presses the keys (KeyboardEvent.code values) together; false while the display is not connected. */
  sendCombo(codes: readonly string[]): boolean
  focus(): void
}

export interface DisplayPanelProps {
  vm: VmSummary
  scaling: Scaling
  handle?: Ref<DisplayHandle>
  onReleaseKeyboard?(): void
  onStart?(): void
}

export function DisplayPanel(props: DisplayPanelProps) {
  const { vm } = props
  const live = vm.state === 'running' || vm.state === 'paused'
  return live ? (
    <LiveDisplay {...props} />
  ) : (
    <ScreenOff>
      <Typography sx={{ color: 'grey.300' }}>
        {vm.state === 'stopped' ? 'This VM is stopped.' : `This VM is ${vm.state}…`}
      </Typography>
      {vm.state === 'stopped' && props.onStart && (
        <Button variant="contained" onClick={props.onStart}>
          Start
        </Button>
      )}
      {vm.state !== 'stopped' && <CircularProgress size={24} aria-label={`The VM is ${vm.state}`} />}
    </ScreenOff>
  )
}

function ScreenOff(props: { children: ReactNode }) {
  return (
    <Box
      sx={{
        flex: 1,
        minHeight: 240,
        bgcolor: '#111',
        display: 'flex',
        alignItems: 'center',
        justifyContent: 'center',
      }}
    >
      <Stack spacing={2} sx={{ alignItems: 'center' }}>
        {props.children}
      </Stack>
    </Box>
  )
}

function LiveDisplay(props: DisplayPanelProps) {
  const client = useClient()
  const { vm, scaling } = props
  const canvasRef = useRef<HTMLCanvasElement | null>(null)
  const boxRef = useRef<HTMLDivElement | null>(null)
  const sessionRef = useRef<DisplaySession | null>(null)
  const [status, setStatus] = useState<DisplayStatus>({ state: 'connecting' })
  const [fb, setFb] = useState<{ width: number; height: number } | null>(null)
  const [box, setBox] = useState<{ width: number; height: number }>({ width: 0, height: 0 })
  const [attempt, setAttempt] = useState(0)
  const [focused, setFocused] = useState(false)
  const releaseRef = useRef(props.onReleaseKeyboard)
  releaseRef.current = props.onReleaseKeyboard

  useImperativeHandle(
    props.handle,
    () => ({
      sendCombo: (codes) => sessionRef.current?.sendCombo(codes) ?? false,
      focus: () => canvasRef.current?.focus(),
    }),
    [],
  )

  useEffect(() => {
    const canvas = canvasRef.current
    if (!canvas) return
    let disposed = false
    let session: DisplaySession | null = null
    setStatus({ state: 'connecting' })
    void DisplaySession.open({
      source: client,
      vm: vm.id,
      canvas,
      onStatus: (s) => {
        if (!disposed) setStatus(s)
      },
      onResize: (width, height) => {
        if (!disposed) setFb({ width, height })
      },
      onReleaseKeyboard: () => {
        canvas.blur()
        releaseRef.current?.()
      },
    }).then((s) => {
      session = s
      if (disposed) s.dispose()
      else sessionRef.current = s
    })
    return () => {
      disposed = true
      session?.dispose()
      sessionRef.current = null
    }
  }, [client, vm.id, attempt])

  // When the VM is restarted the old stream ends; a fresh one is opened for the new run.
  useEffect(() => {
    if (status.state !== 'closed') return
    const t = setTimeout(() => setAttempt((a) => a + 1), 1000)
    return () => clearTimeout(t)
  }, [status.state])

  useEffect(() => {
    const el = boxRef.current
    if (!el || typeof ResizeObserver === 'undefined') return
    const ro = new ResizeObserver(() => setBox({ width: el.clientWidth, height: el.clientHeight }))
    ro.observe(el)
    return () => ro.disconnect()
  }, [])

  let cssWidth: number | undefined
  let cssHeight: number | undefined
  if (fb && scaling === 'fit' && box.width > 0 && box.height > 0) {
    const scale = Math.min(box.width / fb.width, box.height / fb.height)
    cssWidth = Math.floor(fb.width * scale)
    cssHeight = Math.floor(fb.height * scale)
  } else if (fb) {
    cssWidth = fb.width
    cssHeight = fb.height
  }

  return (
    <Box sx={{ flex: 1, display: 'flex', flexDirection: 'column', minHeight: 0 }}>
      <Box
        ref={boxRef}
        sx={{
          flex: 1,
          minHeight: 240,
          bgcolor: '#111',
          overflow: scaling === 'fit' ? 'hidden' : 'auto',
          display: 'flex',
          alignItems: scaling === 'fit' ? 'center' : 'flex-start',
          justifyContent: scaling === 'fit' ? 'center' : 'flex-start',
          position: 'relative',
        }}
      >
        <canvas
          ref={canvasRef}
          tabIndex={0}
          aria-label={`Screen of ${vm.name}. While it has focus, keys go to the VM; press Ctrl+Alt to release the keyboard.`}
          data-testid="vm-display"
          onFocus={() => setFocused(true)}
          onBlur={() => setFocused(false)}
          style={{
            display: fb ? 'block' : 'none',
            width: cssWidth,
            height: cssHeight,
            flexShrink: 0,
            cursor: 'default',
            touchAction: 'none',
            outlineOffset: -3,
          }}
        />
        {status.state === 'connecting' && (
          <Stack
            spacing={1}
            sx={{ alignItems: 'center', position: 'absolute', inset: 0, justifyContent: 'center' }}
          >
            <CircularProgress size={28} aria-label="Connecting to the display" />
          </Stack>
        )}
        {status.state === 'failed' && (
          <Box
            sx={{
              position: 'absolute',
              inset: 0,
              display: 'flex',
              alignItems: 'center',
              justifyContent: 'center',
              p: 2,
            }}
          >
            <Alert
              severity="error"
              action={
                <Button color="inherit" size="small" onClick={() => setAttempt((a) => a + 1)}>
                  Reconnect
                </Button>
              }
            >
              The display could not be shown: {status.message}
            </Alert>
          </Box>
        )}
      </Box>
      <Typography variant="caption" color="text.secondary" sx={{ px: 1, py: 0.5 }} aria-live="polite">
        {focused
          ? 'Keyboard goes to the VM. Press Ctrl+Alt to release it.'
          : status.state === 'connected' || fb
            ? `${fb?.width ?? 0}×${fb?.height ?? 0}. Click the screen to type into the VM.`
            : ' '}
      </Typography>
    </Box>
  )
}
