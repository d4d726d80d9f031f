/**
 * Creates the main window with its navigation and window-opening locks.
 */
import { BrowserWindow } from 'electron';
import type { Logger } from 'pino';
import { createWindowOptions, isSameOrigin } from './window-options.js';

export interface OpenWindowInput {
  /** Page to load: the hub's UI address, or the Vite dev server in development. */
  pageUrl: string;
  preloadPath: string;
  iconPath: string;
  log: Logger;
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'invalid';
  }
}

export function openMainWindow(input: OpenWindowInput): BrowserWindow {
  const appOrigin = new URL(input.pageUrl).origin;
  const window = new BrowserWindow(createWindowOptions({ preloadPath: input.preloadPath, iconPath: input.iconPath }));
  const { webContents } = window;

  // Only the origin is logged: a full URL may carry a token in its hash.
  webContents.setWindowOpenHandler(({ url }) => {
    input.log.warn({ origin: originOf(url) }, 'window open blocked');
    return { action: 'deny' };
  });
  webContents.on('will-navigate', (event) => {
    if (isSameOrigin(event.url, appOrigin)) return;
    event.preventDefault();
    input.log.warn({ origin: originOf(event.url) }, 'navigation blocked');
  });
  webContents.on('will-redirect', (event) => {
    if (isSameOrigin(event.url, appOrigin)) return;
    event.preventDefault();
    input.log.warn({ origin: originOf(event.url) }, 'redirect blocked');
  });
  webContents.on('will-attach-webview', (event) => event.preventDefault());

  window.once('ready-to-show', () => window.show());
  void window.loadURL(input.pageUrl).catch((error: unknown) => input.log.error({ err: error }, 'window page failed to load'));
  return window;
}
