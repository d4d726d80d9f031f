/**
 * The tray icon that keeps the app reachable while its window is closed.
 */
import { Menu, Tray, nativeImage } from 'electron';

export interface TrayActions {
  open(): void;
  quit(): void;
}

export function createTray(iconPath: string, actions: TrayActions): Tray {
  const tray = new Tray(nativeImage.createFromPath(iconPath));
  tray.setToolTip('Farmboy');
  tray.setContextMenu(
    Menu.buildFromTemplate([
      { label: 'Open Farmboy', click: () => actions.open() },
      { type: 'separator' },
      { label: 'Quit Farmboy', click: () => actions.quit() },
    ]),
  );
  // Windows and some Linux panels fire 'click' on a left click; macOS opens the menu.
  tray.on('click', () => actions.open());
  return tray;
}
