/**
 * The UI in headless Chromium. The runs page over a history of 100,000 runs
 * is timed until its first page of rows shows. The log viewer, once it
 * contains the 1,000,000 lines of a flood run, is scrolled under a
 * performance trace of the page's main thread.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startAgentProcesses } from '../lib/agents.js';
import { ROOT } from '../lib/build.js';
import { waitUntil, type Benchmark, type BenchContext } from '../lib/context.js';
import { buildHistory } from '../lib/history.js';
import { createTask, runTask, startHubProcess, type HubProcess } from '../lib/hub.js';
import { median, nowMs, summarize } from '../lib/stats.js';
import { traceWhile } from '../lib/trace.js';

const RENDERER_DIR = path.join(ROOT, 'out', 'renderer');
const CHROMIUM = process.env.FARMBOY_CHROMIUM ?? '/usr/bin/chromium';
/** One frame at 60 Hz. */
const FRAME_MS = 16;

async function launch(context: BenchContext): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}; install Debian's chromium package or set FARMBOY_CHROMIUM`);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  context.defer(() => browser.close());
  return browser;
}

/** Times switching to the runs page until its first row shows, `count` times, in ms. */
async function runsPageTimes(page: Page, count: number): Promise<number[]> {
  const times: number[] = [];
  for (let index = 0; index < count; index += 1) {
    await page.evaluate("window.location.hash = '#/jobs'");
    await page.getByRole('heading', { name: 'Jobs' }).first().waitFor();
    const started = nowMs();
    await page.evaluate("window.location.hash = '#/runs'");
    await page.locator('tr[data-run]').first().waitFor();
    times.push(nowMs() - started);
  }
  return times;
}

/** Reads the number of lines in the log viewer from its counter. */
async function viewerLines(page: Page): Promise<number> {
  const text = (await page.getByTestId('log-count').textContent()) ?? '';
  return Number(/([\d,]+) lines/.exec(text)?.[1]?.replace(/,/g, '') ?? 0);
}

/** Scrolls the log up by a screenful less a little each frame, then from the middle, and returns the animation frame intervals in ms. */
const SCROLL_SCRIPT = `(async () => {
  const log = document.querySelector('[role="log"]');
  const intervals = [];
  let last = performance.now();
  const frame = () => new Promise((resolve) => requestAnimationFrame(() => resolve(undefined)));
  for (let step = 0; step < 300; step += 1) {
    if (step === 150) log.scrollTop = log.scrollHeight / 2;
    else log.scrollTop -= log.clientHeight * 0.8;
    await frame();
    const now = performance.now();
    intervals.push(now - last);
    last = now;
  }
  return intervals;
})()`;

async function floodIntoViewer(context: BenchContext, hub: HubProcess, page: Page, lines: number): Promise<void> {
  await startAgentProcesses(context, hub, [{ name: 'ui-flood', slots: 1 }]);
  // The page gets a run's last 5,000 lines when it starts watching, and every line after that.
  // The pause lets it start watching before the task writes, so the viewer ends up with all of them.
  const script = `sleep 2\nawk 'BEGIN { for (i = 1; i <= ${lines}; i++) printf "%08d %070d\\n", i, 0 }'\n`;
  const taskId = await createTask(hub, 'shell', script);
  const runId = await runTask(hub, taskId);
  await page.evaluate(`window.location.hash = ${JSON.stringify(`#/runs/${runId}`)}`);
  await page.getByTestId('log-count').waitFor();
  await waitUntil(async () => (await viewerLines(page)) >= lines, 600_000, `the log viewer to hold ${lines} lines`, 500);
}

export const uiBenchmark: Benchmark = {
  name: 'ui',
  title: 'UI in headless Chromium: runs page over 100,000 runs, log viewer holding 1,000,000 lines',
  async run(context) {
    if (!existsSync(path.join(RENDERER_DIR, 'index.html'))) throw new Error('out/renderer is missing; build the UI with npm run build:app');
    const runs = context.quick ? 2_000 : 100_000;
    const lines = context.quick ? 20_000 : 1_000_000;
    const dataDir = path.join(await context.tempDir('ui-history'), 'data');
    await buildHistory(dataDir, runs, () => undefined);
    const hub = await startHubProcess(context, { dataDir, rendererDir: RENDERER_DIR, readyTimeoutMs: 120_000 });
    const browser = await launch(context);
    const page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
    await page.goto(`${hub.uiUrl}/#token=${hub.adminToken}`);
    await page.getByRole('navigation', { name: 'Pages' }).waitFor({ timeout: 60_000 });

    const firstPage = summarize(await runsPageTimes(page, context.quick ? 3 : 10));
    await floodIntoViewer(context, hub, page, lines);
    const viewerLineCount = await viewerLines(page);
    context.log(`log viewer holds ${viewerLineCount} lines`);
    let intervals: number[] = [];
    const trace = await traceWhile(page, async () => {
      intervals = (await page.evaluate(SCROLL_SCRIPT)) as number[];
    });
    const frames = summarize(trace.framesMs);

    return {
      figures: [
        { key: 'runs-page.first-page', label: `runs page over ${runs.toLocaleString('en-US')} runs until its first row shows (median)`, unit: 'ms', value: firstPage.p50, budget: { op: '<=', value: 1_000 }, summary: firstPage },
        {
          key: 'log-viewer.frame-p95',
          label: `log viewer holding ${viewerLineCount.toLocaleString('en-US')} lines, main-thread work per scroll frame (trace), p95`,
          unit: 'ms',
          value: frames.p95,
          budget: { op: '<=', value: FRAME_MS },
          summary: frames,
          note: `animation frame interval while scrolling: p50 ${median(intervals).toFixed(1)} ms, p95 ${summarize(intervals).p95.toFixed(1)} ms (60 Hz is 16.7 ms)`,
        },
      ],
      details: { runs, lines: viewerLineCount, frameIntervalsMs: summarize(intervals), framesOver16ms: trace.framesMs.filter((ms) => ms > FRAME_MS).length },
    };
  },
};
