// A small picture of a running VM's screen in the library, taken by the engine every few seconds
// while the page is visible. A stopped VM shows its icon.
import { useEffect, useState } from 'react'
import Computer from '@mui/icons-material/Computer'
import Box from '@mui/material/Box'
import type { VmSummary } from '../../engine/api/rpc.ts'
import { useClient } from '../connection/ConnectionGate.tsx'

export const THUMBNAIL_INTERVAL_MS = 5000

export function Thumbnail(props: { vm: Pick<VmSummary, 'id' | 'name' | 'state'> }) {
  const client = useClient()
  const { id, state } = props.vm
  const live = state === 'running' || state === 'paused'
  const [src, setSrc] = useState<string | null>(null)

  useEffect(() => {
    if (!live) {
      setSrc(null)
      return
    }
    let cancelled = false
    let timer: ReturnType<typeof setTimeout> | null = null
    const take = async () => {
      // A hidden page (minimised window, background tab) costs the engine nothing.
      if (document.visibilityState === 'visible') {
        try {
          const shot = await client.call('vm.screenshot', { vm: id })
          if (!cancelled) setSrc(`data:image/png;base64,${shot.png}`)
        } catch {
          /* the VM stopped in between, or has no display: keep the last picture */
        }
      }
      if (!cancelled) timer = setTimeout(() => void take(), THUMBNAIL_INTERVAL_MS)
    }
    void take()
    return () => {
      cancelled = true
      if (timer) clearTimeout(timer)
    }
  }, [client, id, live])

  if (!src) return <Computer color="action" aria-hidden />
  return (
    <Box
      component="img"
      src={src}
      alt={`Screen of ${props.vm.name}`}
      sx={{ width: 64, height: 48, objectFit: 'contain', bgcolor: '#000', borderRadius: 0.5, flexShrink: 0 }}
    />
  )
}
