/**
 * Electron main process: one instance per user, a hub, a hardened window
 * on the hub's UI address and a tray icon. Closing the window leaves the hub
 * running. Only a quit (from the tray, the app menu or the OS) stops it.
 */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { app, dialog, ipcMain, session, type BrowserWindow, type Event, type IpcMainEvent, type Tray } from 'electron';
import { startHub, type Hub } from '../hub/index.js';
import { createLogger } from '../hub/logger.js';
import { BOOTSTRAP_CHANNEL } from '../preload/bridge.js';
import iconPath from '../../resources/icon.png?asset';
import trayIconPath from '../../resources/tray.png?asset';
import { resolveBootstrapRequest } from './bootstrap.js';
import { devHubPort } from './dev-server.js';
import { createTray } from './tray.js';
import { openMainWindow } from './window.js';

const log = createLogger().child({ component: 'desktop' });
const preloadPath = fileURLToPath(new URL('../preload/index.cjs', import.meta.url));
const rendererDir = fileURLToPath(new URL('../renderer/', import.meta.url));
// Set by `electron-vite dev`: the page then comes from Vite with hot reload.
const devRendererUrl = app.isPackaged ? undefined : process.env['ELECTRON_RENDERER_URL'];

let hub: Hub | null = null;
let pageUrl: string | null = null;
let mainWindow: BrowserWindow | null = null;
// Module scope keeps the tray referenced; a collected Tray vanishes from the panel.
let tray: Tray | null = null;
let quitState: 'running' | 'stopping' | 'stopped' = 'running';

function showWindow(): void {
  if (!pageUrl) return;
  if (mainWindow && !mainWindow.isDestroyed()) {
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.show();
    mainWindow.focus();
    return;
  }
  mainWindow = openMainWindow({ pageUrl, preloadPath, iconPath, log });
  mainWindow.on('closed', () => {
    mainWindow = null;
  });
}

function denyAllPermissions(): void {
  session.defaultSession.setPermissionRequestHandler((_webContents, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
}

function listenForBootstrap(currentHub: Hub, appOrigin: string): void {
  const bridge = { hubUrl: currentHub.uiUrl, adminToken: currentHub.adminToken };
  ipcMain.on(BOOTSTRAP_CHANNEL, (event: IpcMainEvent, ...args: unknown[]) => {
    const frame = event.senderFrame;
    const request = { senderUrl: frame?.url ?? null, isMainFrame: frame !== null && frame.parent === null, args };
    const decision = resolveBootstrapRequest(request, appOrigin, bridge);
    if (!decision.ok) log.warn({ reason: decision.reason }, 'bootstrap request rejected');
    event.returnValue = decision.ok ? decision.bridge : null;
  });
}

async function start(): Promise<void> {
  denyAllPermissions();
  const dataDir = join(app.getPath('userData'), 'hub');
  hub = devRendererUrl
    ? await startHub({ dataDir, logger: log, uiPort: devHubPort(), rendererDir: null })
    : await startHub({ dataDir, logger: log, rendererDir });
  pageUrl = devRendererUrl ?? hub.uiUrl;
  listenForBootstrap(hub, new URL(pageUrl).origin);
  tray = createTray(trayIconPath, { open: showWindow, quit: () => app.quit() });
  showWindow();
  log.info({ dataDir }, 'desktop started');
}

/** Stops the hub before the app exits, whatever started the quit. */
function onBeforeQuit(event: Event): void {
  if (quitState === 'stopped' || !hub) return;
  event.preventDefault();
  if (quitState === 'stopping') return;
  quitState = 'stopping';
  const stopping = hub;
  void stopping
    .stop()
    .catch((error: unknown) => log.error({ err: error }, 'hub stop failed'))
    .finally(() => {
      quitState = 'stopped';
      tray?.destroy();
      app.quit();
    });
}

function failStart(error: unknown): void {
  log.error({ err: error }, 'desktop start failed');
  const message = error instanceof Error ? error.message : String(error);
  dialog.showErrorBox('Farmboy could not start', message);
  // A hub that started before the failure still has its data folder open, so stop it first.
  const started = hub;
  hub = null;
  const stopped = started ? started.stop().catch((stopError: unknown) => log.error({ err: stopError }, 'hub stop failed')) : Promise.resolve();
  void stopped.finally(() => app.exit(1));
}

if (!app.requestSingleInstanceLock()) {
  // Another instance has the lock. Electron emits 'second-instance' there, which shows its window.
  app.quit();
} else {
  app.on('second-instance', showWindow);
  app.on('activate', showWindow);
  // Registering this listener stops Electron from quitting when the last window closes.
  app.on('window-all-closed', () => undefined);
  app.on('before-quit', onBeforeQuit);
  process.on('SIGINT', () => app.quit());
  process.on('SIGTERM', () => app.quit());
  app.whenReady().then(start).catch(failStart);
}
