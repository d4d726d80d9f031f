/**
 * Preload script of the main window. It runs sandboxed, so it can use only
 * `contextBridge` and `ipcRenderer`, and it is bundled as one CommonJS file.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { BOOTSTRAP_CHANNEL, isFarmboyBridge } from './bridge.js';

// Synchronous so the values exist before any page script runs. The main
// process replies null to a frame that is not the hub's own page.
const reply: unknown = ipcRenderer.sendSync(BOOTSTRAP_CHANNEL);

if (isFarmboyBridge(reply)) {
  contextBridge.exposeInMainWorld('farmboy', Object.freeze({ hubUrl: reply.hubUrl, adminToken: reply.adminToken }));
}
