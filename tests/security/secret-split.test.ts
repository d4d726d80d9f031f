import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MIN_DANGLING_CHARS, lineForms, maskLineRun, maskText, sortSecrets } from 'farmboy-agent/protocol';
import { OutputMasker, RUN_SECRETS_FILE } from '../../electron/hub/secrets.js';
import { cleanup, createJob, createShellTask, startAgents, startTestHub, waitFor, type TestHub } from '../helpers/fleet.js';
import { connectRawAgent, type RawAgent } from './helpers.js';

afterEach(cleanup);

const SECRET = 'sup3r-s3cret-v4lue-42';
/** Pieces of SECRET, each shorter or longer than what the hub masks on its own at the end of a batch. */
const PIECES = ['su', 'p3r-s3c', 're', 't-v4lue-42'];
const MULTILINE_SECRET = 'first-line-alpha\nsecond-line-beta\nthird-line-gamma';

/** Collects the lines the hub pushes live and the run log it stores. */
function watchLive(hub: TestHub): () => string {
  const live: string[] = [];
  hub.runs.on('log', (_runId: string, lines: Array<{ m: string }>) => live.push(...lines.map((line) => line.m)));
  return () => live.join('\n');
}

function expectMasked(text: string, fragments: string[]): void {
  for (const fragment of fragments) expect(text, `fragment ${JSON.stringify(fragment)}`).not.toContain(fragment);
}

async function storedLog(hub: TestHub, runId: string): Promise<string> {
  return (await hub.api<string>('GET', `/api/runs/${runId}/log`)).body;
}

describe('secret printed in pieces by a task', () => {
  it('is masked over four flushed lines', { timeout: 60_000 }, async () => {
    const hub = await startTestHub();
    const live = watchLive(hub);
    await startAgents(hub, [{ name: 'runner' }]);
    const source = [...PIECES.map((piece) => `printf '%s\\n' '${piece}'; sleep 0.4`), "echo 'after the secret'"].join('\n');
    const task = await createShellTask(hub, source);
    const job = await createJob(hub, { name: 'pieces', taskId: task.id, env: { API_KEY: SECRET }, secretEnv: ['API_KEY'] });

    const runId = (await hub.api<{ id: string }>('POST', `/api/jobs/${job.id}/runs`)).body.id;
    await waitFor(() => hub.runs.get(runId)?.status === 'succeeded', 30_000, 'run succeeded');
    const stored = await storedLog(hub, runId);

    expect(stored).toContain('***');
    expect(stored).toContain('after the secret');
    expectMasked(stored, ['su\n', 'p3r', 're\n', 't-v4lue-42']);
    expectMasked(live(), ['p3r', 't-v4lue-42']);
    expect(live().split('\n')).not.toContain('su');
  });

  it('is masked when the value spans lines', { timeout: 60_000 }, async () => {
    const hub = await startTestHub();
    const live = watchLive(hub);
    await startAgents(hub, [{ name: 'runner' }]);
    const task = await createShellTask(hub, 'printf "%s\\n" "$PEM"; echo done');
    const job = await createJob(hub, { name: 'pem', taskId: task.id, env: { PEM: MULTILINE_SECRET }, secretEnv: ['PEM'] });

    const runId = (await hub.api<{ id: string }>('POST', `/api/jobs/${job.id}/runs`)).body.id;
    await waitFor(() => hub.runs.get(runId)?.status === 'succeeded', 30_000, 'run succeeded');
    const stored = await storedLog(hub, runId);

    expect(stored).toContain('done');
    expectMasked(stored, MULTILINE_SECRET.split('\n'));
    expectMasked(live(), MULTILINE_SECRET.split('\n'));
  });
});

/** Sends each group of lines as its own batch, the way an agent that does not mask would. */
async function sendBatches(agent: RawAgent, run: { runId: string; attempt: number }, groups: string[][], firstSeq: number): Promise<number> {
  let seq = firstSeq;
  for (const lines of groups) {
    const event = { ...run, seq, at: Date.now(), type: 'log', lines: lines.map((m) => ({ t: Date.now(), s: 'stdout', m })) };
    await agent.socket.timeout(8_000).emitWithAck('events', { events: [event] });
    seq += 1;
  }
  return seq;
}

async function assignedRun(hub: TestHub, agent: RawAgent, tag: string): Promise<{ runId: string; attempt: number }> {
  const assigned = new Promise<{ runId: string; attempt: number }>((resolve) => agent.socket.once('assign', (assignment: { runId: string; attempt: number }) => resolve(assignment)));
  const task = await createShellTask(hub, 'true');
  const job = await createJob(hub, { name: 'raw', taskId: task.id, tags: [tag], env: { API_KEY: SECRET }, secretEnv: ['API_KEY'] });
  await hub.api('POST', `/api/jobs/${job.id}/runs`);
  const { runId, attempt } = await assigned;
  await agent.socket.timeout(8_000).emitWithAck('events', { events: [{ runId, attempt, seq: 1, at: Date.now(), type: 'started', pid: null }] });
  return { runId, attempt };
}

