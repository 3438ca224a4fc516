// The migration wizard: pick the VM, pick (or pair) the destination host, read the compatibility
// report, choose the options, then follow the move with its progress and a cancel, and read the
// result: the measured downtime and total time, or what went wrong in plain words.
import { useEffect, useRef, useState } from 'react'
import Add from '@mui/icons-material/Add'
import Alert from '@mui/material/Alert'
import Box from '@mui/material/Box'
import Button from '@mui/material/Button'
import Dialog from '@mui/material/Dialog'
import DialogActions from '@mui/material/DialogActions'
import DialogContent from '@mui/material/DialogContent'
import DialogTitle from '@mui/material/DialogTitle'
import FormControl from '@mui/material/FormControl'
import FormControlLabel from '@mui/material/FormControlLabel'
import FormHelperText from '@mui/material/FormHelperText'
import FormLabel from '@mui/material/FormLabel'
import LinearProgress from '@mui/material/LinearProgress'
import Radio from '@mui/material/Radio'
import RadioGroup from '@mui/material/RadioGroup'
import Stack from '@mui/material/Stack'
import Step from '@mui/material/Step'
import StepLabel from '@mui/material/StepLabel'
import Stepper from '@mui/material/Stepper'
import Typography from '@mui/material/Typography'
import type {
  CompatibilityReport,
  MigrateOptions,
  MigrationProgress,
  MigrationResult,
} from '../../engine/api/migration.ts'
import type { VmSummary } from '../../engine/api/rpc.ts'
import { useClient } from '../connection/ConnectionGate.tsx'
import { useVms } from '../library/vms.tsx'
import { AddHostDialog } from '../remotes/AddHostDialog.tsx'
import { useRemoteHosts } from '../remotes/remotes.ts'
import { plainError } from '../ui/notify.tsx'
import { STATE_LABELS } from '../vm/actions.ts'
import { CompatibilityReportView } from './CompatibilityReportView.tsx'
import {
  defaultMigrateForm,
  newMigrationJobId,
  sameOptions,
  validateMigrate,
  whyNotMovable,
  type MigrateForm,
} from './migrate-form.ts'
import { MigrationOptionsFields } from './MigrationOptionsFields.tsx'
import {
  failureText,
  formatBytes,
  PHASE_LABELS,
  progressFraction,
  progressLines,
  resultLines,
  resultTitle,
} from './progress-text.ts'

export interface MigrationWizardProps {
  /** The VM chosen when the wizard opens (from its view or its menu). */
  vmId: string | null
  onClose(): void
}

type StepName = 'vm' | 'destination' | 'check' | 'options' | 'progress' | 'result'
const STEPS: { name: StepName; label: string }[] = [
  { name: 'vm', label: 'Virtual machine' },
  { name: 'destination', label: 'Destination' },
  { name: 'check', label: 'Compatibility' },
  { name: 'options', label: 'Options' },
  { name: 'progress', label: 'Progress' },
  { name: 'result', label: 'Result' },
]

type Outcome = { ok: true; result: MigrationResult } | { ok: false; message: string }

