#!/usr/bin/env node
/**
 * Starts the desktop app with electron-vite, after checking that the
 * Electron binary is installed. Installs made with
 * ELECTRON_SKIP_BINARY_DOWNLOAD=1 have the `electron` package without its
 * binary, and electron-vite would then fail with a stack trace.
 *
 * Usage: node scripts/start-desktop.mjs [preview|dev]
 *   preview  build, then run the built app (default; `npm start`)
 *   dev      run with the renderer on Vite's dev server (`npm run dev`)
 *
 * Honours ELECTRON_OVERRIDE_DIST_PATH as the `electron` package does.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const MODES = ['preview', 'dev'];

const MISSING_BINARY_MESSAGE = `The Electron binary is not installed, so the desktop app cannot start.
npm installed the electron package without it: ELECTRON_SKIP_BINARY_DOWNLOAD was set,
install scripts were skipped (--ignore-scripts, or an npm that runs only the
scripts package.json lists under allowScripts), or the download failed.

To download it, with network access and ELECTRON_SKIP_BINARY_DOWNLOAD unset, run:
  node node_modules/electron/install.js

To run Farmboy without Electron, start the headless hub and open the
address it prints in a browser:
  npx farmboy-hub
`;

/** Returns the Electron executable path, or null when the binary is missing. */
function findElectronBinary() {
  try {
    // The package's index.js throws when its path.txt was never written.
    const binary = require('electron');
    return typeof binary === 'string' && existsSync(binary) ? binary : null;
  } catch {
    return null;
  }
}

function runElectronVite(mode) {
  const packageDir = dirname(require.resolve('electron-vite/package.json'));
  const child = spawn(process.execPath, [join(packageDir, 'bin', 'electron-vite.js'), mode], { stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => child.kill(signal));
  }
  child.on('exit', (code, signal) => {
    process.exitCode = code ?? (signal ? 1 : 0);
  });
}

const mode = process.argv[2] ?? 'preview';
if (!MODES.includes(mode)) {
  process.stderr.write(`Unknown mode '${mode}': expected one of ${MODES.join(', ')}.\n`);
  process.exit(2);
}
if (findElectronBinary() === null) {
  process.stderr.write(MISSING_BINARY_MESSAGE);
  process.exit(1);
}
runElectronVite(mode);
