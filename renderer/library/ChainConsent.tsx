// The files a disk image reads besides itself (a backing file, a data file, VMDK extents): shown
// before the VM is made, and used only when the user ticks the box. The engine refuses an image
// whose chain names a file the user did not allow, so this is where they allow it.
import Alert from '@mui/material/Alert'
import Checkbox from '@mui/material/Checkbox'
import FormControlLabel from '@mui/material/FormControlLabel'
import Typography from '@mui/material/Typography'
import type { ImageInspection } from '../../engine/api/rpc.ts'

/** The files beyond the image itself: what `allowBacking` must name. */
export function chainExtras(inspection: ImageInspection | null): { path: string; role: string }[] {
  return inspection?.disk?.chain.slice(1) ?? []
}

export function ChainConsent(props: {
  inspection: ImageInspection | null
  allowed: boolean
  onAllowed: (allowed: boolean) => void
  disabled?: boolean
}) {
  const extras = chainExtras(props.inspection)
  if (extras.length === 0) return null
  return (
    <Alert severity="warning" aria-label="Files the image reads">
      <Typography variant="body2">
        This image reads {extras.length === 1 ? 'another file' : `${extras.length} other files`} on this
        computer. The VM will see their contents; they must stay where they are.
      </Typography>
      <ul style={{ margin: '4px 0', paddingLeft: 20 }}>
        {extras.map((e) => (
          <li key={e.path}>
            <Typography variant="body2" component="span" sx={{ fontFamily: 'monospace' }}>
              {e.path}
            </Typography>{' '}
            ({e.role})
          </li>
        ))}
      </ul>
      <FormControlLabel
        control={
          <Checkbox
            checked={props.allowed}
            onChange={(e) => props.onAllowed(e.target.checked)}
            disabled={props.disabled ?? false}
          />
        }
        label={extras.length === 1 ? 'Let the VM read this file' : 'Let the VM read these files'}
      />
    </Alert>
  )
}
