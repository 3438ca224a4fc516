// Text from files, guests and other hosts made safe to show: every character a terminal would act on
// (C0 and C1 controls, ESC and DEL) or that hides or reorders what is around it (bidi overrides and
// isolates, zero-width and other format characters, line and paragraph separators, lone surrogates)
// is written as a visible escape such as \x1b or \u202e. The CLI prints through it, and refusals
// quote what they were given through it, so a name holding `ESC [2J` cannot clear a screen.

// \p{Cs}: a lone surrogate half, which no font draws and some terminals mangle.
const HIDDEN = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu
const HIDDEN_EXCEPT_LINES = /(?![\n\t])[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' }

function escapeOne(ch: string): string {
  const named = NAMED[ch]
  if (named) return named
  const cp = ch.codePointAt(0)!
  if (cp < 0x100) return `\\x${cp.toString(16).padStart(2, '0')}`
  if (cp <= 0xffff) return `\\u${cp.toString(16).padStart(4, '0')}`
  return `\\u{${cp.toString(16)}}`
}

/** One line of text as it may be shown: newlines and tabs are escaped too, so no line can be forged. */
export function visibleLine(text: string): string {
  return text.replace(HIDDEN, escapeOne)
}

/** Text of several lines (a report, a log): newlines and tabs stay, everything else hidden is escaped. */
export function visibleLines(text: string): string {
  return text.replace(HIDDEN_EXCEPT_LINES, escapeOne)
}

function codeOf(m: RegExpExecArray | null): string | null {
  return m ? `U+${m[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}` : null
}

/** The first control character (NUL, ESC, a newline, …) in `text`, as `U+001B`; null when none. */
export function controlCharIn(text: string): string | null {
  return codeOf(/\p{Cc}/u.exec(text))
}

/** The first character of `text` that visibleLine would escape, as `U+202E`; null when none. */
export function hiddenCharIn(text: string): string | null {
  return codeOf(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u.exec(text))
}

/** A value quoted for a sentence: escaped, and cut short when long, so a refusal stays one line. */
export function quoted(text: string, max = 60): string {
  const chars = [...text]
  if (chars.length <= max) return `"${visibleLine(text)}"`
  return `"${visibleLine(chars.slice(0, max).join(''))}…" (${chars.length} characters)`
}
