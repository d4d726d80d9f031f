import { randomUUID } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { io, type Socket } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { AGENT_NAMESPACE, PROTOCOL_VERSION, type AgentToHubEvents, type HelloReply, type HubToAgentEvents } from '../../agent/src/protocol/index.js';
import { cleanup, startTestHub, waitFor, type TestHub } from '../helpers/fleet.js';

afterEach(cleanup);

const AGENTS = 100;
const ROUNDS = 8;
const CONCURRENCY = 25;

/**
 * An agent that only connects, sends hello, reports its load, sends one batch
 * of events and leaves, over the real protocol. It enrolls with the token on
 * its first connection and uses the credential the hub gives it afterwards.
 */
class ChurnAgent {
  readonly agentId = randomUUID();
  private credential: string | null = null;

  constructor(
    private readonly hub: TestHub,
    private readonly name: string,
  ) {}

  async visit(): Promise<void> {
    const auth = { protocolVersion: PROTOCOL_VERSION, agentId: this.agentId, name: this.name, version: 'churn', ...(this.credential ? { credential: this.credential } : { token: this.hub.agentToken ?? '' }) };
    const socket: Socket<HubToAgentEvents, AgentToHubEvents> = io(`${this.hub.agentUrl}${AGENT_NAMESPACE}`, {
      auth,
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
      rejectUnauthorized: false,
    });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', reject);
      });
      const hello = (await socket.timeout(10_000).emitWithAck('hello', {
        facts: { hostname: 'churn', platform: 'linux', arch: 'x64', cpus: 2, memoryBytes: 8 * 1024 ** 3, nodeVersion: process.version },
        tags: [],
        slots: 1,
        maxLoad: null,
        runs: [],
      })) as HelloReply;
      this.credential = hello.credential ?? this.credential;
      socket.emit('load', { load: 0.1, cpu: 0.1, freeMemoryBytes: 4 * 1024 ** 3, running: 0 });
      // Events of a run the hub does not know: acknowledged as done, and they give the agent an output bucket.
      const runId = randomUUID();
      await socket.timeout(10_000).emitWithAck('events', { events: [{ runId, attempt: 1, seq: 1, at: Date.now(), type: 'log', lines: [{ t: Date.now(), s: 'stdout', m: 'churn' }] }] });
    } finally {
      socket.close();
    }
  }
}

/** Returns V8's gc() in this process, where vitest did not start node with --expose-gc. */
function exposeGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

async function settledHeap(gc: () => void): Promise<number> {
  for (let pass = 0; pass < 3; pass += 1) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return process.memoryUsage().heapUsed;
}

async function visitAll(agents: readonly ChurnAgent[]): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < agents.length) await agents[next++]?.visit();
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

describe('agent connection churn', () => {
  it('leaves no connection state behind', { timeout: 60_000 }, async () => {
    const gc = exposeGc();
    const hub = await startTestHub();
    const agents = Array.from({ length: AGENTS }, (_, index) => new ChurnAgent(hub, `churn-${index}`));
    // The first round enrolls every agent and warms up lazily built state.
    await visitAll(agents);
    await waitFor(() => hub.connectionStats().engineClients === 0, 10_000, 'first round closed');
    const baseline = await settledHeap(gc);

    for (let round = 1; round < ROUNDS; round += 1) await visitAll(agents);
    await waitFor(() => hub.connectionStats().engineClients === 0, 15_000, 'every connection closed');
    const after = await settledHeap(gc);
    const stats = hub.connectionStats();
    const listed = await hub.api<Array<{ id: string; status: string }>>('GET', '/api/agents');

    expect(stats).toEqual({ engineClients: 0, namespaceSockets: 0, agentSockets: 0, outputBuckets: 0, agentsOnline: 0, uiClients: 0 });
    expect(listed.body).toHaveLength(AGENTS);
    expect(listed.body.every((agent) => agent.status === 'offline')).toBe(true);
    // NOTE: the bound allows for the allocator's slack on a small heap; a leak of a few KiB per connection exceeds it.
    expect(after).toBeLessThan(baseline * 1.1 + 4 * 1024 * 1024);
  });
});
