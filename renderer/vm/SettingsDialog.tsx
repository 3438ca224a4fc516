// A VM's basic settings: name, CPUs, memory, firmware and boot order. The hardware is editable only
// while the VM is stopped, and the dialog says so; devices have dialogs of their own.
import { useEffect, useState, type ChangeEvent, type FormEvent } from 'react'
import ArrowDownward from '@mui/icons-material/ArrowDownward'
import ArrowUpward from '@mui/icons-material/ArrowUpward'
import Alert from '@mui/material/Alert'
import Button from '@mui/material/Button'
import Checkbox from '@mui/material/Checkbox'
import Dialog from '@mui/material/Dialog'
import DialogActions from '@mui/material/DialogActions'
import DialogContent from '@mui/material/DialogContent'
import DialogTitle from '@mui/material/DialogTitle'
import FormControl from '@mui/material/FormControl'
import FormControlLabel from '@mui/material/FormControlLabel'
import FormHelperText from '@mui/material/FormHelperText'
import FormLabel from '@mui/material/FormLabel'
import IconButton from '@mui/material/IconButton'
import InputAdornment from '@mui/material/InputAdornment'
import LinearProgress from '@mui/material/LinearProgress'
import List from '@mui/material/List'
import ListItem from '@mui/material/ListItem'
import Radio from '@mui/material/Radio'
import RadioGroup from '@mui/material/RadioGroup'
import Stack from '@mui/material/Stack'
import TextField from '@mui/material/TextField'
import type { VmInfo } from '../../engine/api/rpc.ts'
import { useClient } from '../connection/ConnectionGate.tsx'
import { CPUS_MAX, MEMORY_MAX_MIB, MEMORY_MIN_MIB } from '../library/new-vm-form.ts'
import { plainError } from '../ui/notify.tsx'
import {
  BOOT_LABELS,
  formFromVm,
  hasChanges,
  moveBoot,
  validateSettings,
  type SettingsField,
  type SettingsForm,
} from './settings-form.ts'

export interface SettingsDialogProps {
  /** The VM's id, or null when the dialog is closed. */
  vmId: string | null
  onClose(): void
  onSaved?(vm: VmInfo): void
}

export function SettingsDialog(props: SettingsDialogProps) {
  return props.vmId ? <SettingsLoader {...props} vmId={props.vmId} /> : null
}

function SettingsLoader(props: SettingsDialogProps & { vmId: string }) {
  const client = useClient()
  const [vm, setVm] = useState<VmInfo | null>(null)
  const [failure, setFailure] = useState<string | null>(null)
  const { vmId } = props
  useEffect(() => {
    let live = true
    client.call('vm.info', { vm: vmId }).then(
      (info) => live && setVm(info),
      (err: unknown) => live && setFailure(`Could not read the VM's settings: ${plainError(err)}`),
    )
    return () => {
      live = false
    }
  }, [client, vmId])
  if (vm) return <SettingsBody {...props} vm={vm} />
  return (
    <Dialog open onClose={props.onClose} aria-labelledby="settings-title" fullWidth maxWidth="sm">
      <DialogTitle id="settings-title">Settings</DialogTitle>
      <DialogContent>
        {failure ? (
          <Alert severity="error">{failure}</Alert>
        ) : (
          <LinearProgress aria-label="Loading the settings" />
        )}
      </DialogContent>
      <DialogActions>
        <Button onClick={props.onClose}>Close</Button>
      </DialogActions>
    </Dialog>
  )
}

