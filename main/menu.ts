// The application menu: the platform's usual roles and accelerators, plus a way to the library's
// folder. Developer tools appear only in a checkout, never in a packaged app.
import { Menu, type MenuItemConstructorOptions } from 'electron'

export interface MenuOptions {
  platform: NodeJS.Platform
  appName: string
  isPackaged: boolean
  openLibraryFolder: () => void
}

export function menuTemplate(o: MenuOptions): MenuItemConstructorOptions[] {
  const mac = o.platform === 'darwin'
  const template: MenuItemConstructorOptions[] = []
  if (mac) {
    template.push({
      label: o.appName,
      submenu: [
        { role: 'about' },
        { type: 'separator' },
        { role: 'services' },
        { type: 'separator' },
        { role: 'hide' },
        { role: 'hideOthers' },
        { role: 'unhide' },
        { type: 'separator' },
        { role: 'quit' },
      ],
    })
  }
  template.push({
    label: '&File',
    submenu: [
      { label: 'Show Library Folder', accelerator: 'CmdOrCtrl+Shift+L', click: () => o.openLibraryFolder() },
      { type: 'separator' },
      { role: 'close' },
      ...(mac ? [] : [{ type: 'separator' } as const, { role: 'quit' } as const]),
    ],
  })
  template.push({
    label: '&Edit',
    submenu: [
      { role: 'undo' },
      { role: 'redo' },
      { type: 'separator' },
      { role: 'cut' },
      { role: 'copy' },
      { role: 'paste' },
      { role: 'delete' },
      { type: 'separator' },
      { role: 'selectAll' },
    ],
  })
  template.push({
    label: '&View',
    submenu: [
      { role: 'reload' },
      ...(o.isPackaged ? [] : [{ role: 'forceReload' } as const, { role: 'toggleDevTools' } as const]),
      { type: 'separator' },
      { role: 'resetZoom' },
      { role: 'zoomIn' },
      { role: 'zoomOut' },
      { type: 'separator' },
      { role: 'togglefullscreen' },
    ],
  })
  template.push({
    label: '&Window',
    role: 'window',
    submenu: mac
      ? [{ role: 'minimize' }, { role: 'zoom' }, { type: 'separator' }, { role: 'front' }]
      : [{ role: 'minimize' }, { role: 'close' }],
  })
  // On macOS "About" lives in the app menu.
  if (!mac) template.push({ label: '&Help', role: 'help', submenu: [{ role: 'about' }] })
  return template
}

export function installMenu(o: MenuOptions): void {
  Menu.setApplicationMenu(Menu.buildFromTemplate(menuTemplate(o)))
}
