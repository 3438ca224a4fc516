// The New VM wizard. Step one: where the VM comes from (an installer ISO, a disk image from another
// hypervisor, an appliance, or nothing yet); the engine inspects the file and says what it holds.
// Step two: the hardware, filled in with what the detected OS wants and why, each choice explained
// in a line. Creating converts or imports with a progress bar. In the desktop app files can be
// picked with the system's dialog; in a browser they are paths on the host, typed in.
import { useEffect, useRef, useState, type ChangeEvent, type FormEvent } from 'react'
import Alert from '@mui/material/Alert'
import Button from '@mui/material/Button'
import Dialog from '@mui/material/Dialog'
import DialogActions from '@mui/material/DialogActions'
import DialogContent from '@mui/material/DialogContent'
import DialogTitle from '@mui/material/DialogTitle'
import FormControl from '@mui/material/FormControl'
import FormControlLabel from '@mui/material/FormControlLabel'
import FormHelperText from '@mui/material/FormHelperText'
import FormLabel from '@mui/material/FormLabel'
import InputAdornment from '@mui/material/InputAdornment'
import LinearProgress from '@mui/material/LinearProgress'
import Radio from '@mui/material/Radio'
import RadioGroup from '@mui/material/RadioGroup'
import Stack from '@mui/material/Stack'
import Step from '@mui/material/Step'
import StepLabel from '@mui/material/StepLabel'
import Stepper from '@mui/material/Stepper'
import TextField from '@mui/material/TextField'
import Typography from '@mui/material/Typography'
import type { ImageInspection, JobProgress, VmInfo } from '../../engine/api/rpc.ts'
import { useClient, usePlatform } from '../connection/ConnectionGate.tsx'
import { DISK_BUS_CHOICES, NIC_CHOICES } from '../devices/choices.ts'
import { ChoiceField } from '../devices/ChoiceField.tsx'
import { plainError } from '../ui/notify.tsx'
import { ChainConsent, chainExtras } from './ChainConsent.tsx'
import {
  applyInspection,
  CPUS_MAX,
  DEFAULT_FORM,
  MEMORY_MAX_MIB,
  MEMORY_MIN_MIB,
  sentence,
  SOURCE_LABELS,
  sourceMismatch,
  validateNewVm,
  type NewVmField,
  type NewVmForm,
  type NewVmSource,
  type Reasons,
} from './new-vm-form.ts'

export interface NewVmDialogProps {
  open: boolean
  onClose(): void
  onCreated?(vm: VmInfo): void
}

export function NewVmDialog(props: NewVmDialogProps) {
  return props.open ? <NewVmDialogBody {...props} /> : null
}

const SOURCES: NewVmSource[] = ['iso', 'disk', 'appliance', 'empty']
const PATH_HINTS: Record<NewVmSource, string> = {
  iso: 'An installer or live CD; the VM boots from it first.',
  disk: 'qcow2, raw, vmdk, vdi, vhdx or vpc; inspected before it is used.',
  appliance: 'An .ova file, or an .ovf with its disks beside it.',
  empty: '',
}

function describeBoot(i: ImageInspection): string | null {
  if (!i.iso) return null
  const ways = [i.iso.bootable.bios && 'BIOS', i.iso.bootable.uefi && 'UEFI'].filter(Boolean)
  const boot = ways.length ? `boots with ${ways.join(' and ')}` : 'not bootable'
  return `CD “${i.iso.volumeId}”, ${boot}${i.iso.hybrid ? ', also as a disk (hybrid)' : ''}`
}

function DetectionSummary({ inspection }: { inspection: ImageInspection }) {
  const boot = describeBoot(inspection)
  return (
    <Alert severity={inspection.os ? 'success' : 'info'} aria-label="What the file holds">
      <Typography variant="body2" sx={{ fontWeight: 600 }}>
        {inspection.os ? `Detected ${inspection.os.name}` : 'The operating system was not recognised'}
      </Typography>
      {inspection.os && (
        <Typography variant="body2">
          From {inspection.os.evidence} ({inspection.os.source}).
        </Typography>
      )}
      {boot && <Typography variant="body2">{boot}.</Typography>}
      {inspection.disk && (
        <Typography variant="body2">
          {inspection.disk.format} disk of {(inspection.disk.virtualSize / 1024 ** 3).toFixed(1)} GiB
          {inspection.disk.backingFile ? `, on top of ${inspection.disk.backingFile}` : ''}.
        </Typography>
      )}
      {inspection.appliance && (
        <Typography variant="body2">
          Appliance “{inspection.appliance.name}”: {inspection.appliance.cpus} CPU,{' '}
          {inspection.appliance.memoryMiB} MiB, {inspection.appliance.disks.length} disk(s),{' '}
          {inspection.appliance.nics.length} network card(s), {inspection.appliance.firmware.toUpperCase()}.
        </Typography>
      )}
      {inspection.warnings.map((w) => (
        <Typography key={w} variant="body2" color="warning.main">
          {w}
        </Typography>
      ))}
    </Alert>
  )
}

