/**
 * Options and navigation rules of the main window. Pure (the `electron`
 * import is types only), so tests can check the hardening without the
 * Electron binary.
 */
import type { BrowserWindowConstructorOptions } from 'electron';

export interface MainWindowInput {
  /** Absolute path of the built preload script. */
  preloadPath: string;
  /** Window icon, which Linux shows in the task bar. macOS and Windows use the app icon. */
  iconPath?: string;
}

export function createWindowOptions(input: MainWindowInput): BrowserWindowConstructorOptions {
  return {
    title: 'Farmboy',
    width: 1280,
    height: 820,
    minWidth: 800,
    minHeight: 560,
    // Shown on 'ready-to-show', so the user never sees an empty frame.
    show: false,
    autoHideMenuBar: true,
    backgroundColor: '#f6f7f6',
    ...(input.iconPath ? { icon: input.iconPath } : {}),
    webPreferences: {
      preload: input.preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      safeDialogs: true,
    },
  };
}

/** Tests whether `url` is on the page's own origin. The window blocks navigation anywhere else. */
export function isSameOrigin(url: string, appOrigin: string): boolean {
  try {
    return new URL(url).origin === appOrigin;
  } catch {
    return false;
  }
}
