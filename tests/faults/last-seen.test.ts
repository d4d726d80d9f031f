import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, onCleanup, startAgents, startTestHub, waitFor } from '../helpers/fleet.js';
import { TcpProxy } from './helpers/proxy.js';

afterEach(cleanup);

describe('agent last seen time', () => {
  it('stays at its last message after a silent drop', { timeout: 60_000 }, async () => {
    const hub = await startTestHub();
    const proxy = await TcpProxy.start(hub.agentPort);
    onCleanup(() => proxy.close());
    const url = `${new URL(hub.agentUrl).protocol}//127.0.0.1:${proxy.port}`;
    await startAgents(hub, [{ name: 'silent', hubUrl: url }]);
    const agentOf = () => hub.service.listAgents().find((agent) => agent.name === 'silent');
    // Load reports every 300 ms keep lastSeenAt moving while the connection works.
    const before = agentOf()?.lastSeenAt ?? 0;
    await waitFor(() => (agentOf()?.lastSeenAt ?? 0) > before, 5_000, 'a load report');

    const cutAt = Date.now();
    proxy.cut('drop');
    // The hub notices a silent drop only when its pings go unanswered, after about 20 s.
    const offline = await waitFor(() => agentOf()?.status === 'offline' && agentOf(), 40_000, 'agent offline');
    const noticedAt = Date.now();

    expect(noticedAt - cutAt).toBeGreaterThan(5_000);
    expect(offline.lastSeenAt).toBeLessThanOrEqual(cutAt);
    expect(offline.lastSeenAt).toBeGreaterThan(cutAt - 5_000);
  });

  it('reaches the disk while the agent is connected', { timeout: 30_000 }, async () => {
    const hub = await startTestHub({ agentRecordIntervalMs: 200 });
    await startAgents(hub, [{ name: 'steady' }]);
    const stored = async () => {
      const state = JSON.parse(await readFile(join(hub.dataDir, 'farmboy.json'), 'utf8')) as { agents: Array<{ name: string; lastSeenAt: number }> };
      return state.agents.find((agent) => agent.name === 'steady')?.lastSeenAt ?? 0;
    };
    const first = await waitFor(stored, 10_000, 'the agent record on disk');

    // A crash now would keep a last contact at most one interval old.
    const later = await waitFor(async () => {
      const value = await stored();
      return value > first + 1_000 && value;
    }, 10_000, 'a newer last contact on disk');

    expect(later).toBeGreaterThan(first);
  });
});
