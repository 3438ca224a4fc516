// The CLI's plain output is read by a terminal, and names, paths, OS names, volume ids, descriptions
// and error messages come from files, guests, images and other hosts. Each such string passes here
// (engine/api/visible-text.ts) before it is printed: ESC, other controls and bidi or invisible
// characters show as \x1b, \u202e …, and a newline in a one-line field cannot forge a line of output.
// --json output is left exact: JSON.stringify escapes control characters itself.
import type { Command } from 'commander'
import { hiddenCharIn, visibleLine, visibleLines } from '../api/visible-text.ts'
import { shellQuote, shellQuoteArg } from '../qemu/argv/shell-quote.ts'

/** One field of a line: a name, a path, a message. */
export const safe = visibleLine

/** Text meant to span lines (a report): its own newlines kept, everything else hidden escaped. */
export const safeBlock = visibleLines

/** Commander's own messages quote what was typed ("unknown option '…'"): escaped as well. */
export function escapeCommanderOutput(program: Command): void {
  program.configureOutput({
    writeErr: (s) => process.stderr.write(visibleLines(s)),
    outputError: (s, write) => write(s),
  })
}

/** A character inside bash's $'…' quoting: \xHH below 0x80, \uHHHH above (bash reads both). */
function ansiC(ch: string): string {
  const cp = ch.codePointAt(0)!
  if (cp < 0x80) return `\\x${cp.toString(16).padStart(2, '0')}`
  return cp <= 0xffff ? `\\u${cp.toString(16).padStart(4, '0')}` : `\\U${cp.toString(16).padStart(8, '0')}`
}

/**
 * A shell line for a terminal (`info --qemu-argv`): an argument holding a character visibleLine
 * would escape is written in $'…' quoting, so the line shows no raw ESC and still runs as-is.
 */
export function terminalCommandLine(argv: string[]): string {
  return argv
    .map((a, i) => {
      if (hiddenCharIn(a) !== null)
        return `$'${a.replace(/[\\']/g, '\\$&').replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu, ansiC)}'`
      return i === 0 ? shellQuote([a]) : shellQuoteArg(a)
    })
    .join(' ')
}