function SettingsBody(props: SettingsDialogProps & { vm: VmInfo }) {
  const client = useClient()
  const { vm } = props
  const [form, setForm] = useState<SettingsForm>(() => formFromVm(vm))
  const [busy, setBusy] = useState(false)
  const [failure, setFailure] = useState<string | null>(null)
  const { errors, warnings, params, hardwareLocked } = validateSettings(form, vm)
  const changed = hasChanges(params)

  const help = (f: SettingsField, fallback?: string) => errors[f] ?? warnings[f] ?? fallback
  const field = (f: 'name' | 'cpus' | 'memoryMiB', hardware: boolean) => ({
    value: form[f],
    onChange: (e: ChangeEvent<HTMLInputElement>) => setForm((s) => ({ ...s, [f]: e.target.value })),
    error: !!errors[f],
    disabled: busy || (hardware && hardwareLocked),
  })

  const save = async () => {
    if (!params || !changed || busy) return
    setBusy(true)
    setFailure(null)
    try {
      const saved = await client.call('vm.update', params)
      props.onSaved?.(saved)
      props.onClose()
    } catch (err) {
      setFailure(`Could not save the settings: ${plainError(err)}`)
    } finally {
      setBusy(false)
    }
  }

  return (
    <Dialog
      open
      onClose={busy ? undefined : props.onClose}
      aria-labelledby="settings-title"
      fullWidth
      maxWidth="sm"
    >
      <DialogTitle id="settings-title">Settings of {vm.name}</DialogTitle>
      {busy && <LinearProgress aria-label="Saving the settings" />}
      <form
        noValidate
        onSubmit={(e: FormEvent) => {
          e.preventDefault()
          void save()
        }}
      >
        <DialogContent>
          <Stack spacing={2.5} sx={{ pt: 1 }}>
            {failure && <Alert severity="error">{failure}</Alert>}
            {hardwareLocked && (
              <Alert severity="info">
                The VM is {vm.state}: its hardware can change only while it is shut down, as on a real
                machine. Its name can change now.
              </Alert>
            )}
            <TextField
              label="Name"
              required
              autoFocus
              {...field('name', false)}
              helperText={help('name', 'Unique on this host.')}
            />
            <Stack direction={{ xs: 'column', sm: 'row' }} spacing={2}>
              <TextField
                label="CPUs"
                {...field('cpus', true)}
                helperText={help('cpus', `1 to ${CPUS_MAX}`)}
                slotProps={{ htmlInput: { inputMode: 'numeric' } }}
              />
              <TextField
                label="Memory"
                {...field('memoryMiB', true)}
                helperText={help('memoryMiB', `${MEMORY_MIN_MIB} to ${MEMORY_MAX_MIB} MiB`)}
                slotProps={{
                  input: { endAdornment: <InputAdornment position="end">MiB</InputAdornment> },
                  htmlInput: { inputMode: 'numeric' },
                }}
              />
            </Stack>
            <FormControl disabled={busy || hardwareLocked}>
              <FormLabel id="settings-firmware-label">Firmware</FormLabel>
              <RadioGroup
                row
                aria-labelledby="settings-firmware-label"
                value={form.firmware}
                onChange={(e) =>
                  setForm((s) => ({ ...s, firmware: e.target.value === 'uefi' ? 'uefi' : 'bios' }))
                }
              >
                <FormControlLabel value="bios" control={<Radio />} label="BIOS (SeaBIOS)" />
                <FormControlLabel value="uefi" control={<Radio />} label="UEFI (OVMF)" />
              </RadioGroup>
              {warnings.firmware && <FormHelperText>{warnings.firmware}</FormHelperText>}
            </FormControl>
            <FormControl disabled={busy || hardwareLocked} error={!!errors.boot}>
              <FormLabel id="settings-boot-label">Boot order</FormLabel>
              <List dense aria-labelledby="settings-boot-label" disablePadding>
                {form.boot.map((entry, i) => (
                  <ListItem
                    key={entry.device}
                    disableGutters
                    secondaryAction={
                      <Stack direction="row">
                        <IconButton
                          aria-label={`Boot from ${BOOT_LABELS[entry.device]} earlier`}
                          disabled={busy || hardwareLocked || i === 0}
                          onClick={() => setForm((s) => ({ ...s, boot: moveBoot(s.boot, i, -1) }))}
                        >
                          <ArrowUpward fontSize="small" />
                        </IconButton>
                        <IconButton
                          aria-label={`Boot from ${BOOT_LABELS[entry.device]} later`}
                          disabled={busy || hardwareLocked || i === form.boot.length - 1}
                          onClick={() => setForm((s) => ({ ...s, boot: moveBoot(s.boot, i, 1) }))}
                        >
                          <ArrowDownward fontSize="small" />
                        </IconButton>
                      </Stack>
                    }
                  >
                    <FormControlLabel
                      control={
                        <Checkbox
                          checked={entry.enabled}
                          onChange={(e) =>
                            setForm((s) => ({
                              ...s,
                              boot: s.boot.map((b, j) => (j === i ? { ...b, enabled: e.target.checked } : b)),
                            }))
                          }
                        />
                      }
                      label={`${i + 1}. ${BOOT_LABELS[entry.device]}`}
                    />
                  </ListItem>
                ))}
              </List>
              <FormHelperText>
                {errors.boot ?? 'The VM tries the checked devices from the top.'}
              </FormHelperText>
            </FormControl>
          </Stack>
        </DialogContent>
        <DialogActions>
          <Button onClick={props.onClose} disabled={busy}>
            Cancel
          </Button>
          <Button type="submit" variant="contained" disabled={busy || !params || !changed}>
            {busy ? 'Saving…' : 'Save'}
          </Button>
        </DialogActions>
      </form>
    </Dialog>
  )
}
