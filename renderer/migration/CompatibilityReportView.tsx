// The compatibility report in words: each check with ok or not and what was found, the snapshots that
// travel and those that cannot (with why), and about how much crosses the link.
import CheckCircle from '@mui/icons-material/CheckCircle'
import ErrorOutlined from '@mui/icons-material/ErrorOutlined'
import Alert from '@mui/material/Alert'
import List from '@mui/material/List'
import ListItem from '@mui/material/ListItem'
import ListItemIcon from '@mui/material/ListItemIcon'
import ListItemText from '@mui/material/ListItemText'
import Stack from '@mui/material/Stack'
import Typography from '@mui/material/Typography'
import type { CompatibilityReport } from '../../engine/api/migration.ts'
import { formatBytes } from './progress-text.ts'

export function CompatibilityReportView(props: { report: CompatibilityReport; vmName: string; to: string }) {
  const { report } = props
  const { travel, cannotTravel } = report.snapshots
  return (
    <Stack spacing={1.5} role="region" aria-label="Compatibility report">
      {report.ok ? (
        <Alert severity="success">
          “{props.vmName}” can move {report.mode === 'live' ? 'live' : 'offline'} to {props.to}.
        </Alert>
      ) : (
        <Alert severity="error">
          “{props.vmName}” cannot move to {props.to} now. What failed says what to do.
        </Alert>
      )}
      <List dense aria-label="Checks" disablePadding>
        {report.checks.map((c) => (
          <ListItem key={c.what} aria-label={`${c.what}: ${c.ok ? 'ok' : 'not ok'}`} disableGutters>
            <ListItemIcon sx={{ minWidth: 36 }}>
              {c.ok ? (
                <CheckCircle color="success" aria-label="ok" />
              ) : (
                <ErrorOutlined color="error" aria-label="not ok" />
              )}
            </ListItemIcon>
            <ListItemText primary={c.what} secondary={c.detail} />
          </ListItem>
        ))}
      </List>
      <Typography variant="subtitle2" component="h3">
        Snapshots
      </Typography>
      {travel.length === 0 && cannotTravel.length === 0 && (
        <Typography variant="body2" color="text.secondary">
          This VM has no snapshots.
        </Typography>
      )}
      {travel.length > 0 && (
        <Typography variant="body2" aria-label="Snapshots that travel">
          Travel with the VM: {travel.join(', ')}.
        </Typography>
      )}
      {cannotTravel.length > 0 && (
        <List dense aria-label="Snapshots that cannot travel" disablePadding>
          {cannotTravel.map((s) => (
            <ListItem key={s.name} disableGutters>
              <ListItemText
                primary={`“${s.name}” cannot travel`}
                secondary={s.reason}
                slotProps={{ primary: { color: 'warning.main' } }}
              />
            </ListItem>
          ))}
        </List>
      )}
      <Typography variant="body2" aria-label="Estimated transfer">
        About {formatBytes(report.transferBytes)} will cross the link
        {report.mode === 'live' ? ', plus the guest’s memory' : ''}.
      </Typography>
    </Stack>
  )
}
