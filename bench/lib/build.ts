/**
 * Builds what the benchmarks start as processes: the agent package and the
 * headless hub (`npm run build:agent`, `build:hub`), and the benchmark's own
 * process entries. Those are bundled the way scripts/build-hub.mjs bundles
 * the hub, so a child process runs plain JavaScript with no TypeScript loader.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const AGENT_BIN = path.join(ROOT, 'agent', 'bin', 'farmboy-agent.js');
export const BENCH_OUT = path.join(ROOT, 'out', 'bench');
export const HUB_HOST = path.join(BENCH_OUT, 'hub-host.js');
export const BARE_SERVER = path.join(BENCH_OUT, 'bare-server.js');

const ENTRIES = {
  'hub-host': path.join(ROOT, 'bench', 'lib', 'hub-host.ts'),
  'bare-server': path.join(ROOT, 'bench', 'lib', 'bare-server.ts'),
};

function dependenciesOf(packageFile: string): string[] {
  const manifest = JSON.parse(readFileSync(packageFile, 'utf8')) as { dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
  return [...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.devDependencies ?? {})];
}

/** Builds the agent and the headless hub unless `skipProductBuild`, then bundles the benchmark's process entries. */
export async function buildForBench(options: { skipProductBuild: boolean }): Promise<void> {
  if (!options.skipProductBuild) {
    execFileSync('npm', ['run', 'build:engine', '--silent'], { cwd: ROOT, stdio: 'inherit' });
  }
  const external = [...dependenciesOf(path.join(ROOT, 'package.json')), ...dependenciesOf(path.join(ROOT, 'agent', 'package.json'))];
  await build({
    entryPoints: ENTRIES,
    outdir: BENCH_OUT,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: ['source'],
    external,
    sourcemap: true,
    logLevel: 'warning',
  });
}
