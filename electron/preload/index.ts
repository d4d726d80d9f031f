/**
 * Preload script of the main window. It runs sandboxed, so it can use only
 * `contextBridge` and `ipcRenderer`, and it is bundled as one CommonJS file.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { BOOTSTRAP_CHANNEL, LOGIN_ITEM_CHANNEL, isFarmboyBridge, type FarmboyWindowApi } from './bridge.js';

// Synchronous so the values exist before any page script runs. The main
// process replies null to a frame that is not the hub's own page.
const reply: unknown = ipcRenderer.sendSync(BOOTSTRAP_CHANNEL);

if (isFarmboyBridge(reply)) {
  const api: FarmboyWindowApi = {
    hubUrl: reply.hubUrl,
    adminToken: reply.adminToken,
    openAtLogin: reply.openAtLogin === true,
    setOpenAtLogin: async (enabled: boolean) => (await ipcRenderer.invoke(LOGIN_ITEM_CHANNEL, enabled)) === true,
  };
  contextBridge.exposeInMainWorld('farmboy', Object.freeze(api));
}
