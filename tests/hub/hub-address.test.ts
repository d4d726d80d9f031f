import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { reachableHost } from '../../electron/hub/enrollment.js';
import { HUB_ADDRESS_FILE, readHubAddress } from '../../electron/hub/hub-address.js';
import { cleanup, startTestHub } from '../helpers/fleet.js';

afterEach(cleanup);

describe('recorded hub address', () => {
  it('names the running API', async () => {
    const hub = await startTestHub();

    const address = await readHubAddress(hub.dataDir);
    const health = await fetch(`${address?.url}/api/health`, { headers: { authorization: `Bearer ${hub.adminToken}` } });

    expect(address?.pid).toBe(process.pid);
    expect(health.status).toBe(200);
  });

  it('goes away when the hub stops', async () => {
    const hub = await startTestHub();

    await hub.stop();

    expect(existsSync(join(hub.dataDir, HUB_ADDRESS_FILE))).toBe(false);
  });
});

describe('reachable host', () => {
  it('keeps a bound address and brackets an IPv6 one', () => {
    expect(reachableHost('127.0.0.1')).toBe('127.0.0.1');
    expect(reachableHost('192.168.1.20')).toBe('192.168.1.20');
    expect(reachableHost('::1')).toBe('[::1]');
  });

  it('replaces a wildcard bind with an address or name other machines can use', () => {
    for (const wildcard of ['0.0.0.0', '::', undefined]) {
      const host = reachableHost(wildcard);
      expect(host).not.toBe('0.0.0.0');
      expect(host).not.toBe('::');
      expect(host.length).toBeGreaterThan(0);
    }
  });
});
