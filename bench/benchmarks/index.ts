/** Every benchmark, in the order `npm run bench` runs them. */
import type { Benchmark } from '../lib/context.js';
import { agentFootprintBenchmark } from './agent-footprint.js';
import { dispatchBenchmark } from './dispatch.js';
import { fleetSizeBenchmark } from './fleet-size.js';
import { historyBenchmark } from './history.js';
import { hubCapacityBenchmark } from './hub-capacity.js';
import { logsBenchmark } from './logs.js';
import { nodeStartBenchmark } from './node-start.js';
import { scheduleBenchmark } from './schedule.js';
import { throughputBenchmark } from './throughput.js';
import { uiBenchmark } from './ui.js';
import { yesFloodBenchmark } from './yes-flood.js';

export const BENCHMARKS: Benchmark[] = [dispatchBenchmark, nodeStartBenchmark, throughputBenchmark, logsBenchmark, historyBenchmark, hubCapacityBenchmark, fleetSizeBenchmark, agentFootprintBenchmark, scheduleBenchmark, uiBenchmark, yesFloodBenchmark];
