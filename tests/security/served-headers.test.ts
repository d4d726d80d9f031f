import { copyFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT, cleanup, startTestHub, tempDir } from '../helpers/fleet.js';

afterEach(cleanup);

function directives(policy: string): Map<string, string> {
  return new Map(
    policy
      .split(';')
      .map((part) => part.trim().split(/\s+/))
      .map(([name = '', ...values]) => [name, values.join(' ')]),
  );
}

describe('headers served with the renderer', () => {
  it('sends the page policy as a header', async () => {
    const rendererDir = await tempDir('renderer');
    await copyFile(join(ROOT, 'renderer', 'index.html'), join(rendererDir, 'index.html'));
    const hub = await startTestHub({ rendererDir });
    const html = await readFile(join(ROOT, 'renderer', 'index.html'), 'utf8');
    const metaPolicy = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html)?.[1] ?? '';

    const response = await fetch(`${hub.uiUrl}/`);
    const header = directives(response.headers.get('content-security-policy') ?? '');

    expect(response.status).toBe(200);
    for (const [name, value] of directives(metaPolicy)) expect(header.get(name), name).toBe(value);
    expect(header.get('frame-ancestors')).toBe("'none'");
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('keeps API replies out of caches', async () => {
    const hub = await startTestHub();

    const response = await fetch(`${hub.uiUrl}/api/health`, { headers: { authorization: `Bearer ${hub.adminToken}` } });

    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('content-security-policy')).toBeNull();
  });
});
