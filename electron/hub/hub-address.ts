/**
 * The address a running hub serves its API at, kept in its data directory
 * while it runs, so a command started beside it (`farmboy-hub
 * rotate-certificate`) finds it whether the headless command or the
 * desktop app started it, and on whatever port.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { Logger } from './logger.js';

export const HUB_ADDRESS_FILE = 'hub-address.json';

const hubAddressSchema = z.object({ pid: z.number().int(), url: z.string().url() });
export type HubAddress = z.infer<typeof hubAddressSchema>;

/** Records this process's API address; a failure is logged, since only the helper commands need the file. */
export async function recordHubAddress(dataDir: string, url: string, log: Logger): Promise<void> {
  const file = join(dataDir, HUB_ADDRESS_FILE);
  const address: HubAddress = { pid: process.pid, url };
  await writeFile(file, JSON.stringify(address) + '\n').catch((error: unknown) => log.warn({ err: error, file }, 'hub address not recorded'));
}

export async function forgetHubAddress(dataDir: string): Promise<void> {
  await rm(join(dataDir, HUB_ADDRESS_FILE), { force: true });
}

/** Reads the recorded address; null when there is none or it cannot be read. */
export async function readHubAddress(dataDir: string): Promise<HubAddress | null> {
  try {
    return hubAddressSchema.parse(JSON.parse(await readFile(join(dataDir, HUB_ADDRESS_FILE), 'utf8')));
  } catch {
    return null;
  }
}
