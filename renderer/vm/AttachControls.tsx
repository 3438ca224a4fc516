// The Devices dialog's add and remove controls: Add disk (a new one of a size, or an existing image;
// its bus), Add network card (model, network), and Remove for a disk (after a confirmation: the
// guest loses it) or a card. They work on running VMs (hot-plug) and stopped ones alike; what the
// form can tell is said before the engine is asked.
import { useState } from 'react'
import Alert from '@mui/material/Alert'
import Button from '@mui/material/Button'
import Dialog from '@mui/material/Dialog'
import DialogActions from '@mui/material/DialogActions'
import DialogContent from '@mui/material/DialogContent'
import DialogContentText from '@mui/material/DialogContentText'
import DialogTitle from '@mui/material/DialogTitle'
import Stack from '@mui/material/Stack'
import TextField from '@mui/material/TextField'
import type { AttachParams } from '../../engine/api/rpc.ts'
import type { Disk } from '../../engine/api/vm-config.ts'
import { DISK_BUS_CHOICES, NIC_CHOICES, type Choice } from '../devices/choices.ts'
import { ChoiceField } from '../devices/ChoiceField.tsx'
import { NetworkFields } from '../devices/NetworkFields.tsx'
import {
  ADD_DISK_FORM,
  ADD_NIC_FORM,
  addDiskParams,
  addNicParams,
  type AddDiskForm,
  type AddNicForm,
} from './attach-forms.ts'

const SOURCES: Choice<AddDiskForm['source']>[] = [
  { value: 'new', label: 'A new disk', explain: 'An empty qcow2 image in the VM folder.' },
  {
    value: 'existing',
    label: 'An existing image',
    explain: 'A qcow2 or raw image on the host, used where it is.',
  },
]

export function AddDisk(props: {
  vm: string
  running: boolean
  busy: boolean
  onAdd(p: AttachParams): void
}) {
  const [f, setF] = useState<AddDiskForm>(ADD_DISK_FORM)
  const set = <K extends keyof AddDiskForm>(k: K, v: AddDiskForm[K]) => setF((s) => ({ ...s, [k]: v }))
  const made = addDiskParams(props.vm, f, props.running)
  return (
    <Stack spacing={1.5} role="group" aria-label="Add disk">
      <Stack direction={{ xs: 'column', sm: 'row' }} spacing={2}>
        <ChoiceField
          size="small"
          label="New disk from"
          value={f.source}
          choices={SOURCES}
          disabled={props.busy}
          onChange={(v) => set('source', v)}
        />
        {f.source === 'new' ? (
          <TextField
            size="small"
            label="Size of the new disk"
            value={f.size}
            disabled={props.busy}
            onChange={(e) => set('size', e.target.value)}
            helperText="e.g. 8G or 512M"
            sx={{ flex: 1 }}
          />
        ) : (
          <TextField
            size="small"
            label="Disk image (path on the host)"
            value={f.image}
            disabled={props.busy}
            onChange={(e) => set('image', e.target.value)}
            helperText="Not in use by another VM."
            sx={{ flex: 1 }}
          />
        )}
        <ChoiceField
          size="small"
          label="Bus of the new disk"
          value={f.bus}
          choices={DISK_BUS_CHOICES}
          disabled={props.busy}
          onChange={(v) => set('bus', v)}
        />
      </Stack>
      {made.error && (
        <Alert severity="warning" role="status">
          {made.error}
        </Alert>
      )}
      <Stack direction="row">
        <Button
          variant="outlined"
          disabled={props.busy || !made.params}
          onClick={() => made.params && props.onAdd(made.params)}
        >
          Add disk
        </Button>
      </Stack>
    </Stack>
  )
}

export function AddNic(props: { vm: string; busy: boolean; onAdd(p: AttachParams): void }) {
  const [f, setF] = useState<AddNicForm>(ADD_NIC_FORM)
  const set = <K extends keyof AddNicForm>(k: K, v: AddNicForm[K]) => setF((s) => ({ ...s, [k]: v }))
  const made = addNicParams(props.vm, f)
  return (
    <Stack spacing={1.5} role="group" aria-label="Add network card">
      <Stack direction={{ xs: 'column', sm: 'row' }} spacing={2}>
        <ChoiceField
          size="small"
          label="Model of the new card"
          value={f.model}
          choices={NIC_CHOICES}
          disabled={props.busy}
          onChange={(v) => set('model', v)}
        />
        <NetworkFields subject="the new card" values={f} disabled={props.busy} onChange={set} />
      </Stack>
      {made.error && f.mode === 'internal' && f.internal.trim() !== '' && (
        <Alert severity="warning" role="status">
          {made.error}
        </Alert>
      )}
      <Stack direction="row">
        <Button
          variant="outlined"
          disabled={props.busy || !made.params}
          onClick={() => made.params && props.onAdd(made.params)}
        >
          Add network card
        </Button>
      </Stack>
    </Stack>
  )
}

/** Remove for a disk: the guest loses it, so it asks first; the image file stays on the host. */
export function RemoveDisk(props: { disk: Disk; running: boolean; busy: boolean; onRemove(): void }) {
  const [asking, setAsking] = useState(false)
  const { disk } = props
  return (
    <>
      <Button color="error" disabled={props.busy} onClick={() => setAsking(true)}>
        Remove disk {disk.id}
      </Button>
      <Dialog open={asking} onClose={() => setAsking(false)} aria-labelledby={`remove-${disk.id}-title`}>
        <DialogTitle id={`remove-${disk.id}-title`}>Remove the disk {disk.id}?</DialogTitle>
        <DialogContent>
          <DialogContentText>
            {props.running
              ? `The guest loses the disk ${disk.id} at once, as if it were pulled out: anything it has not written yet is lost. `
              : `The VM will not have the disk ${disk.id} when it starts. `}
            The image file stays on the host, at {disk.path}.
          </DialogContentText>
        </DialogContent>
        <DialogActions>
          <Button onClick={() => setAsking(false)}>Keep it</Button>
          <Button
            color="error"
            onClick={() => {
              setAsking(false)
              props.onRemove()
            }}
          >
            Remove
          </Button>
        </DialogActions>
      </Dialog>
    </>
  )
}
