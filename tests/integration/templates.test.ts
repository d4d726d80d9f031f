import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT, cleanup, startAgents, startTestHub, waitFor } from '../helpers/fleet.js';

afterEach(cleanup);

const TEMPLATES = join(ROOT, 'resources', 'templates');

function template(name: string): { name: string; runtime: string; source: string; defaultConfig: Record<string, unknown> } {
  const meta = JSON.parse(readFileSync(join(TEMPLATES, `${name}.json`), 'utf8')) as { name: string; runtime: string; source: string; defaultConfig: Record<string, unknown> };
  return { ...meta, source: readFileSync(join(TEMPLATES, meta.source), 'utf8') };
}

describe('shipped task templates', () => {
  it('collects datapoints over HTTP', async () => {
    const server = createServer((request, response) => {
      response.setHeader('content-type', 'application/json');
      const base = request.url === '/b' ? 10 : 0;
      response.end(JSON.stringify({ data: { items: [1, 2, 3].map((i) => ({ time: base + i, value: i * 1.5, noise: 'x' })) } }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const hub = await startTestHub();
    await startAgents(hub, [{ name: 'collector' }]);
    const { name, runtime, source, defaultConfig } = template('http-collector');
    const task = await hub.api<{ id: string }>('POST', '/api/tasks', { name, runtime, source, defaultConfig });

    const config = { urls: [`http://127.0.0.1:${port}/a`, `http://127.0.0.1:${port}/b`], itemsPath: 'data.items' };
    const runId = (await hub.api<{ id: string }>('POST', `/api/tasks/${task.body.id}/runs`, { config })).body.id;
    const run = await waitFor(() => {
      const current = hub.runs.get(runId);
      return current && !['queued', 'assigned', 'running'].includes(current.status) && current;
    }, 20_000, 'collector run final');
    server.close();
    const records = (await hub.api<string>('GET', `/api/runs/${runId}/records`)).body.split('\n').filter(Boolean).map((line) => JSON.parse(line) as unknown);

    expect(task.status).toBe(201);
    expect(run.status).toBe('succeeded');
    expect(run.result).toEqual({ urls: 2, datapoints: 6 });
    expect(run.progress?.percent).toBe(100);
    expect(records).toHaveLength(6);
    expect(records[3]).toEqual({ source: `http://127.0.0.1:${port}/b`, time: 11, value: 1.5 });
  });

  it('runs the shell template', async () => {
    const hub = await startTestHub();
    await startAgents(hub, [{ name: 'shell' }]);
    const { name, runtime, source, defaultConfig } = template('shell-script');
    const task = await hub.api<{ id: string }>('POST', '/api/tasks', { name, runtime, source, defaultConfig });

    const runId = (await hub.api<{ id: string }>('POST', `/api/tasks/${task.body.id}/runs`, {})).body.id;
    await waitFor(() => hub.runs.get(runId)?.status === 'succeeded', 20_000, 'shell template succeeded');

    expect(hub.runs.get(runId)?.result).toEqual({ items: 3 });
    expect(hub.runs.get(runId)?.recordCount).toBe(3);
  });
});