export function MigrationWizard(props: MigrationWizardProps) {
  const client = useClient()
  const { vms } = useVms()
  const hosts = useRemoteHosts({ vms: false })
  const [step, setStep] = useState<StepName>('vm')
  const [vmId, setVmId] = useState<string | null>(props.vmId)
  const [to, setTo] = useState<string | null>(null)
  const [form, setForm] = useState<MigrateForm | null>(null)
  const [report, setReport] = useState<CompatibilityReport | null>(null)
  const [checked, setChecked] = useState<MigrateOptions | null>(null)
  const [busy, setBusy] = useState<string | null>(null)
  const [failure, setFailure] = useState<string | null>(null)
  const [pairing, setPairing] = useState(false)
  const [progress, setProgress] = useState<MigrationProgress | null>(null)
  const [outcome, setOutcome] = useState<Outcome | null>(null)
  const [cancelling, setCancelling] = useState(false)
  const cancelled = useRef(false)
  const job = useRef<string | null>(null)
  // The VM as last seen: a VM that moved away leaves the list, but the result still names it.
  const lastVm = useRef<VmSummary | null>(null)
  const listed = vms?.find((v) => v.id === vmId) ?? null
  if (listed) lastVm.current = listed
  const vm = listed ?? (lastVm.current?.id === vmId ? lastVm.current : null)

  useEffect(() => {
    const sub = client.on('migration.progress', (p) => {
      if (p.job === job.current) setProgress(p)
    })
    return () => sub.dispose()
  }, [client])

  // The options follow the VM chosen: a running one defaults to live, a stopped one to offline.
  const effectiveForm = form ?? (vm ? defaultMigrateForm(vm.state) : null)
  const validation = vm && effectiveForm ? validateMigrate(effectiveForm, vm, to) : null
  const options = validation?.options ?? null
  const index = STEPS.findIndex((s) => s.name === step)
  const running = step === 'progress'

  const check = async (opts: MigrateOptions) => {
    setBusy('Checking')
    setFailure(null)
    try {
      const r = await client.call('migration.check', opts)
      setReport(r)
      setChecked(opts)
      return r
    } catch (err) {
      setReport(null)
      setChecked(null)
      setFailure(`Could not check the move: ${plainError(err)}`)
      return null
    } finally {
      setBusy(null)
    }
  }

  const toCheck = async () => {
    setStep('check')
    if (options) await check(options)
    else setFailure(validation?.errors.mode ?? 'Choose a VM and a destination first.')
  }

  const start = async () => {
    if (!options || !vm) return
    // The report was made for other options (offline, copy, a limit): ask again before moving.
    if (!sameOptions(options, checked)) {
      const r = await check(options)
      if (!r || !r.ok) {
        setStep('check')
        return
      }
    }
    const id = newMigrationJobId()
    job.current = id
    cancelled.current = false
    setCancelling(false)
    setProgress(null)
    setOutcome(null)
    setStep('progress')
    try {
      const result = await client.call('vm.migrate', { ...options, job: id })
      setOutcome({ ok: true, result })
    } catch (err) {
      setOutcome({
        ok: false,
        message: failureText(plainError(err), { cancelled: cancelled.current, live: !options.offline }),
      })
    } finally {
      setStep('result')
    }
  }

  // An offline move takes a stopped VM: the guest is asked to shut down (ACPI), as from its toolbar.
  const shutDown = async () => {
    if (!vm) return
    setBusy('Shutting down')
    setFailure(null)
    try {
      await client.call('vm.stop', { vm: vm.id, force: false })
    } catch (err) {
      setFailure(`Could not shut down “${vm.name}”: ${plainError(err)}`)
    } finally {
      setBusy(null)
    }
  }

  const cancel = async () => {
    if (!vm) return
    cancelled.current = true
    setCancelling(true)
    try {
      await client.call('migration.cancel', { vm: vm.id })
    } catch (err) {
      // The migration may have ended just before; its own outcome is shown when vm.migrate answers.
      cancelled.current = false
      setCancelling(false)
      setFailure(`Could not cancel: ${plainError(err)}`)
    }
  }

  const nextDisabled =
    !!busy ||
    (step === 'vm' && (!vm || whyNotMovable(vm) !== null)) ||
    (step === 'destination' && !to) ||
    (step === 'check' && !report?.ok)

  const next = () => {
    setFailure(null)
    if (step === 'vm') setStep('destination')
    else if (step === 'destination') void toCheck()
    else if (step === 'check') setStep('options')
  }
  const back = () => {
    setFailure(null)
    if (step === 'destination') setStep('vm')
    else if (step === 'check') setStep('destination')
    else if (step === 'options') setStep('check')
    else if (step === 'result') setStep('options')
  }

  return (
    <Dialog
      open
      onClose={running || busy ? undefined : props.onClose}
      aria-labelledby="migration-title"
      fullWidth
      maxWidth="md"
    >
      <DialogTitle id="migration-title">Move a VM to another host</DialogTitle>
      {busy && <LinearProgress aria-label={busy} />}
      <DialogContent>
        <Stepper activeStep={index} sx={{ mb: 3 }} alternativeLabel>
          {STEPS.map((s) => (
            <Step key={s.name}>
              <StepLabel>{s.label}</StepLabel>
            </Step>
          ))}
        </Stepper>
        <Stack spacing={2}>
          {failure && <Alert severity="error">{failure}</Alert>}
          {step === 'vm' && (
            <VmStep
              vms={vms}
              chosen={vmId}
              onChoose={(id) => {
                setVmId(id)
                setForm(null)
                setReport(null)
                setChecked(null)
              }}
            />
          )}
          {step === 'destination' && (
            <FormControl>
              <FormLabel id="migration-destination-label">Destination host</FormLabel>
              {hosts.remotes === null && !hosts.error && (
                <LinearProgress aria-label="Loading the other hosts" />
              )}
              {hosts.error && <Alert severity="error">Could not list the other hosts: {hosts.error}</Alert>}
              {hosts.remotes?.length === 0 && (
                <FormHelperText>No other host is paired yet: pair one to move VMs to it.</FormHelperText>
              )}
              <RadioGroup
                aria-labelledby="migration-destination-label"
                value={to ?? ''}
                onChange={(e) => {
                  setTo(e.target.value)
                  setReport(null)
                  setChecked(null)
                }}
              >
                {hosts.remotes?.map((r) => (
                  <FormControlLabel
                    key={r.name}
                    value={r.name}
                    control={<Radio />}
                    label={`${r.name} (${r.hostName}, ${r.address}:${r.port})`}
                  />
                ))}
              </RadioGroup>
              <Box>
                <Button startIcon={<Add />} onClick={() => setPairing(true)} sx={{ mt: 1 }}>
                  Pair a new host…
                </Button>
              </Box>
            </FormControl>
          )}
          {step === 'check' && report && vm && to && (
            <CompatibilityReportView report={report} vmName={vm.name} to={to} />
          )}
          {step === 'options' && vm && effectiveForm && validation && (
            <MigrationOptionsFields
              form={effectiveForm}
              state={vm.state}
              errors={validation.errors}
              onChange={setForm}
              disabled={!!busy}
            />
          )}
          {step === 'options' && vm?.state === 'running' && effectiveForm?.mode === 'offline' && (
            <Box>
              <Button variant="outlined" disabled={!!busy} onClick={() => void shutDown()}>
                Shut down “{vm.name}” first
              </Button>
            </Box>
          )}
          {step === 'progress' && (
            <ProgressView progress={progress} cancelling={cancelling} vmName={vm?.name ?? ''} to={to ?? ''} />
          )}
          {step === 'result' && outcome && <ResultView outcome={outcome} />}
        </Stack>
      </DialogContent>
      <DialogActions>
        {step === 'progress' ? (
          <Button color="error" onClick={() => void cancel()} disabled={cancelling}>
            {cancelling ? 'Cancelling…' : 'Cancel migration'}
          </Button>
        ) : step === 'result' ? (
          <>
            {outcome && !outcome.ok && <Button onClick={back}>Back to the options</Button>}
            <Button variant="contained" onClick={props.onClose}>
              Close
            </Button>
          </>
        ) : (
          <>
            <Button onClick={props.onClose} disabled={!!busy}>
              Cancel
            </Button>
            {step !== 'vm' && (
              <Button onClick={back} disabled={!!busy}>
                Back
              </Button>
            )}
            {step === 'check' && options && (
              <Button onClick={() => void check(options)} disabled={!!busy}>
                Check again
              </Button>
            )}
            {step === 'options' ? (
              <Button variant="contained" disabled={!!busy || !options} onClick={() => void start()}>
                Start migration
              </Button>
            ) : (
              <Button variant="contained" disabled={nextDisabled} onClick={next}>
                Next
              </Button>
            )}
          </>
        )}
      </DialogActions>
      <AddHostDialog
        open={pairing}
        onClose={() => setPairing(false)}
        onAdded={(r) => {
          hosts.reload()
          setTo(r.name)
          setReport(null)
          setChecked(null)
        }}
      />
    </Dialog>
  )
}

