/**
 * HTTP collector: fetches JSON from one or more URLs and emits one record
 * per datapoint, keeping only the configured fields.
 *
 * Config:
 *   urls     URLs to fetch, each returning a JSON array or an object
 *            whose `itemsPath` holds the array
 *   itemsPath  dotted path to the array in the response ("" for the root)
 *   fields   fields to keep from each item (all when empty)
 *   timeoutMs  per-request timeout
 */
import type { TaskContext } from 'farmboy-agent/task';

type Config = {
  urls: string[];
  itemsPath: string;
  fields: string[];
  timeoutMs: number;
};

function pick(item: unknown, path: string): unknown {
  let value = item;
  for (const key of path.split('.').filter(Boolean)) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

export default async function collect(ctx: TaskContext<Config>) {
  const { urls, itemsPath, fields, timeoutMs } = ctx.config;
  let emitted = 0;
  for (const [index, url] of urls.entries()) {
    ctx.progress((index / urls.length) * 100, `fetching ${url}`);
    const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(timeoutMs)]);
    const response = await fetch(url, { signal, headers: { accept: 'application/json' } });
    if (!response.ok) throw new Error(`${url} responded with ${response.status} ${response.statusText}`);
    const items = pick(await response.json(), itemsPath);
    if (!Array.isArray(items)) throw new Error(`${url}: no array at "${itemsPath}" in the response`);
    for (const item of items) {
      const record = fields.length === 0 ? item : Object.fromEntries(fields.map((field) => [field, pick(item, field) ?? null]));
      ctx.emit({ source: url, ...record });
      emitted += 1;
    }
    ctx.log.info(`${url}: ${items.length} datapoints`);
  }
  ctx.progress(100, 'done');
  return { urls: urls.length, datapoints: emitted };
}
