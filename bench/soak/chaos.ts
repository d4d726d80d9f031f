/**
 * The faults the soak injects while runs go on: agents killed with SIGKILL
 * and started again after a while (some within the hub's grace period, some
 * past it), and connections cut through the agents' proxies, either reset or
 * silently dropped.
 */
import type { SoakAgent } from './fleet.js';

export interface ChaosOptions {
  /** Mean time between two agent kills. */
  killEveryMs: number;
  /** Mean time between two connection cuts. */
  cutEveryMs: number;
  /** An agent killed stays down between these bounds before it restarts. */
  downMs: [number, number];
  /** A connection stays cut between these bounds. */
  cutMs: [number, number];
  random: () => number;
  log: (message: string) => void;
  /** Names of the agents running something now; kills pick among them when there are any. */
  busyAgents: () => Promise<string[]>;
}

export interface ChaosCounts {
  kills: number;
  resets: number;
  drops: number;
}

export class Chaos {
  readonly counts: ChaosCounts = { kills: 0, resets: 0, drops: 0 };
  private readonly busy = new Set<SoakAgent>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly pending = new Set<Promise<void>>();
  private running = false;

  constructor(
    private readonly agents: SoakAgent[],
    private readonly options: ChaosOptions,
  ) {}

  start(): void {
    this.running = true;
    this.plan(() => this.killOne(), this.options.killEveryMs);
    this.plan(() => this.cutOne(), this.options.cutEveryMs);
  }

  /** Stops injecting faults and waits until every agent is up and every connection restored. */
  async stop(): Promise<void> {
    this.running = false;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  private plan(action: () => Promise<void>, meanMs: number): void {
    if (!this.running) return;
    // Exponential gaps: faults arrive at random, as in a real fleet.
    const delay = -Math.log(1 - this.options.random()) * meanMs;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.track(action());
      this.plan(action, meanMs);
    }, delay);
    this.timers.add(timer);
  }

  private track(work: Promise<void>): void {
    const tracked = work.catch((error: unknown) => this.options.log(`chaos step failed: ${String(error)}`)).finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
  }

  private pick(among?: ReadonlySet<string>): SoakAgent | null {
    const free = this.agents.filter((agent) => !this.busy.has(agent));
    const preferred = among === undefined ? [] : free.filter((agent) => among.has(agent.name));
    const pool = preferred.length > 0 ? preferred : free;
    if (pool.length === 0) return null;
    return pool[Math.floor(this.options.random() * pool.length)] ?? null;
  }

  private between([min, max]: [number, number]): number {
    return min + this.options.random() * (max - min);
  }

  private async killOne(): Promise<void> {
    const agent = this.pick(new Set(await this.options.busyAgents()));
    if (agent === null) return;
    this.busy.add(agent);
    try {
      this.counts.kills += 1;
      await agent.kill();
      await sleep(this.between(this.options.downMs));
      agent.restart();
    } finally {
      this.busy.delete(agent);
    }
  }

  private async cutOne(): Promise<void> {
    const agent = this.pick();
    if (agent === null) return;
    this.busy.add(agent);
    try {
      const mode = this.options.random() < 0.5 ? 'reset' : 'drop';
      this.counts[mode === 'reset' ? 'resets' : 'drops'] += 1;
      agent.proxy.cut(mode);
      await sleep(this.between(this.options.cutMs));
      agent.proxy.restore();
    } finally {
      this.busy.delete(agent);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
