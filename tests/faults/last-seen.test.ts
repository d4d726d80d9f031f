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
});
