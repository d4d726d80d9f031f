import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
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
