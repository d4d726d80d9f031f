import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Builds the agent and the headless hub once, because integration tests
 * start them as real processes from their bundles. FARMBOY_SKIP_BUILD=1
 * skips it when only unit tests run.
 */
export default function setup(): void {
  if (process.env.FARMBOY_SKIP_BUILD === '1') return;
  const root = fileURLToPath(new URL('..', import.meta.url));
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
}
