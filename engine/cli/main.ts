#!/usr/bin/env node
// The vireo command line, in the spirit of VBoxManage and virsh. It talks to the host that owns the
// data dir over that host's unix socket. Each group of commands lives in its own module.
import { addConsoleCommands } from './console-commands.ts'
import { addDeviceCommands } from './device-commands.ts'
import { addHostCommands } from './host-commands.ts'
import { addImageCommands } from './image-commands.ts'
import { addMigrationCommands } from './migrate-commands.ts'
import { reportError } from './output.ts'
import { createCli } from './program.ts'
import { addSnapshotCommands } from './snapshot-commands.ts'
import { addVmCommands } from './vm-commands.ts'

const cli = createCli()
addVmCommands(cli)
addImageCommands(cli)
addConsoleCommands(cli)
addDeviceCommands(cli)
addSnapshotCommands(cli)
const host = addHostCommands(cli)
addMigrationCommands(cli.program, host, cli.withHost)

cli.program.parseAsync(process.argv).catch((err: unknown) => {
  reportError(err, process.argv.includes('--json'))
  process.exitCode = 1
})
