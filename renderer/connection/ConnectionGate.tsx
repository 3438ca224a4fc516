// Gets the page an engine connection and keeps it: in the desktop app from the MessagePorts main
// hands over, in a browser over the WebSocket with the host's token. Until there is one it shows
// what is happening — connecting, a sign-in form, or why the host could not be reached — never a
// blank page.
import { createContext, useCallback, useContext, useEffect, useRef, useState, type ReactNode } from 'react'
import Alert from '@mui/material/Alert'
import Box from '@mui/material/Box'
import Button from '@mui/material/Button'
import CircularProgress from '@mui/material/CircularProgress'
import Paper from '@mui/material/Paper'
import Stack from '@mui/material/Stack'
import TextField from '@mui/material/TextField'
import Typography from '@mui/material/Typography'
import { connectBrowser, ConnectError, MESSAGES, takeToken, TOKEN_KEY } from './browser.ts'
import { connectElectron } from './electron.ts'
import type { Platform, VireoClient } from './types.ts'

const ClientContext = createContext<VireoClient | null>(null)
const PlatformContext = createContext<Platform>({ kind: 'browser' })

export function useClient(): VireoClient {
  const client = useContext(ClientContext)
  if (!client) throw new Error('useClient: no engine connection here')
  return client
}

export function usePlatform(): Platform {
  return useContext(PlatformContext)
}

/** Provides an already connected client (tests, and the gate below). */
export function ClientProvider(props: { client: VireoClient; platform?: Platform; children: ReactNode }) {
  const outer = useContext(PlatformContext)
  return (
    <PlatformContext.Provider value={props.platform ?? outer}>
      <ClientContext.Provider value={props.client}>{props.children}</ClientContext.Provider>
    </PlatformContext.Provider>
  )
}

type Connection =
  | { status: 'connecting' }
  | { status: 'connected'; client: VireoClient }
  | { status: 'sign-in'; message: string | null }
  | { status: 'lost'; message: string; retrying: boolean }

/** Waits between reconnection attempts after the connection dropped (browser mode). */
const RETRY_DELAYS_MS = [500, 1000, 2000, 5000, 10_000]

