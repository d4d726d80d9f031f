/**
 * Task templates shipped in resources/templates: one JSON file per template
 * naming its source file beside it. Read on each request, because the
 * folder is small and a user may add templates while the hub runs.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { jsonObject, runtimeSchema, type Json, type Runtime } from 'farmboy-agent/protocol';
import type { Logger } from './logger.js';

export interface TaskTemplate {
  /** File name without `.json`; stable across versions. */
  id: string;
  name: string;
  runtime: Runtime;
  description: string;
  source: string;
  defaultConfig: Record<string, Json>;
}

const templateFileSchema = z.object({
  name: z.string().min(1).max(200),
  runtime: runtimeSchema,
  description: z.string().max(2000).default(''),
  source: z.string().regex(/^[\w.-]+$/, 'must be a file name beside the template'),
  defaultConfig: jsonObject.default({}),
});

/** resources/templates of the checkout; both the hub source and its bundles sit two folders below the root. */
export const DEFAULT_TEMPLATES_DIR = fileURLToPath(new URL('../../resources/templates/', import.meta.url));

/** Lists the templates of `dir` sorted by name. Unreadable or invalid ones are logged and left out. */
export async function listTemplates(dir: string, log: Logger): Promise<TaskTemplate[]> {
  let files: string[];
  try {
    files = (await readdir(dir)).filter((file) => file.endsWith('.json'));
  } catch (error) {
    log.warn({ err: error, dir }, 'task templates folder unreadable');
    return [];
  }
  const templates: TaskTemplate[] = [];
  for (const file of files) {
    try {
      const meta = templateFileSchema.parse(JSON.parse(await readFile(join(dir, file), 'utf8')));
      const source = await readFile(join(dir, meta.source), 'utf8');
      templates.push({ id: file.slice(0, -'.json'.length), ...meta, source });
    } catch (error) {
      log.warn({ err: error, file }, 'task template skipped');
    }
  }
  return templates.sort((a, b) => a.name.localeCompare(b.name));
}
