import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { Run, RunStatus } from '../../electron/hub/model.js';
import { readDesktopPrefs, writeDesktopPrefs } from '../../electron/main/desktop-prefs.js';
import { quitQuestion, RunWatch, failureNotice, trayTooltip } from '../../electron/main/run-watch.js';

function run(id: string, status: RunStatus, patch: Partial<Run> = {}): Run {
  // Only the fields the watcher reads.
  return { id, status, jobName: 'Greenhouse', attempt: 1, maxAttempts: 3, error: null, exitCode: null, timeoutSec: 60, ...patch } as Run;
}

describe('desktop run watch', () => {
  it('counts active runs for the tray', () => {
    const counts: number[] = [];
    const watch = new RunWatch({ onActiveCount: (count) => counts.push(count), onFailure: () => undefined });

    watch.start([run('a', 'running')]);
    watch.update(run('b', 'queued'));
    watch.update(run('b', 'running'));
    watch.update(run('a', 'succeeded'));
    watch.update(run('b', 'cancelled'));

    expect(counts).toEqual([1, 2, 1, 0]);
  });

  it('notifies each bad ending once', () => {
    const onFailure = vi.fn();
    const watch = new RunWatch({ onActiveCount: () => undefined, onFailure });

    watch.update(run('a', 'failed', { exitCode: 3 }));
    watch.update(run('a', 'failed', { exitCode: 3 }));
    watch.update(run('b', 'cancelled'));
    watch.update(run('c', 'succeeded'));

    expect(onFailure).toHaveBeenCalledTimes(1);
    expect(onFailure).toHaveBeenCalledWith({ runId: 'a', title: 'Greenhouse failed', body: 'Attempt 1 of 3 exited with code 3.' });
  });

  it.each<[RunStatus, Partial<Run>, string | null]>([
    ['failed', { error: 'task threw: boom' }, 'Attempt 1 of 3 task threw: boom.'],
    ['timed_out', {}, 'Attempt 1 of 3 timed out after 60 s.'],
    ['lost', {}, 'Attempt 1 of 3 was lost with its agent.'],
    ['cancelled', {}, null],
    ['succeeded', {}, null],
  ])('describes a %s run', (status, patch, body) => {
    expect(failureNotice(run('a', status, patch))?.body ?? null).toBe(body);
  });

  it.each([
    [0, 'Farmboy: no runs active', null],
    [1, 'Farmboy: 1 run active', 'Quit Farmboy while 1 run is active?'],
    [5, 'Farmboy: 5 runs active', 'Quit Farmboy while 5 runs are active?'],
  ])('words %i active runs', (active, tooltip, question) => {
    expect(trayTooltip(active)).toBe(tooltip);
    expect(quitQuestion(active)?.message ?? null).toBe(question);
  });
});

describe('desktop preferences', () => {
  it.each([
    ['a missing file', null],
    ['broken JSON', '{'],
    ['a wrong type', '{"closeNoticeShown": "yes"}'],
  ])('reads defaults from %s', async (_name, content) => {
    const dir = await mkdtemp(join(tmpdir(), 'farmboy-prefs-'));
    const file = join(dir, 'desktop-prefs.json');
    if (content !== null) await writeFile(file, content);

    const prefs = await readDesktopPrefs(file);
    await rm(dir, { recursive: true, force: true });

    expect(prefs).toEqual({ closeNoticeShown: false });
  });

  it('keeps the notice flag', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'farmboy-prefs-'));
    const file = join(dir, 'desktop-prefs.json');

    await writeDesktopPrefs(file, { closeNoticeShown: true });
    const prefs = await readDesktopPrefs(file);
    const text = await readFile(file, 'utf8');
    await rm(dir, { recursive: true, force: true });

    expect(prefs).toEqual({ closeNoticeShown: true });
    expect(JSON.parse(text)).toEqual({ closeNoticeShown: true });
  });
});
