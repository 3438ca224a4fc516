// The migration's options: live or offline, move or copy, and the limits of the transfer. What a
// choice costs is said beside it; post-copy's risk is said plainly as soon as it is turned on.
import Alert from '@mui/material/Alert'
import FormControl from '@mui/material/FormControl'
import FormControlLabel from '@mui/material/FormControlLabel'
import FormHelperText from '@mui/material/FormHelperText'
import FormLabel from '@mui/material/FormLabel'
import InputAdornment from '@mui/material/InputAdornment'
import Radio from '@mui/material/Radio'
import RadioGroup from '@mui/material/RadioGroup'
import Stack from '@mui/material/Stack'
import Switch from '@mui/material/Switch'
import TextField from '@mui/material/TextField'
import type { VmState } from '../../engine/api/rpc.ts'
import {
  canMoveLive,
  MAX_DOWNTIME_LIMIT_MS,
  POSTCOPY_WARNING,
  type MigrateField,
  type MigrateForm,
  type MigrationMode,
} from './migrate-form.ts'

export interface MigrationOptionsFieldsProps {
  form: MigrateForm
  state: VmState
  errors: Partial<Record<MigrateField, string>>
  onChange(next: MigrateForm): void
  disabled?: boolean
}

export function MigrationOptionsFields({
  form,
  state,
  errors,
  onChange,
  disabled,
}: MigrationOptionsFieldsProps) {
  const set = <K extends keyof MigrateForm>(key: K, value: MigrateForm[K]) =>
    onChange({ ...form, [key]: value })
  const live = form.mode === 'live'
  return (
    <Stack spacing={2}>
      <FormControl disabled={disabled} error={!!errors.mode}>
        <FormLabel id="migrate-mode-label">How it moves</FormLabel>
        <RadioGroup
          aria-labelledby="migrate-mode-label"
          value={form.mode}
          onChange={(e) => set('mode', e.target.value as MigrationMode)}
        >
          <FormControlLabel
            value="live"
            disabled={!canMoveLive(state)}
            control={<Radio />}
            label="Live: the guest keeps running while its disks and memory are copied"
          />
          <FormControlLabel
            value="offline"
            control={<Radio />}
            label="Offline: the stopped VM's files are copied"
          />
        </RadioGroup>
        <FormHelperText>
          {errors.mode ??
            (canMoveLive(state)
              ? 'A running VM moves live; to move it offline, shut it down first.'
              : 'A stopped VM always moves offline.')}
        </FormHelperText>
      </FormControl>
      <FormControl disabled={disabled}>
        <FormLabel id="migrate-copy-label">What stays here</FormLabel>
        <RadioGroup
          aria-labelledby="migrate-copy-label"
          value={form.copy ? 'copy' : 'move'}
          onChange={(e) => set('copy', e.target.value === 'copy')}
        >
          <FormControlLabel
            value="move"
            control={<Radio />}
            label="Move: released here once the other host has it"
          />
          <FormControlLabel value="copy" control={<Radio />} label="Copy: kept here as well, stopped" />
        </RadioGroup>
      </FormControl>
      <TextField
        label="Bandwidth limit"
        value={form.bandwidthMbps}
        disabled={disabled}
        onChange={(e) => set('bandwidthMbps', e.target.value)}
        error={!!errors.bandwidthMbps}
        helperText={errors.bandwidthMbps ?? 'Optional; empty for no limit. Applies to disks and memory.'}
        slotProps={{
          input: { endAdornment: <InputAdornment position="end">Mbit/s</InputAdornment> },
          htmlInput: { inputMode: 'numeric' },
        }}
      />
      {live && (
        <>
          <TextField
            label="Maximum downtime"
            value={form.maxDowntimeMs}
            disabled={disabled}
            onChange={(e) => set('maxDowntimeMs', e.target.value)}
            error={!!errors.maxDowntimeMs}
            helperText={
              errors.maxDowntimeMs ??
              `The longest pause of the guest at the switch-over, 1 to ${MAX_DOWNTIME_LIMIT_MS} ms.`
            }
            slotProps={{
              input: { endAdornment: <InputAdornment position="end">ms</InputAdornment> },
              htmlInput: { inputMode: 'numeric' },
            }}
          />
          <FormControlLabel
            disabled={disabled}
            control={
              <Switch checked={form.autoConverge} onChange={(e) => set('autoConverge', e.target.checked)} />
            }
            label="Auto-converge: slow the guest down if its memory changes faster than the link carries it"
          />
          <FormControlLabel
            disabled={disabled}
            control={<Switch checked={form.postcopy} onChange={(e) => set('postcopy', e.target.checked)} />}
            label="Post-copy: switch over first, then fetch the remaining memory"
          />
          {form.postcopy && (
            <Alert severity="warning" role="alert">
              {POSTCOPY_WARNING}
            </Alert>
          )}
        </>
      )}
    </Stack>
  )
}
