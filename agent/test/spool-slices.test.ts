import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunEvent } from '../src/protocol/index.js';
import { Spool } from '../src/spool.js';
import { makeTempDir, removeDir } from './helpers.js';

const silent = pino({ level: 'silent' });

/** Returns a log event of about 200 KB, so 40 of them make a backlog of several write slices. */
function bigEvent(seq: number): RunEvent {
  const lines = Array.from({ length: 100 }, (_, index) => ({ t: 1, s: 'stdout' as const, m: `${seq}:${index} `.padEnd(2_000, 'x') }));
  return { runId: 'run-a', attempt: 1, seq, at: 1, type: 'log', lines };
}

describe('spool writes', () => {
  let dataDir: string;

  beforeEach(async () => {
    dataDir = await makeTempDir();
  });

  afterEach(async () => {
    await removeDir(dataDir);
  });

  it('writes a backlog in slices', async () => {
    const { spool } = await Spool.open({ dir: `${dataDir}/outbox`, log: silent, maxSegmentBytes: 64 * 1024 * 1024 });
    const events = Array.from({ length: 40 }, (_, index) => bigEvent(index + 1));

    // Appended in one turn, so all but the first wait in the queue while the first is written.
    const refs = await Promise.all(events.map((event) => spool.append([Buffer.from(JSON.stringify(event))])));
    const read = await Promise.all(refs.map(async ([ref]) => (ref === undefined ? undefined : JSON.parse((await spool.read(ref)).toString()))));
    await spool.close();

    expect(refs.every((list) => list.length === 1)).toBe(true);
    expect(read).toEqual(events);
    expect(new Set(refs.map(([ref]) => ref?.offset)).size).toBe(events.length);
    const reopened = await Spool.open({ dir: `${dataDir}/outbox`, log: silent });
    expect(reopened.recovered.map((event) => event.seq)).toEqual(events.map((event) => event.seq));
    await reopened.spool.close();
  });
});
