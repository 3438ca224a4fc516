// The vireo program and what every command group shares: the global --data-dir, and a connection to
// the host that owns that data dir for the length of one command.
import { Command } from 'commander'
import type { RpcClient } from '../api/client.ts'
import { defaultDataDir } from '../util/data-dir.ts'
import { ensureDataDir } from '../host/ensure-data-dir.ts'
import { connectOrStart } from './connect.ts'
import { dataDirOption } from './option-values.ts'
import { reportError } from './output.ts'
import { escapeCommanderOutput } from './plain-text.ts'

/** Runs one CLI action against the host; any error becomes one line on stderr and exit 1. */
export type WithHost = (json: boolean, fn: (client: RpcClient) => Promise<void>) => Promise<void>

/** What a command group registers on and runs with. */
export interface Cli {
  program: Command
  /** The data dir the command line names, or the user's default; read when a command runs. */
  dataDir(): string
  withHost: WithHost
}

export function createCli(): Cli {
  const program = new Command()
  const dataDir = () => program.opts<{ dataDir?: string }>().dataDir ?? defaultDataDir()
  program
    .name('vireo')
    .description('Vireo: run virtual machines on QEMU')
    .option('--data-dir <dir>', 'the library to use (default: the user data dir)', dataDirOption)
    .showHelpAfterError()
    // Every command makes the data dir it is given, or says why it cannot, before anything else.
    .hook('preAction', () => void ensureDataDir(dataDir()))
  escapeCommanderOutput(program)

  const withHost: WithHost = async (json, fn) => {
    let client: RpcClient | null = null
    try {
      client = await connectOrStart(dataDir())
      await fn(client)
    } catch (err) {
      reportError(err, json)
      process.exitCode = process.exitCode || 1
    } finally {
      client?.close()
    }
  }
  return { program, dataDir, withHost }
}
