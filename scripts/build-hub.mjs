// Bundles the headless hub (electron/hub/cli.ts) into out/hub/cli.js. The
// agent's protocol module is bundled in from source; npm dependencies stay
// external and load from node_modules.
import { readFileSync } from 'node:fs';
import { build } from 'esbuild';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const external = Object.keys(pkg.dependencies ?? {});

await build({
  entryPoints: ['electron/hub/cli.ts'],
  outfile: 'out/hub/cli.js',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  conditions: ['source'],
  external,
  sourcemap: true,
  logLevel: 'warning',
});
