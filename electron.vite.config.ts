/**
 * Builds the desktop app into out/: main (ES module), preload (one
 * CommonJS file, as sandboxed preloads require) and renderer.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'electron-vite';
import { devHubPort } from './electron/main/dev-server.js';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  main: {
    // The main bundle is an SSR build, so its conditions are under `ssr`.
    // `source` resolves farmboy-agent/protocol to its TypeScript source, so
    // the agent need not be built first; the rest are Vite's defaults. The
    // package "type": "module" makes electron-vite emit an ES module, which
    // can import ESM-only lowdb.
    ssr: { resolve: { conditions: ['source', 'module', 'node', 'development|production'] } },
    build: {
      outDir: resolve(root, 'out/main'),
      rollupOptions: {
        input: { index: resolve(root, 'electron/main/index.ts') },
      },
    },
  },
  preload: {
    build: {
      outDir: resolve(root, 'out/preload'),
      // A sandboxed preload cannot load packages from node_modules.
      externalizeDeps: false,
      rollupOptions: {
        input: { index: resolve(root, 'electron/preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(root, 'renderer'),
    // In dev, plugin-react's inline preamble script lands before the CSP meta
    // tag, which applies only to what follows it, so it runs.
    plugins: [react()],
    // `source` as in main, for the hub's model schemas that forms reuse; the rest are Vite's defaults.
    resolve: { conditions: ['source', 'module', 'browser', 'development|production'] },
    build: {
      outDir: resolve(root, 'out/renderer'),
      rollupOptions: {
        input: { index: resolve(root, 'renderer/index.html') },
      },
    },
    server: {
      // The dev page and the hub then share one origin, as in production.
      proxy: {
        '/api': { target: `http://127.0.0.1:${devHubPort()}` },
        '/socket.io': { target: `http://127.0.0.1:${devHubPort()}`, ws: true },
      },
    },
  },
});