describe('hub masking of unmasked batches', () => {
  it('masks a secret over three batches', async () => {
    const hub = await startTestHub();
    const live = watchLive(hub);
    const agent = await connectRawAgent(hub, 'raw', null, [], ['raw']);
    const run = await assignedRun(hub, agent, 'raw');

    await sendBatches(agent, run, [['key: sup3r'], ['-s3cret-'], ['v4lue-42 end']], 2);
    await waitFor(async () => (await storedLog(hub, run.runId)).includes('end'), 10_000, 'lines stored');
    const stored = await storedLog(hub, run.runId);

    expect(stored).toContain('key: ***');
    expect(stored).toContain('*** end');
    expectMasked(stored, ['sup3r', 's3cret', 'v4lue']);
    expectMasked(live(), ['sup3r', 's3cret', 'v4lue']);
  });

  it('masks runs that outlive a restart', { timeout: 60_000 }, async () => {
    const hub = await startTestHub();
    const first = await connectRawAgent(hub, 'raw', null, [], ['raw']);
    const run = await assignedRun(hub, first, 'raw');
    await hub.stop();

    const again = await startTestHub({ dataDir: hub.dataDir });
    const live = watchLive(again);
    const agent = await connectRawAgent(again, 'raw', first.credential, [run], ['raw']);
    await sendBatches(agent, run, [[`whole ${SECRET}`], ['split sup3r-s3'], ['cret-v4lue-42 end']], 2);
    await waitFor(async () => (await storedLog(again, run.runId)).includes('end'), 10_000, 'lines stored');
    const stored = await storedLog(again, run.runId);

    expect(stored).toContain('whole ***');
    expectMasked(stored, [SECRET, 'sup3r', 'cret-v4lue']);
    expectMasked(live(), [SECRET, 'sup3r', 'cret-v4lue']);
  });
});

describe('kept run secrets', () => {
  it('are sealed and dropped when finished', async () => {
    const hub = await startTestHub();
    const agent = await connectRawAgent(hub, 'raw', null, [], ['raw']);
    const run = await assignedRun(hub, agent, 'raw');
    const file = join(hub.dataDir, RUN_SECRETS_FILE);
    const whileRunning = await readFile(file, 'utf8');

    const finished = { ...run, seq: 2, at: Date.now(), type: 'finished', status: 'succeeded', exitCode: 0, signal: null, error: null, result: null, logTruncated: false };
    await agent.socket.timeout(8_000).emitWithAck('events', { events: [finished] });
    await waitFor(() => hub.runs.get(run.runId)?.status === 'succeeded', 10_000, 'run finished');
    const afterwards = await readFile(file, 'utf8');

    expect(whileRunning).toContain(run.runId);
    expect(whileRunning).toContain('enc:v1:');
    expect(whileRunning).not.toContain(SECRET);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(afterwards).not.toContain(run.runId);
  });
});

describe('maskLineRun', () => {
  const forms = lineForms([SECRET]);
  const mask = (context: string, lines: string[], minDangling = MIN_DANGLING_CHARS) =>
    maskLineRun(context, lines.map((line) => maskText(line, sortSecrets([SECRET]))), forms, minDangling);

  it.each<[string, string, string[], string[]]>([
    ['whole secret in one line', '', [`a ${SECRET} b`], ['a *** b']],
    ['two lines', '', ['x sup3r-s3', 'cret-v4lue-42 y'], ['x ***', '*** y']],
    ['four lines', '', ['su', 'p3r-s3c', 're', 't-v4lue-42'], ['***', '***', '***', '***']],
    ['completing the context', 'sup3r', ['-s3cret-v4lue-42 z'], ['*** z']],
    ['a long dangling start', '', ['text sup3r-'], ['text ***']],
    ['a short dangling start kept', '', ['text sup'], ['text sup']],
    ['unrelated lines untouched', 'abc', ['hello', 'world'], ['hello', 'world']],
  ])('masks %s', (_case, context, lines, expected) => {
    const masked = mask(context, lines);

    expect(masked.lines).toEqual(expected);
  });

  it('carries the raw end as context', () => {
    const masked = mask('', ['0123456789', 'abcdefghijklmnopqrstuvwxyz']);

    expect(masked.context).toBe('abcdefghijklmnopqrstuvwxyz'.slice(-(SECRET.length - 1)));
  });
});

describe('OutputMasker', () => {
  it('forgets a run when it finishes', () => {
    const masker = new OutputMasker();
    const base = { runId: 'run-1', attempt: 1, at: 0 };
    const log = (seq: number, m: string) => ({ ...base, seq, type: 'log' as const, lines: [{ t: 0, s: 'stdout' as const, m }] });
    masker.maskEvent(log(1, 'sup3r-s3c'), [SECRET]);
    masker.maskEvent({ ...base, seq: 2, type: 'finished', status: 'succeeded', exitCode: 0, signal: null, error: null, result: null, logTruncated: false }, [SECRET]);

    const next = masker.maskEvent(log(3, 'ret-v4lue-42'), [SECRET]);

    expect(next.type).toBe('log');
    expect(next.type === 'log' ? next.lines[0]?.m : null).toBe('ret-v4lue-42');
  });
});
