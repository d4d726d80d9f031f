import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Builds the agent once, because integration tests start it as a real
 * process from its dist/. FARMBOY_SKIP_BUILD=1 skips it when only unit
 * tests run.
 */
export default function setup(): void {
  if (process.env.FARMBOY_SKIP_BUILD === '1') return;
  const root = fileURLToPath(new URL('..', import.meta.url));
  execFileSync('npm', ['run', 'build', '--silent', '-w', 'farmboy-agent'], { cwd: root, stdio: 'inherit' });
}