function VmStep(props: { vms: VmSummary[] | null; chosen: string | null; onChoose(id: string): void }) {
  const sorted = [...(props.vms ?? [])].sort((a, b) =>
    a.name.localeCompare(b.name, undefined, { numeric: true }),
  )
  const chosen = sorted.find((v) => v.id === props.chosen)
  const why = chosen ? whyNotMovable(chosen) : null
  return (
    <FormControl error={!!why}>
      <FormLabel id="migration-vm-label">Virtual machine to move</FormLabel>
      {props.vms === null && <LinearProgress aria-label="Loading the VMs" />}
      {props.vms?.length === 0 && <FormHelperText>There are no VMs on this host.</FormHelperText>}
      <RadioGroup
        aria-labelledby="migration-vm-label"
        value={props.chosen ?? ''}
        onChange={(e) => props.onChoose(e.target.value)}
      >
        {sorted.map((v) => (
          <FormControlLabel
            key={v.id}
            value={v.id}
            control={<Radio />}
            label={`${v.name} — ${STATE_LABELS[v.state]}`}
          />
        ))}
      </RadioGroup>
      {why && <FormHelperText>{why}</FormHelperText>}
    </FormControl>
  )
}

function ProgressView(props: {
  progress: MigrationProgress | null
  cancelling: boolean
  vmName: string
  to: string
}) {
  const p = props.progress
  const fraction = p ? progressFraction(p) : null
  return (
    <Stack spacing={1.5} role="region" aria-label="Migration progress">
      <Typography variant="body1" aria-live="polite">
        {props.cancelling
          ? 'Cancelling; the VM keeps running here…'
          : p
            ? `${PHASE_LABELS[p.phase]}…`
            : `Starting to move “${props.vmName}” to ${props.to}…`}
      </Typography>
      <LinearProgress
        aria-label={p ? PHASE_LABELS[p.phase] : 'Starting'}
        variant={fraction === null ? 'indeterminate' : 'determinate'}
        {...(fraction === null ? {} : { value: Math.min(100, fraction * 100) })}
      />
      {p && (
        <Box component="dl" sx={{ display: 'grid', gridTemplateColumns: 'max-content 1fr', gap: 0.5, m: 0 }}>
          {progressLines(p).map((l) => (
            <Figure key={l.label} label={l.label} value={l.value} />
          ))}
        </Box>
      )}
      {p && p.bytesLeft !== null && (
        <Typography variant="caption" color="text.secondary">
          {formatBytes(p.bytesDone)} of {formatBytes(p.bytesDone + p.bytesLeft)} in this phase.
        </Typography>
      )}
    </Stack>
  )
}

function ResultView({ outcome }: { outcome: Outcome }) {
  if (!outcome.ok) return <Alert severity="error">{outcome.message}</Alert>
  return (
    <Stack spacing={1.5} role="region" aria-label="Migration result">
      <Alert severity="success">{resultTitle(outcome.result)}</Alert>
      <Box component="dl" sx={{ display: 'grid', gridTemplateColumns: 'max-content 1fr', gap: 0.5, m: 0 }}>
        {resultLines(outcome.result).map((l) => (
          <Figure key={l.label} label={l.label} value={l.value} />
        ))}
      </Box>
    </Stack>
  )
}

function Figure(props: { label: string; value: string }) {
  return (
    <>
      <Typography component="dt" variant="body2" color="text.secondary" sx={{ pr: 2 }}>
        {props.label}
      </Typography>
      <Typography component="dd" variant="body2" sx={{ m: 0 }} aria-label={props.label}>
        {props.value}
      </Typography>
    </>
  )
}
