import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, createShellTask, startAgents, startTestHub, waitFor } from '../helpers/fleet.js';
import { segmentDataLines, storedOutputBytes } from '../store/helpers.js';

afterEach(cleanup);

/** The agent's per-run cap in this test, far below the default so the flood is short. */
const CAP_BYTES = 2 * 1024 * 1024;
/** The agent's marker line and the hub's own lines (assignment, end) come past the cap. */
const MARGIN_BYTES = 16 * 1024;

interface StoredLine {
  s: string;
  m: string;
}

/** Returns every log line stored in a data directory in order, unwrapping the agent events; the hub in this test has one run. */
async function storedLines(dataDir: string): Promise<StoredLine[]> {
  return (await segmentDataLines(dataDir)).flatMap((raw) => {
    const value = JSON.parse(raw) as { lines?: StoredLine[] } & StoredLine;
    return value.lines ?? [value];
  });
}

describe('run log cap', () => {
  it('bounds the stored log of yes', { timeout: 120_000 }, async () => {
    const hub = await startTestHub();
    await startAgents(hub, [{ name: 'flooded', env: { FARMBOY_MAX_RUN_LOG_BYTES: String(CAP_BYTES) } }]);
    // 1-byte lines, the case where the stored format costs most per byte of output.
    const { id: taskId } = await createShellTask(hub, 'yes | head -n 400000\n');

    const runId = (await hub.api<{ id: string }>('POST', `/api/tasks/${taskId}/runs`, {})).body.id;
    const run = await waitFor(() => hub.runs.get(runId)?.status === 'succeeded' && hub.runs.get(runId), 90_000, 'run succeeded');
    await hub.store.flush();
    const lines = await storedLines(hub.dataDir);
    const marker = lines.findIndex((line) => line.s === 'system' && line.m.startsWith('[log truncated'));

    expect(run.logTruncated).toBe(true);
    expect(await storedOutputBytes(hub.dataDir, runId, 'l')).toBeLessThanOrEqual(CAP_BYTES + MARGIN_BYTES);
    const output = lines.slice(0, marker).filter((line) => line.s !== 'system');
    expect(marker).toBeGreaterThan(0);
    expect(output.length).toBeGreaterThan(40_000);
    expect(output.every((line) => line.s === 'stdout' && line.m === 'y')).toBe(true);
    expect(lines.slice(marker + 1).filter((line) => line.s !== 'system')).toEqual([]);
  });
});
