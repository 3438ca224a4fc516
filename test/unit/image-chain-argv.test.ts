// The chain a disk opens, rendered for QEMU: the top by reference (the names hot-plug and snapshots
// use), every image below defined inside it down to `backing: null`, so QEMU follows no name found
// in an image; and the bound every qemu-img run is given.
import { describe, expect, it } from 'vitest'
import { chainBlockdevs } from '../../engine/qemu/argv/disks.ts'
import { execFileText } from '../../engine/qemu/exec.ts'
import { explicitGraph } from '../../engine/storage/qemu-img.ts'

const chain = [
  { path: '/vms/a/disks/top.qcow2', format: 'qcow2' as const, dataFile: null },
  { path: '/images/mid.qcow2', format: 'qcow2' as const, dataFile: '/images/mid.data' },
  { path: '/images/base.raw', format: 'raw' as const, dataFile: null },
]

describe('an image chain as QEMU is given it', () => {
  it('defines every image below the top inside it, ending in backing null', () => {
    expect(chainBlockdevs('disk0', chain, { readOnly: false })).toEqual([
      { driver: 'file', 'node-name': 'disk0-file', filename: '/vms/a/disks/top.qcow2', 'read-only': false },
      {
        driver: 'qcow2',
        'node-name': 'disk0',
        file: 'disk0-file',
        'read-only': false,
        backing: {
          driver: 'qcow2',
          'node-name': 'disk0-b1',
          file: { driver: 'file', 'node-name': 'disk0-b1-file', filename: '/images/mid.qcow2' },
          'data-file': { driver: 'file', 'node-name': 'disk0-b1-data', filename: '/images/mid.data' },
          backing: {
            driver: 'raw',
            'node-name': 'disk0-b2',
            file: { driver: 'file', 'node-name': 'disk0-b2-file', filename: '/images/base.raw' },
          },
        },
      },
    ])
  })

  it('says backing null for a qcow2 with none, so QEMU does not look in its header', () => {
    const [, top] = chainBlockdevs('d', [chain[0]!], { readOnly: true })
    expect(top).toMatchObject({ backing: null, 'read-only': true })
    const [, raw] = chainBlockdevs('d', [chain[2]!], { readOnly: false })
    expect(raw).not.toHaveProperty('backing')
  })

  it('gives qemu-img convert the same chain as one json: graph', () => {
    const g = JSON.parse(explicitGraph(chain).replace(/^json:/, '')) as Record<string, unknown>
    expect(g).toEqual({
      driver: 'qcow2',
      file: { driver: 'file', filename: '/vms/a/disks/top.qcow2' },
      backing: {
        driver: 'qcow2',
        file: { driver: 'file', filename: '/images/mid.qcow2' },
        'data-file': { driver: 'file', filename: '/images/mid.data' },
        backing: { driver: 'raw', file: { driver: 'file', filename: '/images/base.raw' } },
      },
    })
  })

  it('bounds a helper run in memory where prlimit exists', async () => {
    const grow = ['-c', 'x = bytearray(3 << 30); print("grew")']
    const bounded = await execFileText('python3', grow, {
      maxMemoryBytes: 512 * 1024 ** 2,
      timeoutMs: 30_000,
    })
    expect(bounded.code).not.toBe(0)
    expect(bounded.stderr).toMatch(/MemoryError/)
    const free = await execFileText('python3', ['-c', 'print("ok")'], { maxMemoryBytes: 512 * 1024 ** 2 })
    expect(free).toMatchObject({ code: 0, stdout: 'ok\n' })
  })
})
