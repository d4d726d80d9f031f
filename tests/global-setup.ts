import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Builds the agent once, because integration tests start it as a real process from its dist/. */
export default function setup(): void {
  const root = fileURLToPath(new URL('..', import.meta.url));
  execFileSync('npm', ['run', 'build', '--silent', '-w', 'farmboy-agent'], { cwd: root, stdio: 'inherit' });
}