function NewVmDialogBody(props: NewVmDialogProps) {
  const client = useClient()
  const platform = usePlatform()
  const [step, setStep] = useState<0 | 1>(0)
  const [form, setForm] = useState<NewVmForm>(DEFAULT_FORM)
  const [inspection, setInspection] = useState<ImageInspection | null>(null)
  const [reasons, setReasons] = useState<Reasons>({})
  const [touched, setTouched] = useState<Partial<Record<NewVmField, boolean>>>({})
  const [submitted, setSubmitted] = useState(false)
  const [busy, setBusy] = useState<string | null>(null)
  const [progress, setProgress] = useState<JobProgress | null>(null)
  const [failure, setFailure] = useState<string | null>(null)
  const [chainAllowed, setChainAllowed] = useState(false)
  const jobRef = useRef(`new-vm-${Math.random().toString(36).slice(2, 10)}`)
  const { errors, warnings, params } = validateNewVm(form)

  useEffect(() => {
    const sub = client.on('job.progress', (p) => {
      if (p.job === jobRef.current) setProgress(p)
    })
    return () => sub.dispose()
  }, [client])

  const shown = (f: NewVmField) => (submitted || touched[f] ? errors[f] : undefined)
  const help = (f: NewVmField, fallback?: string) => shown(f) ?? warnings[f] ?? fallback
  const field = (f: NewVmField) => ({
    value: form[f],
    onChange: (e: ChangeEvent<HTMLInputElement>) => setForm((s) => ({ ...s, [f]: e.target.value })),
    onBlur: () => setTouched((t) => ({ ...t, [f]: true })),
    error: !!shown(f),
    disabled: !!busy,
  })
  /** The reason for a recommended value while the user keeps it; the fallback once they change it. */
  const why = (f: keyof Reasons, recommended: unknown, fallback: string) =>
    reasons[f] && inspection && String(recommended) === String(form[f]) ? sentence(reasons[f]) : fallback

  const run = async (what: string, op: () => Promise<void>) => {
    setBusy(what)
    setFailure(null)
    setProgress(null)
    try {
      await op()
    } finally {
      setBusy(null)
    }
  }

  const next = () =>
    run('Looking into the file', async () => {
      setTouched((t) => ({ ...t, path: true }))
      if (form.source === 'empty') {
        setInspection(null)
        setReasons({})
        setStep(1)
        return
      }
      if (errors.path) return
      try {
        const found = await client.call('image.inspect', { path: form.path.trim() })
        const mismatch = sourceMismatch(form.source, found)
        if (mismatch) {
          setFailure(mismatch)
          return
        }
        const applied = applyInspection(form, found)
        setInspection(found)
        setChainAllowed(false)
        setForm(applied.form)
        setReasons(applied.reasons)
        setStep(1)
      } catch (err) {
        setFailure(`Could not use this file: ${plainError(err)}`)
      }
    })

  const submit = () =>
    run(form.source === 'appliance' ? 'Importing' : 'Creating', async () => {
      setSubmitted(true)
      try {
        let vm: VmInfo
        if (form.source === 'appliance') {
          if (errors.name) return
          vm = await client.call('vm.import', {
            path: form.path.trim(),
            ...(form.name.trim() ? { name: form.name.trim() } : {}),
            job: jobRef.current,
          })
        } else {
          if (!params) return
          const extras = chainExtras(inspection)
          if (extras.length > 0 && !chainAllowed) {
            setFailure(
              'This image reads other files: tick “Let the VM read” to use it, or choose another image.',
            )
            return
          }
          vm = await client.call('vm.create', {
            ...params,
            ...(extras.length > 0 ? { allowBacking: extras.map((e) => e.path) } : {}),
            ...(inspection?.os && params.os === undefined ? { os: inspection.os.id } : {}),
            job: jobRef.current,
          })
        }
        props.onCreated?.(vm)
        props.onClose()
      } catch (err) {
        setFailure(
          `Could not ${form.source === 'appliance' ? 'import' : 'create'} the VM: ${plainError(err)}`,
        )
      }
    })

  const browse = async () => {
    try {
      const path = await window.vireo.openFileDialog(form.source === 'empty' ? 'iso' : form.source)
      if (path) setForm((s) => ({ ...s, path }))
    } catch (err) {
      setFailure(`Could not open the file dialog: ${plainError(err)}`)
    }
  }

  const percent =
    progress && progress.total ? Math.min(100, (100 * progress.done) / progress.total) : undefined
  const appliance = form.source === 'appliance'

  return (
    <Dialog
      open
      onClose={busy ? undefined : props.onClose}
      aria-labelledby="new-vm-title"
      fullWidth
      maxWidth="sm"
    >
      <DialogTitle id="new-vm-title">New virtual machine</DialogTitle>
      {busy && (
        <LinearProgress
          aria-label={progress ? progress.phase : busy}
          variant={percent === undefined ? 'indeterminate' : 'determinate'}
          {...(percent === undefined ? {} : { value: percent })}
        />
      )}
      <form
        noValidate
        onSubmit={(e: FormEvent) => {
          e.preventDefault()
          void (step === 0 ? next() : submit())
        }}
      >
        <DialogContent>
          <Stepper activeStep={step} sx={{ mb: 2 }}>
            <Step>
              <StepLabel>Source</StepLabel>
            </Step>
            <Step>
              <StepLabel>Hardware</StepLabel>
            </Step>
          </Stepper>
          <Stack spacing={2.5}>
            {failure && <Alert severity="error">{failure}</Alert>}
            {progress && busy && (
              <Typography variant="body2" aria-live="polite">
                {progress.phase}
                {percent !== undefined ? ` — ${Math.round(percent)} %` : ''}
              </Typography>
            )}
            {step === 0 ? (
              <>
                <FormControl disabled={!!busy}>
                  <FormLabel id="source-label">Where does the VM come from?</FormLabel>
                  <RadioGroup
                    aria-labelledby="source-label"
                    value={form.source}
                    onChange={(e) => {
                      setForm((s) => ({ ...s, source: e.target.value as NewVmSource }))
                      setFailure(null)
                    }}
                  >
                    {SOURCES.map((s) => (
                      <FormControlLabel key={s} value={s} control={<Radio />} label={SOURCE_LABELS[s]} />
                    ))}
                  </RadioGroup>
                </FormControl>
                {form.source !== 'empty' && (
                  <Stack direction="row" spacing={1} sx={{ alignItems: 'flex-start' }}>
                    <TextField
                      label="Path on the host"
                      fullWidth
                      autoFocus
                      {...field('path')}
                      helperText={help('path', PATH_HINTS[form.source])}
                    />
                    {platform.kind === 'electron' && (
                      <Button onClick={() => void browse()} disabled={!!busy} sx={{ mt: 1, flexShrink: 0 }}>
                        Browse…
                      </Button>
                    )}
                  </Stack>
                )}
              </>
            ) : (
              <>
                {inspection && <DetectionSummary inspection={inspection} />}
                <ChainConsent
                  inspection={inspection}
                  allowed={chainAllowed}
                  onAllowed={setChainAllowed}
                  disabled={!!busy}
                />
                <TextField
                  label="Name"
                  required={!appliance}
                  autoFocus
                  {...field('name')}
                  helperText={help('name', 'Unique on this host.')}
                />
                {!appliance && (
                  <HardwareFields
                    form={form}
                    setForm={setForm}
                    field={field}
                    help={help}
                    why={why}
                    inspection={inspection}
                    disabled={!!busy}
                  />
                )}
              </>
            )}
          </Stack>
        </DialogContent>
        <DialogActions>
          <Button onClick={props.onClose} disabled={!!busy}>
            Cancel
          </Button>
          {step === 1 && (
            <Button onClick={() => setStep(0)} disabled={!!busy}>
              Back
            </Button>
          )}
          {step === 0 ? (
            <Button type="submit" variant="contained" disabled={!!busy}>
              Next
            </Button>
          ) : (
            <Button
              type="submit"
              variant="contained"
              disabled={!!busy || (submitted && !params && !appliance)}
            >
              {busy ? `${busy}…` : appliance ? 'Import' : 'Create'}
            </Button>
          )}
        </DialogActions>
      </form>
    </Dialog>
  )
}

