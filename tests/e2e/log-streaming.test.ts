import type { WebSocket } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { Run, StoredLogLine } from '../../electron/hub/model.js';
import { createShellTask, startAgents, waitFor, type TestHub } from '../helpers/fleet.js';
import { goToRoute, openUi, startUiHub, useBrowser } from './browser.js';

const RUNS = 50;
const LINES_PER_RUN = 10_000;
/** About 1,000 lines a second per run: bursts of 100, then a pause of 100 ms. */
const WRITER = `i=1; while [ $i -le ${LINES_PER_RUN} ]; do echo "line $i"; i=$((i+1)); if [ $((i % 100)) -eq 0 ]; then sleep 0.1; fi; done`;

const browser = useBrowser();

/** Counts the `log` pushes a page receives over its /ui socket. */
function countLogPushes(socket: WebSocket, counter: { pushes: number }): void {
  socket.on('framereceived', (frame) => {
    if (typeof frame.payload === 'string' && frame.payload.startsWith('42/ui,["log"')) counter.pushes += 1;
  });
}

async function storedLineCount(hub: TestHub, runId: string): Promise<number> {
  const lines: StoredLogLine[] = [];
  for await (const line of hub.service.readLog(runId)) lines.push(line);
  return lines.length;
}

describe('logs of many runs at once', () => {
  it('stays responsive with 50 streaming runs', { timeout: 240_000 }, async () => {
    const hub = await startUiHub();
    const task = await createShellTask(hub, WRITER, 'streamer');
    const logs = await openUi(browser(), hub, 'light', '/logs');
    const follower = { pushes: 0 };
    logs.page.on('websocket', (socket) => countLogPushes(socket, follower));
    // The Logs page's socket opened before the listener; a reload gives it a counted one.
    await logs.page.reload();
    await logs.page.getByRole('log', { name: 'Log lines' }).waitFor();
    const watcher = await openUi(browser(), hub, 'light', '/runs');

    // The runs wait for agents, so the run page watches its run before the first line.
    const runs: Run[] = [];
    for (let index = 0; index < RUNS; index += 1) runs.push((await hub.api<Run>('POST', `/api/tasks/${task.id}/runs`, {})).body);
    const watched = runs[0] as Run;
    await goToRoute(watcher.page, `/runs/${watched.id}`);
    await watcher.page.getByText('No output yet.').waitFor();
    await startAgents(hub, [{ name: 'left', slots: RUNS / 2 }, { name: 'right', slots: RUNS / 2 }]);
    await waitFor(() => hub.runs.activeRuns().filter((run) => run.status === 'running').length >= RUNS / 2, 60_000, 'runs streaming');
    const search = logs.page.getByRole('textbox', { name: 'Search the log' });
    await search.fill('line 4000');
    await logs.page.getByTestId('log-count').filter({ hasText: / of / }).waitFor();
    const stillRunning = hub.runs.activeRuns().filter((run) => run.status === 'running').length;
    await waitFor(() => runs.every((run) => hub.runs.get(run.id)?.status === 'succeeded'), 180_000, 'every run succeeded');
    const stored = await storedLineCount(hub, watched.id);
    const watchedCount = watcher.page.getByTestId('log-count');
    await waitFor(async () => (await watchedCount.textContent()) === `${stored} lines`, 30_000, 'the watched log complete');

    expect(stillRunning).toBeGreaterThan(0);
    expect(await search.inputValue()).toBe('line 4000');
    expect(follower.pushes).toBeGreaterThan(RUNS);
    expect(stored).toBeGreaterThan(LINES_PER_RUN);
    expect(await watchedCount.textContent()).toBe(`${stored} lines`);
    expect(logs.errors).toEqual([]);
    expect(watcher.errors).toEqual([]);
  });
});
