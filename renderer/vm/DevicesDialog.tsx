// A VM's devices: the CD drive (a disc inserted or ejected, running or not), each disk (bus, cache
// mode, discard, zero detection, read-only, I/O thread) and each network card (model, MAC, network,
// cable); disks and cards added and removed, running (hot-plug) or stopped. Every choice says in a line what it means; what cannot be done is said before the engine
// is asked, and the engine's own refusals are shown as they come.
import { useEffect, useState, type ReactNode } from 'react'
import Alert from '@mui/material/Alert'
import Button from '@mui/material/Button'
import Checkbox from '@mui/material/Checkbox'
import Dialog from '@mui/material/Dialog'
import DialogActions from '@mui/material/DialogActions'
import DialogContent from '@mui/material/DialogContent'
import DialogTitle from '@mui/material/DialogTitle'
import Divider from '@mui/material/Divider'
import FormControlLabel from '@mui/material/FormControlLabel'
import LinearProgress from '@mui/material/LinearProgress'
import Stack from '@mui/material/Stack'
import Switch from '@mui/material/Switch'
import TextField from '@mui/material/TextField'
import Typography from '@mui/material/Typography'
import type { AttachParams, VmInfo } from '../../engine/api/rpc.ts'
import type { Disk, Nic } from '../../engine/api/vm-config.ts'
import { useClient } from '../connection/ConnectionGate.tsx'
import { CACHE_CHOICES, DISK_BUS_CHOICES, NIC_CHOICES, type Choice } from '../devices/choices.ts'
import { ChoiceField } from '../devices/ChoiceField.tsx'
import { NetworkFields } from '../devices/NetworkFields.tsx'
import { plainError } from '../ui/notify.tsx'
import { AddDisk, AddNic, RemoveDisk } from './AttachControls.tsx'
import {
  diskChanges,
  diskForm,
  diskProblem,
  nicChanges,
  nicForm,
  type DiskForm,
  type NicForm,
} from './device-forms.ts'

export interface DevicesDialogProps {
  /** The VM's id, or null when the dialog is closed. */
  vmId: string | null
  onClose(): void
}

export function DevicesDialog(props: DevicesDialogProps) {
  return props.vmId ? <DevicesBody {...props} vmId={props.vmId} /> : null
}

const ZEROES: Choice<DiskForm['detectZeroes']>[] = [
  { value: 'off', label: 'Stored as written', explain: 'Zeroes the guest writes take space like any data.' },
  { value: 'on', label: 'As zero clusters', explain: 'Zeroes the guest writes are kept out of the image.' },
  {
    value: 'unmap',
    label: 'As holes',
    explain: 'Zeroes become holes, and the image shrinks (needs discard).',
  },
]

function Section({ title, children }: { title: string; children: ReactNode }) {
  return (
    <Stack spacing={1.5} component="section" aria-label={title}>
      <Typography variant="subtitle1" component="h3" sx={{ fontWeight: 600 }}>
        {title}
      </Typography>
      {children}
    </Stack>
  )
}

