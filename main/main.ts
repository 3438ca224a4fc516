// The Electron main process: one instance per user; when ready it starts the engine (or finds the
// host that already owns the data dir), then opens the library window. It holds no VM logic: the
// engine does, in its own process.
import { spawn } from 'node:child_process'
import { app, dialog, nativeTheme, screen, session, shell, type BrowserWindow } from 'electron'
import { registerAppScheme, serveAppScheme } from './app-protocol.ts'
import { EngineProcess } from './engine-process.ts'
import { registerIpc } from './ipc.ts'
import { installMenu } from './menu.ts'
import { ensureDataDir } from '../engine/host/ensure-data-dir.ts'
import { appPaths, dataDirFromCommandLine } from './paths.ts'
import {
  BACKGROUND_HOST_FLAG,
  backgroundHostCommand,
  QUIT_BUTTONS,
  quitQuestion,
  runQuit,
  spawnBackgroundHost,
} from './quit.ts'
import { openSettings, type Settings } from './settings.ts'
import { appPage, createLibraryWindow, hardenSession, restorableBounds } from './windows.ts'

const paths = appPaths(app.getAppPath())
const dataDir = dataDirFromCommandLine(process.argv, process.env)
const log = (line: string) => console.error(`vireo: ${line}`)

if (process.argv.includes(BACKGROUND_HOST_FLAG)) runBackgroundHostOnly()
else runApp()

/**
 * An AppImage's "keep running" host: the CLI's `host run` as a child, with this process alive (and
 * so the AppImage mounted) exactly as long as it runs. No window, no single-instance lock.
 */
function runBackgroundHostOnly(): void {
  app.dock?.hide()
  const { APPIMAGE: _self, ...env } = process.env
  const cmd = backgroundHostCommand({ execPath: process.execPath, cli: paths.cli, dataDir, env })
  const child = spawn(cmd.command, cmd.args, { env: cmd.env, stdio: 'inherit', shell: false })
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => child.kill(sig))
  child.on('exit', (code) => app.exit(code ?? 0))
  child.on('error', (err) => {
    log(`could not run the background host: ${err.message}`)
    app.exit(1)
  })
}

function runApp(): void {
  registerAppScheme()
  if (!app.requestSingleInstanceLock()) {
    app.quit()
    return
  }
  const page = appPage(app.isPackaged ? undefined : process.env.VIREO_RENDERER_URL)
  let settings: Settings | null = null
  let engine: EngineProcess | null = null
  let library: BrowserWindow | null = null
  let quitting = false
  let quitRunning = false

  const showLibrary = () => {
    if (!settings || !engine) return
    if (library && !library.isDestroyed()) {
      if (library.isMinimized()) library.restore()
      library.focus()
      return
    }
    const s = settings
    library = createLibraryWindow({
      preload: paths.preload,
      icon: paths.icon,
      page,
      bounds: restorableBounds(
        s.get().windowBounds,
        screen.getAllDisplays().map((d) => d.workArea),
      ),
      onClose: (bounds) => s.setWindowBounds(bounds),
    })
    library.on('closed', () => (library = null))
  }

  app.on('second-instance', showLibrary)
  app.on('activate', showLibrary)
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit()
  })
  app.on('before-quit', (event) => {
    if (quitting || !engine || !settings) return
    event.preventDefault()
    if (quitRunning) return
    quitRunning = true
    const e = engine
    const s = settings
    void runQuit({
      engine: e,
      behavior: () => s.get().quitWithRunningVms,
      remember: (b) => s.setQuitBehavior(b),
      ask: async (running) => {
        const q = quitQuestion(running)
        const answer = await dialog.showMessageBox({
          type: 'question',
          buttons: QUIT_BUTTONS.map((b) => b.label),
          defaultId: 0,
          cancelId: QUIT_BUTTONS.findIndex((b) => b.choice === 'cancel'),
          noLink: true,
          message: q.message,
          detail: q.detail,
          checkboxLabel: 'Remember my choice',
        })
        return { choice: QUIT_BUTTONS[answer.response]?.choice ?? 'cancel', remember: answer.checkboxChecked }
      },
      handOff: () => {
        const cmd = backgroundHostCommand({
          execPath: process.execPath,
          cli: paths.cli,
          dataDir,
          env: process.env,
        })
        const pid = spawnBackgroundHost(cmd, dataDir)
        log(`the VMs keep running under a background host (pid ${pid ?? '?'})`)
      },
      hideWindows: () => library?.hide(),
      log,
    }).then((quit) => {
      quitRunning = false
      if (quit) {
        quitting = true
        app.quit()
      } else {
        showLibrary()
      }
    })
  })

  void app.whenReady().then(async () => {
    const s = openSettings()
    nativeTheme.themeSource = s.get().theme
    hardenSession(session.defaultSession, page)
    serveAppScheme(session.defaultSession, paths.rendererDir)
    installMenu({
      platform: process.platform,
      appName: app.name,
      isPackaged: app.isPackaged,
      openLibraryFolder: () => void shell.openPath(dataDir),
    })
    // Said here in a dialog of its own, rather than as an engine that failed to start.
    try {
      ensureDataDir(dataDir)
    } catch (err) {
      const m = (err as Error).message
      dialog.showErrorBox('Vireo cannot use its data folder', `${m.charAt(0).toUpperCase()}${m.slice(1)}.`)
      quitting = true
      app.quit()
      return
    }
    const e = new EngineProcess({
      entry: paths.engineEntry,
      dataDir,
      log,
      onGiveUp: (reason) =>
        dialog.showErrorBox(
          'The Vireo engine stopped',
          `${reason}\n\nRunning VMs are not affected. Restart Vireo to reconnect.`,
        ),
    })
    registerIpc({ page, settings: s, connectEngine: (contents) => e.connectWindow(contents) })
    try {
      await e.start()
    } catch (err) {
      dialog.showErrorBox('Vireo could not start its engine', (err as Error).message)
      quitting = true
      app.quit()
      return
    }
    settings = s
    engine = e
    showLibrary()
  })
}
