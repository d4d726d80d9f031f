#!/usr/bin/env node
// Starts the hub from its built bundle; `npm install` builds it (the prepare script).
import { existsSync } from 'node:fs';

const bundle = new URL('../out/hub/cli.js', import.meta.url);
if (!existsSync(bundle)) {
  process.stderr.write('farmboy-hub: the hub is not built yet. Run `npm run build:hub` in the Farmboy folder first.\n');
  process.exit(1);
}
const { main } = await import(bundle.href);
process.exitCode = await main(process.argv.slice(2));
