import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_AGENT_PORT } from 'farmboy-agent/protocol';
import { applyNetworkPatch, DEFAULT_UI_PORT, resolveNetwork, type NetworkSettings, type NetworkView } from '../../electron/hub/settings.js';
import { cleanup, startTestHub, tempDir } from '../helpers/fleet.js';

afterEach(cleanup);

const STORED: NetworkSettings = { uiPort: 8100, agentPort: 8200, allowRemoteUi: true };
const DEFAULTS: NetworkSettings = { uiPort: null, agentPort: null, allowRemoteUi: false };

describe('network settings resolution', () => {
  it.each([
    ['defaults', DEFAULTS, {}, { uiPort: DEFAULT_UI_PORT, agentPort: DEFAULT_AGENT_PORT, uiHost: '127.0.0.1' }, { uiPort: false, agentPort: false, uiHost: false }],
    ['stored values', STORED, {}, { uiPort: 8100, agentPort: 8200, uiHost: '0.0.0.0' }, { uiPort: false, agentPort: false, uiHost: false }],
    ['flags over stored', STORED, { uiPort: 9100, agentPort: 9200, uiHost: '127.0.0.1' }, { uiPort: 9100, agentPort: 9200, uiHost: '127.0.0.1' }, { uiPort: true, agentPort: true, uiHost: true }],
    ['one flag', STORED, { agentPort: 0 }, { uiPort: 8100, agentPort: 0, uiHost: '0.0.0.0' }, { uiPort: false, agentPort: true, uiHost: false }],
  ])('resolves %s', (_case, stored, flags, values, overridden) => {
    const network = resolveNetwork(stored, flags);

    expect(network).toEqual({ ...values, overridden });
  });

  it.each([
    ['keeps unnamed fields', STORED, { uiPort: 8300 }, { uiPort: 8300, agentPort: 8200, allowRemoteUi: true }],
    ['clears a port with null', STORED, { agentPort: null }, { uiPort: 8100, agentPort: null, allowRemoteUi: true }],
    ['rejects equal ports', STORED, { uiPort: 8200 }, null],
    ['rejects a port equal to a default', DEFAULTS, { uiPort: DEFAULT_AGENT_PORT }, null],
  ])('patch %s', (_case, stored, patch, expected) => {
    expect(applyNetworkPatch(stored, patch)).toEqual(expected);
  });
});

/** Returns a loopback port that was free a moment ago. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('network settings of a hub', { timeout: 30_000 }, () => {
  it('applies stored ports at restart', async () => {
    const dataDir = await tempDir('network');
    const [uiPort, agentPort] = [await freePort(), await freePort()];
    const first = await startTestHub({ dataDir });

    const saved = await first.api<NetworkView>('PATCH', '/api/settings/network', { uiPort, agentPort });
    await first.stop();
    const second = await startTestHub({ dataDir, uiPort: undefined, agentPort: undefined, uiHost: undefined });
    const view = await second.api<NetworkView>('GET', '/api/settings/network');

    expect(saved.status).toBe(200);
    expect(saved.body.stored).toEqual({ uiPort, agentPort, allowRemoteUi: false });
    expect(saved.body.effective.uiPort).toBe(first.uiPort);
    expect(second.uiPort).toBe(uiPort);
    expect(second.agentPort).toBe(agentPort);
    expect(view.body.effective).toEqual({ uiPort, agentPort, uiHost: '127.0.0.1', overridden: { uiPort: false, agentPort: false, uiHost: false } });
  });

  it('start options override stored ports', async () => {
    const hub = await startTestHub();

    await hub.api('PATCH', '/api/settings/network', { uiPort: 8100, agentPort: 8200 });
    const view = await hub.api<NetworkView>('GET', '/api/settings/network');

    expect(view.body.stored).toEqual({ uiPort: 8100, agentPort: 8200, allowRemoteUi: false });
    expect(view.body.effective).toEqual({ uiPort: hub.uiPort, agentPort: hub.agentPort, uiHost: '127.0.0.1', overridden: { uiPort: true, agentPort: true, uiHost: true } });
  });

  it.each([
    ['a port out of range', { uiPort: 70_000 }, 'uiPort'],
    ['a fractional port', { agentPort: 80.5 }, 'agentPort'],
    ['equal ports', { uiPort: 8100, agentPort: 8100 }, 'agentPort'],
    ['a host instead of the switch', { uiHost: '0.0.0.0' }, 'uiHost'],
  ])('rejects %s', async (_case, body, field) => {
    const hub = await startTestHub();

    const response = await hub.api<{ error: { field?: string } }>('PATCH', '/api/settings/network', body);

    expect(response.status).toBe(400);
    expect(response.body.error.field).toBe(field);
  });
});
