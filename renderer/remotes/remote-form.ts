// The Add host form's rules and the words around pairing, apart from the dialogs so they can be
// tested alone: what the user typed, the error beside each field (the contract's own sentences), the
// remote.add params when all is right, and how a pairing code, its expiry and an address are shown.
import { HostPort, PairCode, RemoteName, type PairCodeInfo } from '../../engine/api/migration.ts'
import { sentence } from '../library/new-vm-form.ts'

export interface AddHostForm {
  name: string
  /** HOST:PORT of the other host's serve port. */
  address: string
  code: string
}

export type AddHostField = keyof AddHostForm

export const EMPTY_ADD_HOST: AddHostForm = { name: '', address: '', code: '' }

export interface AddHostValidation {
  errors: Partial<Record<AddHostField, string>>
  params: { name: string; address: string; code: string } | null
}

export function validateAddHost(form: AddHostForm): AddHostValidation {
  const errors: AddHostValidation['errors'] = {}
  const name = RemoteName.safeParse(form.name.trim())
  if (!form.name.trim()) errors.name = 'Give the host a name, e.g. lab2.'
  else if (!name.success) errors.name = sentence(name.error.issues[0]?.message ?? 'invalid name')

  const address = HostPort.safeParse(form.address.trim())
  if (!form.address.trim()) errors.address = 'Give the address the other host shows, e.g. 192.0.2.7:7300.'
  else if (!address.success) errors.address = sentence(address.error.issues[0]?.message ?? 'invalid')
  else if (!portInRange(address.data)) errors.address = 'The port is a number from 1 to 65535.'

  const code = PairCode.safeParse(form.code)
  if (!form.code.trim()) errors.code = 'Give the pairing code the other host shows.'
  else if (!code.success) errors.code = sentence(code.error.issues[0]?.message ?? 'invalid code')

  if (!name.success || !address.success || !code.success || Object.keys(errors).length > 0)
    return { errors, params: null }
  return { errors, params: { name: name.data, address: address.data, code: code.data } }
}

function portInRange(hostPort: string): boolean {
  const port = Number(hostPort.slice(hostPort.lastIndexOf(':') + 1))
  return port >= 1 && port <= 65535
}

/** XXXX-XXXX, however the engine spelt it. */
export function formatPairCode(code: string): string {
  const bare = code.replace(/[\s-]/g, '').toUpperCase()
  return bare.length === 8 ? `${bare.slice(0, 4)}-${bare.slice(4)}` : bare
}

/** HOST:PORT to type on the other host; an IPv6 address in brackets. */
export function hostAddress(info: Pick<PairCodeInfo, 'address' | 'port'>): string {
  const host =
    info.address.includes(':') && !info.address.startsWith('[') ? `[${info.address}]` : info.address
  return `${host}:${info.port}`
}

/** How long a pairing code is still good for, in words. */
export function expiryText(expiresAt: string, now: number = Date.now()): string {
  const left = Date.parse(expiresAt) - now
  if (!(left > 0)) return 'This code has expired; ask for a new one.'
  const clock = new Date(expiresAt).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
  const minutes = Math.floor(left / 60_000)
  const span =
    minutes >= 1
      ? `${minutes} more minute${minutes === 1 ? '' : 's'}`
      : `${Math.ceil(left / 1000)} more seconds`
  return `Valid once, for ${span} (until ${clock}).`
}
