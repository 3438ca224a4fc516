// A card's network as a form: the mode, and for an internal network its name and DHCP subnet. One
// component for a card being added and one being changed, so both ask the same way.
import TextField from '@mui/material/TextField'
import type { Network } from '../../engine/api/vm-config.ts'
import { NETWORK_CHOICES } from '../vm/device-forms.ts'
import { ChoiceField } from './ChoiceField.tsx'

export interface NetworkValues {
  mode: Network['mode']
  internal: string
  dhcp: string
}

export function NetworkFields(props: {
  /** Whose network, for the labels: "net0", "the new card". */
  subject: string
  values: NetworkValues
  disabled: boolean
  onChange<K extends keyof NetworkValues>(key: K, value: NetworkValues[K]): void
}) {
  const { subject, values, disabled } = props
  return (
    <>
      <ChoiceField
        size="small"
        label={`Network of ${subject}`}
        value={values.mode}
        choices={NETWORK_CHOICES}
        disabled={disabled}
        onChange={(v) => props.onChange('mode', v)}
      />
      {values.mode === 'internal' && (
        <>
          <TextField
            size="small"
            label={`Internal network of ${subject}`}
            value={values.internal}
            disabled={disabled}
            onChange={(e) => props.onChange('internal', e.target.value)}
            helperText="VMs naming the same network are connected."
            sx={{ flex: 1 }}
          />
          <TextField
            size="small"
            label={`DHCP subnet of ${subject}`}
            value={values.dhcp}
            disabled={disabled}
            onChange={(e) => props.onChange('dhcp', e.target.value)}
            helperText="e.g. 10.9.0.0/24: the engine hands out addresses; empty for none."
            sx={{ flex: 1 }}
          />
        </>
      )}
    </>
  )
}