function DevicesBody(props: DevicesDialogProps & { vmId: string }) {
  const client = useClient()
  const [vm, setVm] = useState<VmInfo | null>(null)
  const [busy, setBusy] = useState(false)
  const [failure, setFailure] = useState<string | null>(null)
  const [done, setDone] = useState<string | null>(null)
  const { vmId } = props

  useEffect(() => {
    let live = true
    client.call('vm.info', { vm: vmId }).then(
      (info) => live && setVm(info),
      (err: unknown) => live && setFailure(`Could not read the VM's devices: ${plainError(err)}`),
    )
    return () => {
      live = false
    }
  }, [client, vmId])

  /** Runs one change; the VM as the engine then has it replaces what the dialog shows. */
  const apply = async (what: string, op: () => Promise<VmInfo>) => {
    setBusy(true)
    setFailure(null)
    setDone(null)
    try {
      setVm(await op())
      setDone(what)
    } catch (err) {
      setFailure(plainError(err))
    } finally {
      setBusy(false)
    }
  }
  /** The engine answers an attach with the new device and the VM; the VM, new row and all, is shown. */
  const attach = (what: string, params: AttachParams) =>
    apply(what, async () => (await client.call('device.attach', params)).vm)

  const stopped = vm?.state === 'stopped'
  const running = vm?.state === 'running' || vm?.state === 'paused'
  /** Disks and cards come and go while the VM runs (hot-plug) or is stopped, not in between. */
  const plugLocked = busy || !(stopped || running)
  return (
    <Dialog
      open
      onClose={busy ? undefined : props.onClose}
      aria-labelledby="devices-title"
      fullWidth
      maxWidth="md"
    >
      <DialogTitle id="devices-title">Devices{vm ? ` of ${vm.name}` : ''}</DialogTitle>
      {(busy || !vm) && !failure && <LinearProgress aria-label="Working" />}
      <DialogContent>
        <Stack spacing={3} sx={{ pt: 1 }}>
          {failure && <Alert severity="error">{failure}</Alert>}
          {done && <Alert severity="success">{done}</Alert>}
          {vm && !stopped && (
            <Alert severity="info">
              The VM is {vm.state}: the disc can change, the cable can be pulled, and disks and cards can be
              added and removed now; their settings change while it is shut down, as on a real machine.
            </Alert>
          )}
          {vm && (
            <>
              <Section title="CD/DVD">
                {vm.config.cdroms.map((cd) => (
                  <CdromRow
                    key={cd.id}
                    id={cd.id}
                    path={cd.path}
                    busy={busy}
                    onInsert={(path) =>
                      apply(`Inserted ${path}.`, () =>
                        client.call('cdrom.change', { vm: vm.id, cdrom: cd.id, path }),
                      )
                    }
                    onEject={() =>
                      apply('Ejected the disc.', () =>
                        client.call('cdrom.change', { vm: vm.id, cdrom: cd.id, path: null }),
                      )
                    }
                  />
                ))}
              </Section>
              <Divider />
              <Section title="Disks">
                {vm.config.disks.length === 0 && <Typography variant="body2">No disks.</Typography>}
                {vm.config.disks.map((d) => (
                  <Stack key={d.id} spacing={1}>
                    <DiskRow
                      disk={d}
                      locked={busy || !stopped}
                      onSave={(f) => {
                        const params = diskChanges(vm.id, d, f)
                        if (params)
                          void apply(`Saved the disk ${d.id}.`, () => client.call('disk.update', params))
                      }}
                    />
                    <Stack direction="row">
                      <RemoveDisk
                        disk={d}
                        running={running}
                        busy={plugLocked}
                        onRemove={() =>
                          apply(`Removed the disk ${d.id}; its image stays at ${d.path}.`, () =>
                            client.call('device.detach', { vm: vm.id, device: d.id }),
                          )
                        }
                      />
                    </Stack>
                  </Stack>
                ))}
                <AddDisk
                  vm={vm.id}
                  running={running}
                  busy={plugLocked}
                  onAdd={(params) => attach('Added a disk.', params)}
                />
              </Section>
              <Divider />
              <Section title="Network cards">
                {vm.config.nics.length === 0 && <Typography variant="body2">No network cards.</Typography>}
                {vm.config.nics.map((n) => (
                  <Stack key={`${n.id}-${n.mac}-${n.model}-${n.network.mode}`} spacing={1}>
                    <NicRow
                      nic={n}
                      locked={busy || !stopped}
                      busy={busy}
                      onSave={(f) => {
                        const { params, error } = nicChanges(vm.id, n, f)
                        if (error) setFailure(error)
                        else if (params)
                          void apply(`Saved the card ${n.id}.`, () => client.call('nic.update', params))
                      }}
                      onCable={(up) =>
                        apply(up ? `Plugged the cable of ${n.id} in.` : `Pulled the cable of ${n.id}.`, () =>
                          client.call('nic.update', { vm: vm.id, nic: n.id, linkUp: up }),
                        )
                      }
                    />
                    <Stack direction="row">
                      <Button
                        color="error"
                        disabled={plugLocked}
                        onClick={() =>
                          void apply(`Removed the card ${n.id}.`, () =>
                            client.call('device.detach', { vm: vm.id, device: n.id }),
                          )
                        }
                      >
                        Remove card {n.id}
                      </Button>
                    </Stack>
                  </Stack>
                ))}
                <AddNic
                  vm={vm.id}
                  busy={plugLocked}
                  onAdd={(params) => attach('Added a network card.', params)}
                />
              </Section>
            </>
          )}
        </Stack>
      </DialogContent>
      <DialogActions>
        <Button onClick={props.onClose} disabled={busy}>
          Close
        </Button>
      </DialogActions>
    </Dialog>
  )
}

function CdromRow(props: {
  id: string
  path: string | null
  busy: boolean
  onInsert(path: string): void
  onEject(): void
}) {
  const [path, setPath] = useState('')
  return (
    <Stack spacing={1}>
      <Typography variant="body2">
        Drive {props.id}: {props.path ?? 'empty'}
      </Typography>
      <Stack direction="row" spacing={1} sx={{ alignItems: 'flex-start' }}>
        <TextField
          label={`Disc image for ${props.id} (path on the host)`}
          size="small"
          fullWidth
          value={path}
          disabled={props.busy}
          onChange={(e) => setPath(e.target.value)}
        />
        <Button disabled={props.busy || !path.trim()} onClick={() => props.onInsert(path.trim())}>
          Insert
        </Button>
        <Button disabled={props.busy || props.path === null} onClick={props.onEject}>
          Eject
        </Button>
      </Stack>
    </Stack>
  )
}

