// This host's one-time pairing code, for the user to type on the other host with the address shown.
// A host that does not accept other hosts says so in the engine's words instead of a code.
import { useCallback, useEffect, useState } from 'react'
import Alert from '@mui/material/Alert'
import Button from '@mui/material/Button'
import Dialog from '@mui/material/Dialog'
import DialogActions from '@mui/material/DialogActions'
import DialogContent from '@mui/material/DialogContent'
import DialogContentText from '@mui/material/DialogContentText'
import DialogTitle from '@mui/material/DialogTitle'
import LinearProgress from '@mui/material/LinearProgress'
import Stack from '@mui/material/Stack'
import TextField from '@mui/material/TextField'
import Typography from '@mui/material/Typography'
import type { PairCodeInfo } from '../../engine/api/migration.ts'
import { useClient } from '../connection/ConnectionGate.tsx'
import { plainError } from '../ui/notify.tsx'
import { expiryText, formatPairCode, hostAddress } from './remote-form.ts'

export function PairCodeDialog(props: { open: boolean; onClose(): void }) {
  return props.open ? <PairCodeDialogBody onClose={props.onClose} /> : null
}

function PairCodeDialogBody(props: { onClose(): void }) {
  const client = useClient()
  const [info, setInfo] = useState<PairCodeInfo | null>(null)
  const [failure, setFailure] = useState<string | null>(null)
  /** The host does not accept other hosts yet: the user may turn that on here. */
  const [closed, setClosed] = useState(false)
  const [address, setAddress] = useState('127.0.0.1')
  const [now, setNow] = useState(() => Date.now())

  const ask = useCallback(async () => {
    setInfo(null)
    setFailure(null)
    setClosed(false)
    try {
      setInfo(await client.call('host.pairCode', {}))
      setNow(Date.now())
    } catch (err) {
      setFailure(plainError(err))
      setClosed((err as { code?: string }).code === 'invalid_state')
    }
  }, [client])

  const accept = async () => {
    setFailure(null)
    try {
      await client.call('host.accept', { enabled: true, address: address.trim() })
      await ask()
    } catch (err) {
      setFailure(plainError(err))
    }
  }

  useEffect(() => {
    void ask()
  }, [ask])
  // The expiry counts down while the dialog is open.
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 15_000)
    return () => clearInterval(timer)
  }, [])

  return (
    <Dialog open onClose={props.onClose} aria-labelledby="pair-code-title" fullWidth maxWidth="xs">
      <DialogTitle id="pair-code-title">Pairing code of this host</DialogTitle>
      {!info && !failure && <LinearProgress aria-label="Asking for a pairing code" />}
      <DialogContent>
        <Stack spacing={2}>
          {failure && <Alert severity={closed ? 'info' : 'error'}>{failure}</Alert>}
          {closed && (
            <>
              <TextField
                label="Listen on"
                value={address}
                onChange={(e) => setAddress(e.target.value)}
                helperText="127.0.0.1 reaches only this machine; give this host's network address to pair with another machine."
                size="small"
              />
              <Button variant="outlined" onClick={() => void accept()}>
                Accept machines from other hosts
              </Button>
            </>
          )}
          {info && (
            <>
              <DialogContentText>
                On the other host choose “Add host” and type this address and code.
              </DialogContentText>
              <Typography
                variant="h4"
                component="p"
                aria-label="Pairing code"
                sx={{ fontFamily: 'monospace', letterSpacing: 4, textAlign: 'center' }}
              >
                {formatPairCode(info.code)}
              </Typography>
              <Typography variant="body2">
                Address: <strong aria-label="Address of this host">{hostAddress(info)}</strong>
              </Typography>
              <Typography variant="body2" color="text.secondary">
                {expiryText(info.expiresAt, now)}
              </Typography>
            </>
          )}
        </Stack>
      </DialogContent>
      <DialogActions>
        <Button onClick={() => void ask()} disabled={!info && !failure}>
          New code
        </Button>
        <Button onClick={props.onClose} variant="contained">
          Close
        </Button>
      </DialogActions>
    </Dialog>
  )
}
