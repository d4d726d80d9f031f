import { buildForBench } from '/work/main/bench/lib/build.js';
import { runBenchmark } from '/work/main/bench/run.js';
import { flood } from '/work/main/bench/benchmarks/logs.js';
await buildForBench({ skipProductBuild: true });
const result = await runBenchmark({ name: 'flood-only', title: 'flood', run: async (context) => flood(context) }, { quick: false, resultsDir: '/tmp/fb-results' });
for (const figure of result.figures) console.log(figure.label, figure.value.toFixed(1));
