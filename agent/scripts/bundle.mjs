// Bundles the agent command and the node task host, with their
// dependencies, into bundle/ (esbuild). One file per process instead of
// hundreds of modules: an idle agent and each warm task host keep about
// 20 MB and 6 MB less resident memory, and start sooner. dist/ (tsc) stays
// the library build that the `exports` map and the types point at.
import { build } from 'esbuild';

await build({
  entryPoints: { cli: 'src/cli.ts', 'task-host': 'src/task-host.ts' },
  outdir: 'bundle',
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // Whitespace and syntax only: function names stay readable in stack traces.
  minifyWhitespace: true,
  minifySyntax: true,
  // Optional native add-ons of ws, loaded only when installed.
  external: ['bufferutil', 'utf-8-validate'],
  // Bundled CommonJS dependencies (pino) call require() for Node builtins.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  logLevel: 'warning',
});
