// A namespace-agnostic view of an XML document: elements and attributes by their local names.
// OVF producers disagree on prefixes and even on the namespace URI (oVirt adds a trailing slash),
// so nothing here depends on either; the descriptor checks the URI family once, at the root.
import { XMLParser } from 'fast-xml-parser'
import { VireoError } from '../api/errors.ts'

/** An element: child elements by local name (always lists), attributes as `@name`, text as `#text`. */
export type XmlNode = { [key: string]: XmlNode[] | string | undefined } | string

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  removeNSPrefix: true,
  textNodeName: '#text',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  // Every element a list: an OVF may hold one Item or fifty, and the code reads both the same way.
  isArray: (_name, _jpath, _leaf, isAttribute) => !isAttribute,
})

export function parseXml(text: string, what: string): XmlNode {
  // No DTDs: an appliance has no use for one, and entity expansion is how XML files attack parsers.
  if (/<!DOCTYPE/i.test(text))
    throw new VireoError('invalid_request', `${what} declares a DOCTYPE, which Vireo refuses`)
  try {
    return parser.parse(text, true) as XmlNode
  } catch (err) {
    throw new VireoError('invalid_request', `${what} is not well-formed XML: ${(err as Error).message}`)
  }
}

export function children(node: XmlNode | undefined, name: string): XmlNode[] {
  if (!node || typeof node === 'string') return []
  const v = node[name]
  return Array.isArray(v) ? v : []
}

export function child(node: XmlNode | undefined, name: string): XmlNode | undefined {
  return children(node, name)[0]
}

export function attr(node: XmlNode | undefined, name: string): string | undefined {
  if (!node || typeof node === 'string') return undefined
  const v = node[`@${name}`]
  return typeof v === 'string' ? v : undefined
}

export function text(node: XmlNode | undefined): string | undefined {
  if (node === undefined) return undefined
  if (typeof node === 'string') return node
  const t = node['#text']
  return typeof t === 'string' ? t : undefined
}

/** The text of a child element, if it has one. */
export function childText(node: XmlNode | undefined, name: string): string | undefined {
  const t = text(child(node, name))
  return t === undefined || t === '' ? undefined : t
}

/** Every element below `node` (at any depth) with this local name. */
export function descendants(node: XmlNode | undefined, name: string): XmlNode[] {
  const out: XmlNode[] = []
  const walk = (n: XmlNode) => {
    if (typeof n === 'string') return
    for (const [k, v] of Object.entries(n)) {
      if (!Array.isArray(v)) continue
      for (const c of v) {
        if (k === name) out.push(c)
        walk(c)
      }
    }
  }
  if (node) walk(node)
  return out
}
