/// <reference types="vite/client" />
import type { FarmboyWindowApi } from '../../electron/preload/bridge.js';

declare global {
  interface Window {
    /** Set by the Electron preload script; absent when the UI runs in a browser. */
    readonly farmboy?: FarmboyWindowApi;
  }
}