interface HardwareProps {
  form: NewVmForm
  setForm: (f: (s: NewVmForm) => NewVmForm) => void
  field: (f: NewVmField) => object
  help: (f: NewVmField, fallback?: string) => string | undefined
  why: (f: keyof Reasons, recommended: unknown, fallback: string) => string
  inspection: ImageInspection | null
  disabled: boolean
}

function HardwareFields({ form, setForm, field, help, why, inspection, disabled }: HardwareProps) {
  const rec = inspection?.recommended
  return (
    <>
      <Stack direction={{ xs: 'column', sm: 'row' }} spacing={2}>
        <TextField
          label="Memory"
          {...field('memoryMiB')}
          helperText={help(
            'memoryMiB',
            why('memoryMiB', rec?.memoryMiB.value, `${MEMORY_MIN_MIB} to ${MEMORY_MAX_MIB} MiB`),
          )}
          slotProps={{
            input: { endAdornment: <InputAdornment position="end">MiB</InputAdornment> },
            htmlInput: { inputMode: 'numeric' },
          }}
        />
        <TextField
          label="CPUs"
          {...field('cpus')}
          helperText={help('cpus', why('cpus', rec?.cpus.value, `1 to ${CPUS_MAX}`))}
          slotProps={{ htmlInput: { inputMode: 'numeric' } }}
        />
        {form.source !== 'disk' && (
          <TextField
            label="New disk"
            {...field('diskGiB')}
            helperText={help('diskGiB', why('diskGiB', form.diskGiB, 'Empty for no disk'))}
            slotProps={{
              input: { endAdornment: <InputAdornment position="end">GiB</InputAdornment> },
              htmlInput: { inputMode: 'decimal' },
            }}
          />
        )}
      </Stack>
      {form.source === 'disk' && (
        <FormControl disabled={disabled}>
          <FormLabel id="disk-mode-label">The disk image</FormLabel>
          <RadioGroup
            aria-labelledby="disk-mode-label"
            value={form.diskMode}
            onChange={(e) => setForm((s) => ({ ...s, diskMode: e.target.value as NewVmForm['diskMode'] }))}
          >
            <FormControlLabel
              value=""
              control={<Radio />}
              label="Vireo chooses (in place if qcow2 or raw, else a copy)"
            />
            <FormControlLabel value="use" control={<Radio />} label="Use it in place (the VM writes to it)" />
            <FormControlLabel
              value="overlay"
              control={<Radio />}
              label="Keep it untouched (changes go to an overlay)"
            />
            <FormControlLabel value="convert" control={<Radio />} label="Copy it into the VM as qcow2" />
          </RadioGroup>
        </FormControl>
      )}
      <FormControl disabled={disabled}>
        <FormLabel id="firmware-label">Firmware</FormLabel>
        <RadioGroup
          row
          aria-labelledby="firmware-label"
          value={form.firmware}
          onChange={(e) => setForm((s) => ({ ...s, firmware: e.target.value === 'uefi' ? 'uefi' : 'bios' }))}
        >
          <FormControlLabel value="bios" control={<Radio />} label="BIOS (SeaBIOS)" />
          <FormControlLabel value="uefi" control={<Radio />} label="UEFI (OVMF)" />
        </RadioGroup>
        <FormHelperText>
          {why(
            'firmware',
            rec?.firmware.value,
            'BIOS starts any PC system; UEFI is for systems installed that way.',
          )}
        </FormHelperText>
      </FormControl>
      <Stack direction={{ xs: 'column', sm: 'row' }} spacing={2}>
        <ChoiceField
          label="Network card"
          value={form.nic}
          choices={NIC_CHOICES}
          extra={[{ value: 'none', label: 'No network', explain: 'The VM has no network.' }]}
          disabled={disabled}
          onChange={(nic) => setForm((s) => ({ ...s, nic }))}
          note={form.nic === 'none' ? '' : why('nic', rec?.nic.value, '')}
        />
        <ChoiceField
          label="Disk bus"
          value={form.diskBus}
          choices={DISK_BUS_CHOICES.filter((c) => c.value !== 'ide')}
          disabled={disabled}
          onChange={(diskBus) => setForm((s) => ({ ...s, diskBus }))}
          note={why('diskBus', rec?.diskBus.value, '')}
        />
      </Stack>
    </>
  )
}
