/**
 * Agent footprint: resident memory and CPU of an idle, connected agent with
 * default options, sampled from /proc, and of the warm task hosts it keeps
 * beside it. Read against an idle bare Node process. The idle hub's memory
 * is noted too.
 */
import { spawn } from 'node:child_process';
import { childrenOf, commandName } from '../../tests/helpers/processes.js';
import { startAgentProcess } from '../lib/agents.js';
import { sleep, waitUntil, type Benchmark } from '../lib/context.js';
import { startHubProcess } from '../lib/hub.js';
import { MB, coreShare, sampleProcess } from '../lib/proc.js';
import { median } from '../lib/stats.js';

/** Resident memory of an idle `node` that only keeps a timer, after it settled. */
async function idleNodeRss(): Promise<number> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  try {
    await sleep(1_500);
    return sampleProcess(child.pid as number).rssBytes;
  } finally {
    child.kill('SIGKILL');
  }
}

export const agentFootprintBenchmark: Benchmark = {
  name: 'agent-footprint',
  title: 'agent footprint: resident memory and CPU of an idle connected agent',
  async run(context) {
    const settleMs = context.quick ? 2_000 : 10_000;
    const windowMs = context.quick ? 3_000 : 60_000;
    const hub = await startHubProcess(context);
    const agent = await startAgentProcess(context, hub, { name: 'idle', slots: 2 });
    await waitUntil(async () => (await hub.api<Array<{ status: string }>>('GET', '/api/agents')).body.some((entry) => entry.status === 'online'), 30_000, 'agent online');
    await sleep(settleMs);

    const first = sampleProcess(agent.pid);
    const rss: number[] = [];
    const deadline = Date.now() + windowMs;
    while (Date.now() < deadline) {
      await sleep(1_000);
      rss.push(sampleProcess(agent.pid).rssBytes);
    }
    const last = sampleProcess(agent.pid);
    // The agent's children while idle: warm node task hosts and warm shells.
    const children = childrenOf(agent.pid);
    const hosts = children.filter((pid) => commandName(pid) !== 'sh');
    const shells = children.filter((pid) => commandName(pid) === 'sh');
    const hostRss = hosts.map((pid) => sampleProcess(pid).rssBytes);
    const shellRss = shells.map((pid) => sampleProcess(pid).rssBytes);
    const hubRss = sampleProcess(hub.pid).rssBytes;
    const bareRss = await idleNodeRss();
    context.log(`agent ${agent.pid} idle with ${hosts.length} warm task hosts and ${shells.length} warm shells`);

    const limit = { label: 'idle bare node process', value: bareRss / MB };
    return {
      figures: [
        { key: 'idle-rss', label: 'idle agent resident memory (median over the window)', unit: 'MB', value: median(rss) / MB, budget: { op: '<=', value: 60 }, limit },
        { key: 'idle-cpu', label: 'idle agent CPU, share of one core', unit: '%', value: coreShare(first, last) * 100, budget: { op: '<=', value: 1 } },
        {
          key: 'warm-hosts-rss',
          label: `warm task hosts beside it (${hosts.length}: none until the agent runs a node task), resident memory together`,
          unit: 'MB',
          value: hostRss.reduce((sum, value) => sum + value, 0) / MB,
          note: 'FARMBOY_WARM_HOSTS=0 gives this memory back at the price of a cold start per node run',
        },
        {
          key: 'warm-shells-rss',
          label: `warm shells beside it (${shells.length}, one per free slot), resident memory together`,
          unit: 'MB',
          value: shellRss.reduce((sum, value) => sum + value, 0) / MB,
          note: 'mostly pages shared with every other shell; FARMBOY_WARM_SHELLS=0 turns them off',
        },
        { key: 'idle-hub-rss', label: 'idle hub resident memory, one agent connected', unit: 'MB', value: hubRss / MB },
      ],
      details: { windowMs, rssMb: rss.map((value) => value / MB), warmHostRssMb: hostRss.map((value) => value / MB) },
    };
  },
};
