// The import boundaries as an ESLint rule: every file belongs to the most specific entry of the
// allowlist (a file's own entry, else its deepest folder's), and each of its imports must be one
// that entry lists. A file no entry covers is refused too, so a new folder states its place before
// it lands. Written here rather than taken from eslint-plugin-boundaries or import-x because the
// job is this small once specifiers are read by spelling (resolve-import.ts): those need a module
// resolver configured for .ts extensions, and neither refuses an absolute path that happens to
// point at an allowed file.
import type { Rule } from 'eslint'
import { isAbsolute, relative, sep } from 'node:path'
import { resolveImport, type ImportTarget } from './resolve-import.ts'

export interface ImportRule {
  /** Files of this repository: a folder ('engine/api/') for everything below it, or one file. */
  code?: string[]
  /** npm packages by name, any subpath included; 'scope/*' for a whole scope, '*' for any. */
  packages?: string[]
  /** Node builtins by their node: name ('node:fs' covers 'fs' and 'node:fs/promises'); 'node:*'. */
  node?: string[]
}

/** Keys: a folder ('engine/vm/') or a single file ('engine/engine.ts'), relative to the root. */
export type Allowlist = Record<string, ImportRule>

export interface BoundaryOptions {
  /** The repository's root, absolute. */
  root: string
  allowlist: Allowlist
}

/** The entry that governs `file`: its own, or its deepest folder's; null when none does. */
export function entryFor(allowlist: Allowlist, file: string): string | null {
  let best: string | null = null
  for (const key of Object.keys(allowlist)) {
    const covers = key.endsWith('/') ? file.startsWith(key) : file === key
    if (covers && (best === null || key.length > best.length)) best = key
  }
  return best
}

export function allows(rule: ImportRule, target: ImportTarget): boolean {
  switch (target.kind) {
    case 'file':
      return (rule.code ?? []).some((c) => (c.endsWith('/') ? target.path.startsWith(c) : target.path === c))
    case 'package':
      return (rule.packages ?? []).some(
        (p) => p === '*' || p === target.name || (p.endsWith('/*') && target.name.startsWith(p.slice(0, -1))),
      )
    case 'builtin':
      return (rule.node ?? []).some((n) => n === 'node:*' || n === target.name)
    case 'refused':
      return false
  }
}

function named(target: ImportTarget): string {
  if (target.kind === 'file') return target.path
  if (target.kind === 'builtin') return `the Node builtin ${target.name}`
  if (target.kind === 'package') return `the package ${target.name}`
  return 'nothing the rules can place'
}

/** Import-like nodes the estree types do not name (typescript-eslint's TS nodes). */
interface SourceNode {
  type: string
  value?: unknown
  quasis?: { value: { cooked: string | null } }[]
  expressions?: unknown[]
}

/** The specifier's text, or null when it is computed at run time. */
function literal(node: SourceNode | null | undefined): string | null {
  if (!node) return null
  if (node.type === 'Literal' && typeof node.value === 'string') return node.value
  if (node.type === 'TemplateLiteral' && node.expressions?.length === 0)
    return node.quasis?.[0]?.value.cooked ?? null
  return null
}

export const importBoundaries: Rule.RuleModule = {
  meta: {
    type: 'problem',
    docs: { description: 'Each folder imports only what the allowlist says it may.' },
    schema: [
      {
        type: 'object',
        properties: {
          root: { type: 'string' },
          allowlist: {
            type: 'object',
            additionalProperties: {
              type: 'object',
              properties: {
                code: { type: 'array', items: { type: 'string' } },
                packages: { type: 'array', items: { type: 'string' } },
                node: { type: 'array', items: { type: 'string' } },
              },
              additionalProperties: false,
            },
          },
        },
        required: ['root', 'allowlist'],
        additionalProperties: false,
      },
    ],
    messages: {
      uncovered:
        'No import rule covers {{file}}: give it or its folder an entry in lint/import-allowlist.ts.',
      notAllowed:
        "{{entry}} may not import {{target}} (written '{{specifier}}'); see lint/import-allowlist.ts.",
      absolute: "'{{specifier}}' is an absolute path: import a file of this repository by its relative path.",
      outside: "'{{specifier}}' leads out of the repository.",
      url: "'{{specifier}}' is a URL, which no import rule can place.",
      computed: 'This import is computed at run time, so no import rule can check it: write it as a string.',
    },
  },
  create(context) {
    const { root, allowlist } = context.options[0] as BoundaryOptions
    const rel = relative(root, context.filename)
    // Text linted without a file inside the repository has no place in it to check.
    if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return {}
    const file = rel.split(sep).join('/')
    const entry = entryFor(allowlist, file)

    const check = (source: SourceNode | null | undefined, at: Rule.Node) => {
      if (entry === null) return
      const specifier = literal(source)
      if (specifier === null) {
        context.report({ node: at, messageId: 'computed' })
        return
      }
      const target = resolveImport(specifier, file)
      if (target.kind === 'refused') context.report({ node: at, messageId: target.why, data: { specifier } })
      else if (!allows(allowlist[entry]!, target)) {
        context.report({
          node: at,
          messageId: 'notAllowed',
          data: { entry, target: named(target), specifier },
        })
      }
    }
    const fromSource = (node: Rule.Node) => check((node as { source?: SourceNode | null }).source, node)

    return {
      Program(node) {
        if (entry === null) context.report({ node, messageId: 'uncovered', data: { file } })
      },
      ImportDeclaration: fromSource,
      ImportExpression: fromSource,
      ExportAllDeclaration: fromSource,
      ExportNamedDeclaration(node) {
        if (node.source) fromSource(node)
      },
      // `import x = require('…')` and `typeof import('…')` in TypeScript.
      TSExternalModuleReference(node: Rule.Node) {
        check((node as unknown as { expression: SourceNode }).expression, node)
      },
      TSImportType(node: Rule.Node) {
        const n = node as unknown as { source?: SourceNode; argument?: { literal?: SourceNode } }
        check(n.source ?? n.argument?.literal, node)
      },
      // require() exists only where a file made one (createRequire), and is checked all the same.
      CallExpression(node) {
        if (
          node.callee.type === 'Identifier' &&
          node.callee.name === 'require' &&
          node.arguments.length > 0
        ) {
          check(node.arguments[0] as SourceNode, node)
        }
      },
    }
  },
}
