/**
 * The hub's last-alive time, kept in a small file beside the store so that,
 * after a stop, a crash or a sleep, the scheduler can find the fires it
 * missed. It is written every few seconds and at stop, so after a crash at
 * most that interval of missed fires goes unnoticed.
 */
import { readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from './logger.js';

const FILE = 'alive.json';

/** Reads the last time the previous hub process recorded itself alive; null on a first start. */
export function readLastAlive(dataDir: string): number | null {
  try {
    const parsed: unknown = JSON.parse(readFileSync(join(dataDir, FILE), 'utf8'));
    const at = (parsed as { at?: unknown } | null)?.at;
    return typeof at === 'number' && Number.isFinite(at) ? at : null;
  } catch {
    return null;
  }
}

export function startAliveMarker(dataDir: string, log: Logger, intervalMs = 5000): { stop(): Promise<void> } {
  const file = join(dataDir, FILE);
  const write = async () => {
    const temp = `${file}.${process.pid}.tmp`;
    await writeFile(temp, JSON.stringify({ at: Date.now() }));
    await rename(temp, file);
  };
  const beat = () => void write().catch((error: unknown) => log.warn({ err: error }, 'cannot record the hub as alive'));
  beat();
  const timer = setInterval(beat, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await write().catch((error: unknown) => log.warn({ err: error }, 'cannot record the hub as alive'));
    },
  };
}
