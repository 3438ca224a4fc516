// The command line as one POSIX shell line (`vireo info --qemu-argv`): pasted into sh, it runs the
// very argv Vireo spawns. Single quotes keep everything literal except the single quote itself.

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/
// Before the command name, `NAME=value` would be read as a variable assignment.
const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=/

export function shellQuoteArg(arg: string): string {
  if (SAFE.test(arg)) return arg
  return `'${arg.replaceAll("'", `'\\''`)}'`
}

export function shellQuote(argv: string[]): string {
  return argv.map((a, i) => (i === 0 && ASSIGNMENT.test(a) ? `'${a}'` : shellQuoteArg(a))).join(' ')
}
