// What a schema refuses, said as one sentence that names the field and the value: "`cpus` must be a
// whole number, not 1.5". zod's own messages ("Invalid input: expected int, received number") and
// its JSON dumps of every issue are for programmers; a person gets the first problem, in words.
// Messages a schema writes itself (a VM name's rules, say) are sentences already and are kept.
import { z } from 'zod'
import { VireoError } from './errors.ts'
import { quoted, visibleLine } from './visible-text.ts'

type RawIssue = z.core.$ZodRawIssue

/** `cpus`, `network.portForwards[1].hostPort`, `["odd key"]`. */
export function fieldName(path: readonly PropertyKey[] | undefined): string {
  let out = ''
  for (const key of path ?? []) {
    if (typeof key === 'number') out += `[${key}]`
    else if (typeof key === 'string' && /^[A-Za-z_$][\w$]{0,63}$/.test(key)) out += out ? `.${key}` : key
    else out += `[${quoted(String(key), 40)}]`
  }
  return `\`${out}\``
}

/** How a value is named after "not": 1.5, the text "4", null, a list, an object. */
export function shown(value: unknown): string {
  if (typeof value === 'string') return `the text ${quoted(value)}`
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value)
  if (value === null) return 'null'
  if (value === undefined) return 'nothing'
  if (Array.isArray(value)) return 'a list'
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`
}

/** A value as it appears inside "must be one of …": the bare words for strings. */
function option(value: unknown): string {
  return typeof value === 'string' ? visibleLine(value) : String(value)
}

function oneOf(values: readonly unknown[]): string {
  if (values.length === 1) return typeof values[0] === 'string' ? quoted(values[0]) : String(values[0])
  return `one of ${values.map(option).join(', ')}`
}

const TYPES: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  bigint: 'a whole number',
  boolean: 'true or false',
  object: 'an object',
  record: 'an object',
  array: 'a list',
  tuple: 'a list',
  null: 'null',
  date: 'a date',
}

const FORMATS: Record<string, string> = {
  uuid: 'a UUID',
  guid: 'a UUID',
  ipv4: 'an IPv4 address such as 192.0.2.10',
  ipv6: 'an IPv6 address',
  cidrv4: 'an IPv4 network such as 10.9.0.0/24',
  datetime: 'a date and time such as 2025-01-31T12:00:00Z',
  date: 'a date such as 2025-01-31',
  email: 'an email address',
  url: 'a URL',
}

/** A number schema's range, when it has one: "from 1 to 64". */
function rangeOf(inst: unknown): string {
  if (!(inst instanceof z.ZodNumber)) return ''
  const lo = inst.minValue
  const hi = inst.maxValue
  const safe = (n: number | null) => n !== null && Number.isFinite(n) && Math.abs(n) < Number.MAX_SAFE_INTEGER
  if (safe(lo) && safe(hi)) return ` from ${lo} to ${hi}`
  if (safe(hi)) return ` no larger than ${hi}`
  if (safe(lo)) return ` no smaller than ${lo}`
  return ''
}

function typeSentence(field: string, iss: Extract<RawIssue, { code: 'invalid_type' }>): string {
  if (iss.input === undefined) return `${field} is required but was not given`
  const int = iss.expected === 'int' || (iss.inst instanceof z.ZodNumber && iss.inst.format === 'safeint')
  const want = int ? 'a whole number' : (TYPES[iss.expected] ?? iss.expected)
  return `${field} must be ${want}${rangeOf(iss.inst)}, not ${shown(iss.input)}`
}

function sizeSentence(field: string, iss: RawIssue, big: boolean): string {
  const i = iss as unknown as {
    origin: string
    maximum?: number | bigint
    minimum?: number | bigint
    inclusive?: boolean
    input: unknown
  }
  const bound = big ? i.maximum : i.minimum
  const input = i.input
  switch (i.origin) {
    case 'number':
    case 'int':
    case 'bigint': {
      const words = big ? (i.inclusive ? 'at most' : 'below') : i.inclusive ? 'at least' : 'above'
      return `${field} must be ${words} ${bound}, not ${shown(input)}`
    }
    case 'string': {
      const length = typeof input === 'string' ? [...input].length : 0
      if (!big && Number(bound) === 1) return `${field} must not be empty`
      return `${field} must be ${big ? 'at most' : 'at least'} ${bound} characters long, not ${length}`
    }
    case 'array':
    case 'set': {
      const count = Array.isArray(input) ? input.length : 0
      if (!big && Number(bound) === 1) return `${field} must not be empty`
      return `${field} must hold ${big ? 'at most' : 'at least'} ${bound} items, not ${count}`
    }
    default:
      return `${field} is too ${big ? 'large' : 'small'}`
  }
}

/** A union's alternatives, when each is a plain list of allowed values (an enum or literals). */
function unionValues(errors: readonly (readonly z.core.$ZodIssue[])[]): unknown[] | null {
  const values: unknown[] = []
  for (const branch of errors) {
    const only = branch.length === 1 ? branch[0] : undefined
    if (only?.code !== 'invalid_value' || only.path.length > 0) return null
    values.push(...only.values)
  }
  return values
}

function sentence(iss: RawIssue, subject: string): string {
  const path = iss.path ?? []
  const field = path.length ? fieldName(path) : subject
  switch (iss.code) {
    case 'invalid_type':
      return path.length || iss.input !== undefined
        ? typeSentence(field, iss)
        : `${subject} must be ${TYPES[iss.expected] ?? iss.expected}`
    case 'too_big':
      return sizeSentence(field, iss, true)
    case 'too_small':
      return sizeSentence(field, iss, false)
    case 'invalid_format': {
      const want = FORMATS[iss.format] ?? 'in the expected form'
      const form = FORMATS[iss.format] ? `must be ${want}` : `is not ${want}`
      return `${field} ${form}, not ${shown(iss.input)}`
    }
    case 'invalid_value':
      return `${field} must be ${oneOf(iss.values)}, not ${shown(iss.input)}`
    case 'not_multiple_of':
      return `${field} must be a multiple of ${iss.divisor}, not ${shown(iss.input)}`
    case 'unrecognized_keys': {
      const keys = iss.keys.slice(0, 3).map((k) => fieldName([...path, k]))
      const more = iss.keys.length > 3 ? ` and ${iss.keys.length - 3} more` : ''
      const plural = iss.keys.length > 1
      return `${keys.join(', ')}${more} ${plural ? 'are' : 'is'} not among ${subject}; leave ${plural ? 'them' : 'it'} out`
    }
    case 'invalid_union': {
      const u = iss as unknown as {
        discriminator?: string
        options?: unknown[]
        errors: z.core.$ZodIssue[][]
      }
      if (u.discriminator !== undefined) {
        const given =
          iss.input && typeof iss.input === 'object'
            ? (iss.input as Record<string, unknown>)[u.discriminator]
            : iss.input
        return `${field} must be ${oneOf(u.options ?? [])}, not ${shown(given)}`
      }
      const values = unionValues(u.errors)
      return values
        ? `${field} must be ${oneOf(values)}, not ${shown(iss.input)}`
        : `${field} is none of the forms it may take`
    }
    case 'invalid_key':
      return `${field} holds a key that is not allowed`
    case 'invalid_element':
      return `${field} holds an entry that is not allowed`
    default:
      return `${field} is not valid`
  }
}

/**
 * Words for the issues a schema writes no message of its own for. `subject` names the whole input as
 * a noun phrase: "the parameters of vm.create".
 */
export function issueSentences(subject: string): z.core.$ZodErrorMap {
  return (iss) => sentence(iss, subject)
}

/** A ZodError from a parse without those words (Vireo's own data): still one line, never a dump. */
export function describeZodError(err: z.ZodError): string {
  const first = err.issues[0]
  if (!first) return 'a value is not valid'
  return first.path.length ? `${fieldName(first.path)}: ${first.message}` : first.message
}

/** The one problem to tell: the first, unless zod's safe-integer note hides the schema's own bound. */
export function firstSentence(err: z.ZodError): string {
  const [first, ...rest] = err.issues
  if (!first) return 'the input is not valid'
  const safeRange =
    (first.code === 'too_big' || first.code === 'too_small') &&
    Math.abs(Number(first.code === 'too_big' ? first.maximum : first.minimum)) === Number.MAX_SAFE_INTEGER
  const same = rest.find((i) => i.path.join('\0') === first.path.join('\0'))
  return (safeRange && same ? same : first).message
}

/** Parses input from outside (a client, a file): the value, or a refusal in one sentence. */
export function readInput<S extends z.ZodType>(
  schema: S,
  input: unknown,
  subject: string,
  code: 'invalid_request' | 'internal' = 'invalid_request',
): z.output<S> {
  const r = schema.safeParse(input, { error: issueSentences(subject) })
  if (r.success) return r.data
  throw new VireoError(code, firstSentence(r.error))
}
