// A drop-down of device choices whose helper line explains the one picked.
import MenuItem from '@mui/material/MenuItem'
import TextField from '@mui/material/TextField'
import { explain, type Choice } from './choices.ts'

export interface ChoiceFieldProps<T extends string> {
  label: string
  value: T
  choices: Choice<T>[]
  onChange(value: T): void
  disabled?: boolean
  size?: 'small' | 'medium'
  /** Said after the choice's own explanation (why it was recommended, say). */
  note?: string
  /** Choices beyond the list, such as "No network", with the line shown when picked. */
  extra?: { value: T; label: string; explain: string }[]
}

export function ChoiceField<T extends string>(props: ChoiceFieldProps<T>) {
  const all = [...props.choices, ...(props.extra ?? [])]
  return (
    <TextField
      select
      label={props.label}
      value={props.value}
      disabled={!!props.disabled}
      size={props.size ?? 'medium'}
      onChange={(e) => props.onChange(e.target.value as T)}
      helperText={`${explain(all, props.value)} ${props.note ?? ''}`.trim()}
      sx={{ flex: 1 }}
    >
      {all.map((c) => (
        <MenuItem key={c.value} value={c.value}>
          {c.label}
        </MenuItem>
      ))}
    </TextField>
  )
}
