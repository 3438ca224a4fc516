// Messages for people in a snackbar: errors in plain words, one at a time, in the order they came.
import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react'
import Alert from '@mui/material/Alert'
import Snackbar from '@mui/material/Snackbar'

export interface Notify {
  /** `what` says what failed ("Could not start web"); the error adds why. */
  error(what: string, err?: unknown): void
  info(message: string): void
}

interface Note {
  key: number
  severity: 'error' | 'info'
  message: string
}

const NotifyContext = createContext<Notify>({ error: () => undefined, info: () => undefined })

export function useNotify(): Notify {
  return useContext(NotifyContext)
}

/** The sentence to show for an error from the engine or the connection. */
export function plainError(err: unknown): string {
  // The engine's and the client's own errors are sentences already ("UEFI needs OVMF, which is not
  // installed", "the connection to the engine closed"): shown as they are.
  if (err instanceof Error) return err.message
  return String(err)
}

let nextKey = 1

export function NotifyProvider(props: { children: ReactNode }) {
  const [queue, setQueue] = useState<Note[]>([])
  const [open, setOpen] = useState(true)
  const push = useCallback((severity: Note['severity'], message: string) => {
    setQueue((q) => [...q, { key: nextKey++, severity, message }])
    setOpen(true)
  }, [])
  const notify = useMemo<Notify>(
    () => ({
      error: (what, err) => {
        const why = err === undefined ? '' : plainError(err)
        push('error', why ? `${what}: ${why}` : what)
      },
      info: (message) => push('info', message),
    }),
    [push],
  )
  const current = queue[0]
  return (
    <NotifyContext.Provider value={notify}>
      {props.children}
      <Snackbar
        key={current?.key}
        open={!!current && open}
        autoHideDuration={current?.severity === 'error' ? 10_000 : 4000}
        onClose={(_e, reason) => {
          if (reason !== 'clickaway') setOpen(false)
        }}
        slotProps={{
          transition: {
            onExited: () => {
              setQueue((q) => q.slice(1))
              setOpen(true)
            },
          },
        }}
        anchorOrigin={{ vertical: 'bottom', horizontal: 'left' }}
      >
        {current ? (
          <Alert
            severity={current.severity}
            variant="filled"
            onClose={() => setOpen(false)}
            sx={{ maxWidth: 640 }}
          >
            {current.message}
          </Alert>
        ) : undefined}
      </Snackbar>
    </NotifyContext.Provider>
  )
}
