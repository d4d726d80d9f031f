import { readFileSync } from 'node:fs';
import { z } from 'zod';

const packageSchema = z.object({ name: z.string(), version: z.string() });

/**
 * Reads the agent's own package.json, which sits one folder above `src/`,
 * `dist/` and `bundle/`, so the version reported to the hub is the published one.
 */
function readPackage(): z.infer<typeof packageSchema> {
  const text = readFileSync(new URL('../package.json', import.meta.url), 'utf8');
  return packageSchema.parse(JSON.parse(text));
}

export const AGENT_VERSION: string = readPackage().version;