export function ConnectionGate(props: { platform: Platform; children: ReactNode }) {
  const { platform } = props
  const [conn, setConn] = useState<Connection>({ status: 'connecting' })
  const current = useRef<VireoClient | null>(null)
  const retries = useRef(0)
  const retryTimer = useRef<ReturnType<typeof setTimeout> | null>(null)
  /** Bumped on unmount: a connection that completes for an older generation is dropped. */
  const generation = useRef(0)

  const adopt = useCallback((client: VireoClient, onLost: () => void) => {
    const previous = current.current
    current.current = client
    previous?.close()
    retries.current = 0
    client.onClose(() => {
      if (current.current !== client) return
      current.current = null
      onLost()
    })
    setConn({ status: 'connected', client })
  }, [])

  const attempt = useCallback(
    (token: string | null) => {
      if (retryTimer.current) clearTimeout(retryTimer.current)
      retryTimer.current = null
      setConn((c) => (c.status === 'lost' ? { ...c, retrying: true } : { status: 'connecting' }))
      const gen = generation.current
      connectBrowser(token).then(
        (client) => {
          if (gen !== generation.current) return client.close()
          adopt(client, () => {
            setConn({ status: 'lost', message: 'The connection to the Vireo host was lost.', retrying: true })
            scheduleRetry()
          })
        },
        (err: unknown) => {
          if (gen !== generation.current) return
          if (err instanceof ConnectError && (err.kind === 'unauthorized' || err.kind === 'sign-in')) {
            sessionStorage.removeItem(TOKEN_KEY)
            setConn({ status: 'sign-in', message: err.kind === 'unauthorized' ? err.message : null })
            return
          }
          const message = err instanceof Error ? err.message : MESSAGES.unreachable
          setConn({ status: 'lost', message, retrying: retries.current < RETRY_DELAYS_MS.length })
          scheduleRetry()
        },
      )
      function scheduleRetry() {
        const delay = RETRY_DELAYS_MS[retries.current]
        if (delay === undefined) {
          setConn((c) => (c.status === 'lost' ? { ...c, retrying: false } : c))
          return
        }
        retries.current++
        retryTimer.current = setTimeout(() => attempt(sessionStorage.getItem(TOKEN_KEY)), delay)
      }
    },
    [adopt],
  )

  useEffect(() => {
    if (platform.kind === 'electron') {
      const stop = connectElectron((client) =>
        adopt(client, () =>
          setConn({
            status: 'lost',
            message: 'The engine stopped. Vireo is starting it again; this window reconnects by itself.',
            retrying: true,
          }),
        ),
      )
      return () => {
        stop()
        current.current?.close()
        current.current = null
      }
    }
    attempt(takeToken())
    return () => {
      generation.current++
      if (retryTimer.current) clearTimeout(retryTimer.current)
      current.current?.close()
      current.current = null
    }
  }, [platform.kind, adopt, attempt])

  const reconnectNow = () => {
    retries.current = 0
    attempt(sessionStorage.getItem(TOKEN_KEY))
  }

  switch (conn.status) {
    case 'connected':
      return (
        <ClientProvider client={conn.client} platform={platform}>
          {props.children}
        </ClientProvider>
      )
    case 'connecting':
      return (
        <Centered>
          <Stack spacing={2} sx={{ alignItems: 'center' }} role="status" aria-live="polite">
            <CircularProgress aria-hidden />
            <Typography>Connecting to the Vireo engine…</Typography>
          </Stack>
        </Centered>
      )
    case 'sign-in':
      return (
        <SignInForm
          message={conn.message}
          onSubmit={(token) => {
            sessionStorage.setItem(TOKEN_KEY, token)
            attempt(token)
          }}
        />
      )
    case 'lost':
      return (
        <Centered>
          <Paper sx={{ p: 4, maxWidth: 520 }} role="alert">
            <Stack spacing={2}>
              <Typography variant="h6" component="h1">
                Not connected
              </Typography>
              <Typography>{conn.message}</Typography>
              {conn.retrying && (
                <Stack direction="row" spacing={1} sx={{ alignItems: 'center' }}>
                  <CircularProgress size={16} aria-hidden />
                  <Typography variant="body2">Trying again…</Typography>
                </Stack>
              )}
              {platform.kind === 'browser' && (
                <Box>
                  <Button variant="contained" onClick={reconnectNow}>
                    Reconnect now
                  </Button>
                </Box>
              )}
            </Stack>
          </Paper>
        </Centered>
      )
  }
}

function Centered(props: { children: ReactNode }) {
  return (
    <Box
      component="main"
      sx={{ minHeight: '100vh', display: 'flex', alignItems: 'center', justifyContent: 'center', p: 2 }}
    >
      {props.children}
    </Box>
  )
}

export function SignInForm(props: { message: string | null; onSubmit(token: string): void }) {
  const [token, setToken] = useState('')
  return (
    <Centered>
      <Paper
        component="form"
        sx={{ p: 4, width: '100%', maxWidth: 480 }}
        onSubmit={(e) => {
          e.preventDefault()
          const t = token.trim()
          if (t) props.onSubmit(t)
        }}
        aria-labelledby="sign-in-title"
      >
        <Stack spacing={2}>
          <Typography variant="h5" component="h1" id="sign-in-title">
            Sign in to Vireo
          </Typography>
          <Typography color="text.secondary">
            This Vireo host needs its access token. Open the address that <code>vireo serve</code> printed (it
            ends in <code>#token=…</code>), or paste the token here.
          </Typography>
          {props.message && <Alert severity="error">{props.message}</Alert>}
          {/* For password managers: a token form still wants a user name beside the secret. */}
          <input type="text" name="username" autoComplete="username" value="vireo" readOnly hidden />
          <TextField
            label="Token"
            type="password"
            autoComplete="current-password"
            autoFocus
            required
            value={token}
            onChange={(e) => setToken(e.target.value)}
          />
          <Box>
            <Button type="submit" variant="contained" disabled={!token.trim()}>
              Sign in
            </Button>
          </Box>
        </Stack>
      </Paper>
    </Centered>
  )
}
