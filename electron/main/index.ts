/**
 * Electron main process: one instance per user, a hub, a hardened window
 * on the hub's UI address and a tray icon. Closing the window leaves the hub
 * running. Only a quit (from the tray, the app menu or the OS) stops it.
 */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { app, dialog, ipcMain, Notification, session, type BrowserWindow, type Event, type IpcMainEvent, type IpcMainInvokeEvent, type Tray } from 'electron';
import { startHub, type Hub } from '../hub/index.js';
import { createLogger } from '../hub/logger.js';
import { BOOTSTRAP_CHANNEL, LOGIN_ITEM_CHANNEL } from '../preload/bridge.js';
import iconPath from '../../resources/icon.png?asset';
import trayIconPath from '../../resources/tray.png?asset';
import { resolveBootstrapRequest, resolveLoginItemRequest, type BootstrapRequest } from './bootstrap.js';
import { readDesktopPrefs, writeDesktopPrefs } from './desktop-prefs.js';
import { quitQuestion, RunWatch } from './run-watch.js';
import { devHubPort } from './dev-server.js';
import { createTray, showActiveRuns, type TrayActions } from './tray.js';
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
let quitConfirmed = false;
const trayActions: TrayActions = { open: showWindow, quit: () => app.quit() };
const runWatch = new RunWatch({
  onActiveCount: (count) => {
    if (tray) showActiveRuns(tray, trayActions, count);
  },
  onFailure: (notice) => {
    if (!Notification.isSupported()) return;
    const notification = new Notification({ title: notice.title, body: notice.body });
    notification.on('click', showWindow);
    notification.show();
  },
});
const prefsPath = () => join(app.getPath('userData'), 'desktop-prefs.json');

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
    if (quitState === 'running') void noticeStillRunning();
  });
}

/** Says once, the first time the window closes, that the hub keeps running in the tray. */
async function noticeStillRunning(): Promise<void> {
  const prefs = await readDesktopPrefs(prefsPath());
  if (prefs.closeNoticeShown || !Notification.isSupported()) return;
  new Notification({ title: 'Farmboy is still running', body: 'Schedules keep firing while the window is closed. Open Farmboy or quit it from the tray icon.' }).show();
  await writeDesktopPrefs(prefsPath(), { ...prefs, closeNoticeShown: true }).catch((error: unknown) => log.warn({ err: error }, 'desktop preferences not saved'));
}

function denyAllPermissions(): void {
  session.defaultSession.setPermissionRequestHandler((_webContents, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
}

function listenForBootstrap(currentHub: Hub, appOrigin: string): void {
  ipcMain.on(BOOTSTRAP_CHANNEL, (event: IpcMainEvent, ...args: unknown[]) => {
    const bridge = { hubUrl: currentHub.uiUrl, adminToken: currentHub.adminToken, openAtLogin: app.getLoginItemSettings().openAtLogin };
    const decision = resolveBootstrapRequest(ipcRequest(event, args), appOrigin, bridge);
    if (!decision.ok) log.warn({ reason: decision.reason }, 'bootstrap request rejected');
    event.returnValue = decision.ok ? decision.bridge : null;
  });
  ipcMain.handle(LOGIN_ITEM_CHANNEL, (event: IpcMainInvokeEvent, ...args: unknown[]) => {
    const decision = resolveLoginItemRequest(ipcRequest(event, args), appOrigin);
    if (!decision.ok) {
      log.warn({ reason: decision.reason }, 'start at login request rejected');
      return false;
    }
    app.setLoginItemSettings({ openAtLogin: decision.enabled });
    return app.getLoginItemSettings().openAtLogin;
  });
}

function ipcRequest(event: IpcMainEvent | IpcMainInvokeEvent, args: unknown[]): BootstrapRequest {
  const frame = event.senderFrame;
  return { senderUrl: frame?.url ?? null, isMainFrame: frame !== null && frame !== undefined && frame.parent === null, args };
}

async function start(): Promise<void> {
  denyAllPermissions();
  const dataDir = join(app.getPath('userData'), 'hub');
  hub = devRendererUrl
    ? await startHub({ dataDir, logger: log, uiPort: devHubPort(), rendererDir: null })
    : await startHub({ dataDir, logger: log, rendererDir });
  pageUrl = devRendererUrl ?? hub.uiUrl;
  listenForBootstrap(hub, new URL(pageUrl).origin);
  tray = createTray(trayIconPath, trayActions);
  runWatch.start(hub.runs.activeRuns());
  hub.runs.on('run', (run) => runWatch.update(run));
  showWindow();
  log.info({ dataDir }, 'desktop started');
}

/** Stops the hub before the app exits, whatever started the quit. */
function onBeforeQuit(event: Event): void {
  if (quitState === 'stopped' || !hub) return;
  event.preventDefault();
  if (quitState === 'running' && !quitConfirmed && !confirmQuit()) return;
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

function quitWithoutAsking(): void {
  quitConfirmed = true;
  app.quit();
}

/** Asks before quitting while runs are active; true to go on. */
function confirmQuit(): boolean {
  const question = quitQuestion(runWatch.activeCount);
  if (!question) return true;
  const choice = dialog.showMessageBoxSync({ type: 'question', buttons: ['Quit', 'Keep running'], defaultId: 1, cancelId: 1, ...question });
  return choice === 0;
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
  // A signal comes from a terminal or the OS, where no user can reply to a dialog.
  process.on('SIGINT', quitWithoutAsking);
  process.on('SIGTERM', quitWithoutAsking);
  app.whenReady().then(start).catch(failStart);
}
