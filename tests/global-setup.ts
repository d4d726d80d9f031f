import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Builds the agent and the headless hub once, because integration tests
 * start them as real processes from their bundles. FARMBOY_SKIP_BUILD=1
 * skips it when only unit tests run.
 */
export default function setup(): void {
  if (process.env.FARMBOY_SKIP_BUILD === '1') return;
  const root = fileURLToPath(new URL('..', import.meta.url));
  execFileSync('npm', ['run', 'build:engine', '--silent'], { cwd: root, stdio: 'inherit' });
  // The end-to-end tests serve the built UI. `npm run build:app` refreshes it; a missing one is built here.
  if (!existsSync(join(root, 'out', 'renderer', 'index.html'))) {
    execFileSync('npx', ['electron-vite', 'build'], { cwd: root, stdio: 'inherit' });
  }
}