function DiskRow(props: { disk: Disk; locked: boolean; onSave(f: DiskForm): void }) {
  const { disk } = props
  const [f, setF] = useState<DiskForm>(() => diskForm(disk))
  useEffect(() => setF(diskForm(disk)), [disk])
  const problem = diskProblem(f)
  const changed = diskChanges('x', disk, f) !== null
  const set = <K extends keyof DiskForm>(k: K, v: DiskForm[K]) => setF((s) => ({ ...s, [k]: v }))
  return (
    <Stack spacing={1.5} role="group" aria-label={`Disk ${disk.id}`}>
      <Typography variant="body2">
        {disk.id}: {disk.path} ({disk.format})
      </Typography>
      <Stack direction={{ xs: 'column', sm: 'row' }} spacing={2}>
        <ChoiceField
          size="small"
          label={`Bus of ${disk.id}`}
          value={f.bus}
          choices={DISK_BUS_CHOICES}
          disabled={props.locked}
          onChange={(v) => set('bus', v)}
        />
        <ChoiceField
          size="small"
          label={`Cache mode of ${disk.id}`}
          value={f.cache}
          choices={CACHE_CHOICES}
          disabled={props.locked}
          onChange={(v) => set('cache', v)}
        />
        <ChoiceField
          size="small"
          label={`Written zeroes on ${disk.id}`}
          value={f.detectZeroes}
          choices={ZEROES}
          disabled={props.locked}
          onChange={(v) => set('detectZeroes', v)}
        />
      </Stack>
      <Stack direction="row" spacing={2} sx={{ flexWrap: 'wrap', alignItems: 'center' }}>
        <FormControlLabel
          disabled={props.locked}
          control={<Checkbox checked={f.discard} onChange={(e) => set('discard', e.target.checked)} />}
          label="Discard (TRIM shrinks the image)"
        />
        <FormControlLabel
          disabled={props.locked}
          control={<Checkbox checked={f.readOnly} onChange={(e) => set('readOnly', e.target.checked)} />}
          label="Read-only"
        />
        <FormControlLabel
          disabled={props.locked}
          control={<Checkbox checked={f.iothread} onChange={(e) => set('iothread', e.target.checked)} />}
          label="Own I/O thread"
        />
        <Button
          variant="outlined"
          disabled={props.locked || !changed || !!problem}
          onClick={() => props.onSave(f)}
        >
          Save disk {disk.id}
        </Button>
      </Stack>
      {problem && (
        <Alert severity="warning" role="status">
          {problem}
        </Alert>
      )}
    </Stack>
  )
}

function NicRow(props: {
  nic: Nic
  locked: boolean
  busy: boolean
  onSave(f: NicForm): void
  onCable(up: boolean): void
}) {
  const { nic } = props
  const [f, setF] = useState<NicForm>(() => nicForm(nic))
  const set = <K extends keyof NicForm>(k: K, v: NicForm[K]) => setF((s) => ({ ...s, [k]: v }))
  const current = nicForm(nic)
  const changed = (Object.keys(f) as (keyof NicForm)[]).some((k) => f[k] !== current[k])
  return (
    <Stack spacing={1.5} role="group" aria-label={`Network card ${nic.id}`}>
      <Stack direction={{ xs: 'column', sm: 'row' }} spacing={2}>
        <ChoiceField
          size="small"
          label={`Model of ${nic.id}`}
          value={f.model}
          choices={NIC_CHOICES}
          disabled={props.locked}
          onChange={(v) => set('model', v)}
        />
        <TextField
          size="small"
          label={`MAC of ${nic.id}`}
          value={f.mac}
          disabled={props.locked}
          onChange={(e) => set('mac', e.target.value)}
          helperText="Unique on this host."
          sx={{ flex: 1 }}
        />
      </Stack>
      <Stack direction={{ xs: 'column', sm: 'row' }} spacing={2}>
        <NetworkFields subject={nic.id} values={f} disabled={props.locked} onChange={set} />
      </Stack>
      <Stack direction="row" spacing={2} sx={{ alignItems: 'center' }}>
        <FormControlLabel
          disabled={props.busy}
          control={<Switch checked={nic.linkUp} onChange={(e) => props.onCable(e.target.checked)} />}
          label={`Cable of ${nic.id} connected`}
        />
        <Button variant="outlined" disabled={props.locked || !changed} onClick={() => props.onSave(f)}>
          Save card {nic.id}
        </Button>
      </Stack>
    </Stack>
  )
}
