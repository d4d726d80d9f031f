/** Every benchmark, in the order `npm run bench` runs them. */
import type { Benchmark } from '../lib/context.js';
import { agentFootprintBenchmark } from './agent-footprint.js';
import { dispatchBenchmark } from './dispatch.js';
import { historyBenchmark } from './history.js';
import { hubCapacityBenchmark } from './hub-capacity.js';
import { logsBenchmark } from './logs.js';
import { nodeStartBenchmark } from './node-start.js';
import { throughputBenchmark } from './throughput.js';

export const BENCHMARKS: Benchmark[] = [dispatchBenchmark, nodeStartBenchmark, throughputBenchmark, logsBenchmark, historyBenchmark, hubCapacityBenchmark, agentFootprintBenchmark];
