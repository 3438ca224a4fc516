// Which tar entries an appliance may contain. An OVA is untrusted input: an entry named
// `/etc/passwd` or `../../.bashrc`, a link or a device node is refused outright, by name, before
// anything is written; nothing is ever extracted under the entry's own name either.
import { VireoError } from '../api/errors.ts'

const ALLOWED_TYPES = new Set(['file', 'contiguous-file', 'directory'])

const TYPE_WORDS: Record<string, string> = {
  symlink: 'a symbolic link',
  link: 'a hard link',
  'character-device': 'a character device',
  'block-device': 'a block device',
  fifo: 'a FIFO',
}

/** The entry's name as a clean relative path (`a/b.vmdk`), or a refusal in words. */
export function safeEntryName(name: string, type: string | null | undefined): string {
  const shown = JSON.stringify(name)
  if (!ALLOWED_TYPES.has(type ?? 'file')) {
    throw new VireoError(
      'invalid_request',
      `the appliance's entry ${shown} is ${TYPE_WORDS[type ?? ''] ?? `of type ${type}`}; Vireo refuses links and devices in appliances`,
    )
  }
  if (/^[/\\]/.test(name) || /^[A-Za-z]:/.test(name)) {
    throw new VireoError(
      'invalid_request',
      `the appliance's entry ${shown} has an absolute path; Vireo refuses it`,
    )
  }
  const parts = name.split(/[/\\]+/)
  if (parts.includes('..')) {
    throw new VireoError(
      'invalid_request',
      `the appliance's entry ${shown} climbs out of the archive with ".."; Vireo refuses it`,
    )
  }
  if (/\p{Cc}/u.test(name)) {
    throw new VireoError(
      'invalid_request',
      `the appliance's entry ${shown} has control characters in its name`,
    )
  }
  return parts.filter((p) => p !== '' && p !== '.').join('/')
}

/** A descriptor's reference to a file beside it: relative, inside the appliance, no URL. */
export function safeHref(href: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(href) && !/^[A-Za-z]:[/\\]/.test(href)) {
    throw new VireoError(
      'invalid_request',
      `the appliance refers to ${href}; Vireo imports only files inside the appliance`,
    )
  }
  return safeEntryName(href, 'file')
}
