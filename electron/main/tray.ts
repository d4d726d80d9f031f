/**
 * The tray icon that keeps the app reachable while its window is closed.
 */
import { Menu, Tray, nativeImage } from 'electron';
import { trayTooltip } from './run-watch.js';

export interface TrayActions {
  open(): void;
  quit(): void;
}

function buildMenu(actions: TrayActions, active: number): Menu {
  return Menu.buildFromTemplate([
    { label: trayTooltip(active).replace('Farmboy: ', ''), enabled: false },
    { type: 'separator' },
    { label: 'Open Farmboy', click: () => actions.open() },
    { type: 'separator' },
    { label: 'Quit Farmboy', click: () => actions.quit() },
  ]);
}

/** Shows the number of active runs: in the tooltip and menu everywhere, beside the icon on macOS. */
export function showActiveRuns(tray: Tray, actions: TrayActions, active: number): void {
  tray.setToolTip(trayTooltip(active));
  tray.setTitle(active > 0 ? String(active) : '');
  tray.setContextMenu(buildMenu(actions, active));
}

export function createTray(iconPath: string, actions: TrayActions): Tray {
  const tray = new Tray(nativeImage.createFromPath(iconPath));
  showActiveRuns(tray, actions, 0);
  // Windows and some Linux panels fire 'click' on a left click; macOS opens the menu.
  tray.on('click', () => actions.open());
  return tray;
}
