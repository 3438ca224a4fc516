// host.json: how clients find the host that owns a data dir. Its own module so that the CLI can read
// it without loading the engine.
import { z } from 'zod'

export const HostRecord = z.object({
  pid: z.number().int(),
  socket: z.string(),
  port: z.number().int().nullable(),
  address: z.string().nullable(),
  startedAt: z.string(),
})
export type HostRecord = z.infer<typeof HostRecord>
