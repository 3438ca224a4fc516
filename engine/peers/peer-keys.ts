// Keys derived from a pairing's secret: one per use, so that the TLS channel between the engines and
// each migration's QEMU streams never share a key, and a QEMU runtime dir never holds the pairing's.
import { hkdfSync } from 'node:crypto'

function derive(pairKeyHex: string, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(pairKeyHex, 'hex'), 'vireo peer keys v1', purpose, 32))
}

/** The TLS-PSK of the control channel (engine to engine). */
export function channelKey(pairKeyHex: string): Buffer {
  return derive(pairKeyHex, 'control channel')
}

/** The TLS-PSK QEMU uses for one migration's RAM stream and NBD export. */
export function migrationKey(pairKeyHex: string, migrationId: string): Buffer {
  return derive(pairKeyHex, `migration ${migrationId}`)
}

/**
 * Only suites with a PSK and an ephemeral ECDHE share: a key leaked later cannot decrypt a recorded
 * session. TLS 1.2 because OpenSSL's TLS 1.3 PSK is the resumption kind Node does not offer here.
 */
export const PSK_TLS = {
  ciphers: 'ECDHE-PSK-CHACHA20-POLY1305:ECDHE-PSK-AES256-CBC-SHA384',
  minVersion: 'TLSv1.2',
  maxVersion: 'TLSv1.2',
} as const
