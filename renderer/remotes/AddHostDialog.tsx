// Pairs this host with another: its name here, its address and the one-time code it shows. The code
// never leaves this host (the engine runs a key exchange with it); what the engine refuses is said
// in its own words.
import { useState, type ChangeEvent, type FormEvent } from 'react'
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
import type { RemoteInfo } from '../../engine/api/migration.ts'
import { useClient } from '../connection/ConnectionGate.tsx'
import { plainError } from '../ui/notify.tsx'
import { EMPTY_ADD_HOST, validateAddHost, type AddHostField, type AddHostForm } from './remote-form.ts'

export interface AddHostDialogProps {
  open: boolean
  onClose(): void
  onAdded?(remote: RemoteInfo): void
}

export function AddHostDialog(props: AddHostDialogProps) {
  return props.open ? <AddHostDialogBody {...props} /> : null
}

const HINTS: Record<AddHostField, string> = {
  name: 'What you call it here, e.g. lab2.',
  address: 'HOST:PORT, as the other host shows under “Pairing code of this host”.',
  code: 'XXXX-XXXX, valid once and for a few minutes.',
}

function AddHostDialogBody(props: AddHostDialogProps) {
  const client = useClient()
  const [form, setForm] = useState<AddHostForm>(EMPTY_ADD_HOST)
  const [touched, setTouched] = useState<Partial<Record<AddHostField, boolean>>>({})
  const [submitted, setSubmitted] = useState(false)
  const [busy, setBusy] = useState(false)
  const [failure, setFailure] = useState<string | null>(null)
  const { errors, params } = validateAddHost(form)

  const shown = (f: AddHostField) => (submitted || touched[f] ? errors[f] : undefined)
  const field = (f: AddHostField, label: string) => ({
    label,
    value: form[f],
    onChange: (e: ChangeEvent<HTMLInputElement>) => setForm((s) => ({ ...s, [f]: e.target.value })),
    onBlur: () => setTouched((t) => ({ ...t, [f]: true })),
    error: !!shown(f),
    helperText: shown(f) ?? HINTS[f],
    disabled: busy,
    fullWidth: true,
  })

  const submit = async () => {
    setSubmitted(true)
    if (!params) return
    setBusy(true)
    setFailure(null)
    try {
      const remote = await client.call('remote.add', params)
      props.onAdded?.(remote)
      props.onClose()
    } catch (err) {
      setFailure(`Could not pair with “${params.name}”: ${plainError(err)}`)
      setBusy(false)
    }
  }

  return (
    <Dialog
      open
      onClose={busy ? undefined : props.onClose}
      aria-labelledby="add-host-title"
      fullWidth
      maxWidth="sm"
    >
      <DialogTitle id="add-host-title">Add host</DialogTitle>
      {busy && <LinearProgress aria-label="Pairing" />}
      <form
        noValidate
        onSubmit={(e: FormEvent) => {
          e.preventDefault()
          void submit()
        }}
      >
        <DialogContent>
          <Stack spacing={2}>
            <DialogContentText>
              On the other host, open “Pairing code of this host” (or run <code>vireo host pair-code</code>),
              then type its address and code here. The two hosts agree a key from the code; VMs move between
              them encrypted with it.
            </DialogContentText>
            {failure && <Alert severity="error">{failure}</Alert>}
            <TextField {...field('name', 'Name')} autoFocus />
            <TextField {...field('address', 'Address')} />
            <TextField
              {...field('code', 'Pairing code')}
              slotProps={{ htmlInput: { autoCapitalize: 'characters', spellCheck: false } }}
            />
          </Stack>
        </DialogContent>
        <DialogActions>
          <Button onClick={props.onClose} disabled={busy}>
            Cancel
          </Button>
          <Button type="submit" variant="contained" disabled={busy || (submitted && !params)}>
            {busy ? 'Pairing…' : 'Pair'}
          </Button>
        </DialogActions>
      </form>
    </Dialog>
  )
}
