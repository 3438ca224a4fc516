// New VM: name, install ISO, memory, CPUs, a new disk, firmware. In the desktop app the ISO can be
// picked with the system's file dialog; in a browser it is a path on the host, typed in.
import { useState, type ChangeEvent, type FormEvent } from 'react'
import Alert from '@mui/material/Alert'
import Button from '@mui/material/Button'
import Dialog from '@mui/material/Dialog'
import DialogActions from '@mui/material/DialogActions'
import DialogContent from '@mui/material/DialogContent'
import DialogTitle from '@mui/material/DialogTitle'
import FormControl from '@mui/material/FormControl'
import FormControlLabel from '@mui/material/FormControlLabel'
import FormLabel from '@mui/material/FormLabel'
import InputAdornment from '@mui/material/InputAdornment'
import LinearProgress from '@mui/material/LinearProgress'
import Radio from '@mui/material/Radio'
import RadioGroup from '@mui/material/RadioGroup'
import Stack from '@mui/material/Stack'
import TextField from '@mui/material/TextField'
import type { VmInfo } from '../../engine/api/rpc.ts'
import { useClient, usePlatform } from '../connection/ConnectionGate.tsx'
import { plainError } from '../ui/notify.tsx'
import {
  CPUS_MAX,
  DEFAULT_FORM,
  MEMORY_MAX_MIB,
  MEMORY_MIN_MIB,
  validateNewVm,
  type NewVmField,
  type NewVmForm,
} from './new-vm-form.ts'

export interface NewVmDialogProps {
  open: boolean
  onClose(): void
  onCreated?(vm: VmInfo): void
}

export function NewVmDialog(props: NewVmDialogProps) {
  return props.open ? <NewVmDialogBody {...props} /> : null
}

function NewVmDialogBody(props: NewVmDialogProps) {
  const client = useClient()
  const platform = usePlatform()
  const [form, setForm] = useState<NewVmForm>(DEFAULT_FORM)
  const [touched, setTouched] = useState<Partial<Record<NewVmField, boolean>>>({})
  const [submitted, setSubmitted] = useState(false)
  const [busy, setBusy] = useState(false)
  const [failure, setFailure] = useState<string | null>(null)
  const { errors, warnings, params } = validateNewVm(form)

  const shown = (f: NewVmField) => (submitted || touched[f] ? errors[f] : undefined)
  const help = (f: NewVmField, fallback?: string) => shown(f) ?? warnings[f] ?? fallback
  const field = (f: NewVmField) => ({
    value: form[f],
    onChange: (e: ChangeEvent<HTMLInputElement>) => setForm((s) => ({ ...s, [f]: e.target.value })),
    onBlur: () => setTouched((t) => ({ ...t, [f]: true })),
    error: !!shown(f),
    disabled: busy,
  })

  const submit = async () => {
    setSubmitted(true)
    if (!params || busy) return
    setBusy(true)
    setFailure(null)
    try {
      const vm = await client.call('vm.create', params)
      props.onCreated?.(vm)
      props.onClose()
    } catch (err) {
      setFailure(`Could not create the VM: ${plainError(err)}`)
    } finally {
      setBusy(false)
    }
  }

  const browse = async () => {
    try {
      const path = await window.vireo.openFileDialog('iso')
      if (path) setForm((s) => ({ ...s, iso: path }))
    } catch (err) {
      setFailure(`Could not open the file dialog: ${plainError(err)}`)
    }
  }

  return (
    <Dialog
      open
      onClose={busy ? undefined : props.onClose}
      aria-labelledby="new-vm-title"
      fullWidth
      maxWidth="sm"
    >
      <DialogTitle id="new-vm-title">New virtual machine</DialogTitle>
      {busy && <LinearProgress aria-label="Creating the VM" />}
      <form
        noValidate
        onSubmit={(e: FormEvent) => {
          e.preventDefault()
          void submit()
        }}
      >
        <DialogContent>
          <Stack spacing={2.5} sx={{ pt: 1 }}>
            {failure && <Alert severity="error">{failure}</Alert>}
            <TextField
              label="Name"
              required
              autoFocus
              {...field('name')}
              helperText={help('name', 'Unique on this host.')}
            />
            <Stack direction="row" spacing={1} sx={{ alignItems: 'flex-start' }}>
              <TextField
                label="Install ISO (path on the host)"
                placeholder="/srv/iso/debian-12.iso"
                fullWidth
                {...field('iso')}
                helperText={help('iso', 'Optional. The VM boots from it first.')}
              />
              {platform.kind === 'electron' && (
                <Button onClick={() => void browse()} disabled={busy} sx={{ mt: 1, flexShrink: 0 }}>
                  Browse…
                </Button>
              )}
            </Stack>
            <Stack direction={{ xs: 'column', sm: 'row' }} spacing={2}>
              <TextField
                label="Memory"
                {...field('memoryMiB')}
                helperText={help('memoryMiB', `${MEMORY_MIN_MIB} to ${MEMORY_MAX_MIB} MiB`)}
                slotProps={{
                  input: { endAdornment: <InputAdornment position="end">MiB</InputAdornment> },
                  htmlInput: { inputMode: 'numeric' },
                }}
              />
              <TextField
                label="CPUs"
                {...field('cpus')}
                helperText={help('cpus', `1 to ${CPUS_MAX}`)}
                slotProps={{ htmlInput: { inputMode: 'numeric' } }}
              />
              <TextField
                label="New disk"
                {...field('diskGiB')}
                helperText={help('diskGiB', 'Empty for no disk')}
                slotProps={{
                  input: { endAdornment: <InputAdornment position="end">GiB</InputAdornment> },
                  htmlInput: { inputMode: 'decimal' },
                }}
              />
            </Stack>
            <FormControl disabled={busy}>
              <FormLabel id="firmware-label">Firmware</FormLabel>
              <RadioGroup
                row
                aria-labelledby="firmware-label"
                value={form.firmware}
                onChange={(e) =>
                  setForm((s) => ({ ...s, firmware: e.target.value === 'uefi' ? 'uefi' : 'bios' }))
                }
              >
                <FormControlLabel value="bios" control={<Radio />} label="BIOS (SeaBIOS)" />
                <FormControlLabel value="uefi" control={<Radio />} label="UEFI (OVMF)" />
              </RadioGroup>
            </FormControl>
          </Stack>
        </DialogContent>
        <DialogActions>
          <Button onClick={props.onClose} disabled={busy}>
            Cancel
          </Button>
          <Button type="submit" variant="contained" disabled={busy || (submitted && !params)}>
            {busy ? 'Creating…' : 'Create'}
          </Button>
        </DialogActions>
      </form>
    </Dialog>
  )
}
