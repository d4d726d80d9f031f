import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connectHint } from '../src/connection.js';
import { PROTOCOL_VERSION, type AssignReply, type Assignment } from '../src/protocol/index.js';
import { FakeHub, startAgent, until, type AgentProcess } from './fake-hub.js';
import { makeAssignment, makeTempDir, removeDir } from './helpers.js';

const TOKEN = 'test-token';

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function assign(hub: FakeHub, assignment: unknown): Promise<AssignReply> {
  if (hub.socket === null) throw new Error('no agent connected');
  return (await hub.socket.timeout(5_000).emitWithAck('assign', assignment as Assignment)) as AssignReply;
}

/** Stops the agent with SIGTERM, so it also ends its runs; SIGKILL only if it hangs. */
async function stopAgent(running: AgentProcess): Promise<void> {
  if (running.child.exitCode !== null || running.child.signalCode !== null) return;
  running.child.kill('SIGTERM');
  const timer = setTimeout(() => running.child.kill('SIGKILL'), 10_000);
  await running.exited;
  clearTimeout(timer);
}

function finishedOf(hub: FakeHub, runId: string) {
  return hub.appliedEvents(runId).find((event) => event.type === 'finished');
}

describe('agent connection', () => {
  let dataDir = '';
  let hub: FakeHub | null = null;
  let agent: AgentProcess | null = null;

  beforeEach(async () => {
    dataDir = await makeTempDir();
  });

  afterEach(async () => {
    if (agent !== null) await stopAgent(agent);
    agent = null;
    await hub?.close();
    hub = null;
    await removeDir(dataDir);
  });

  function launch(url: string, extraArgs: string[] = [], env: NodeJS.ProcessEnv = {}): AgentProcess {
    agent = startAgent(['--hub', url, '--insecure', '--token', TOKEN, '--data-dir', dataDir, '--slots', '2', '--tags', 'linux,lab', '--log-level', 'debug', ...extraArgs], env);
    return agent;
  }

  it('runs an assignment end to end', async () => {
    hub = await FakeHub.start();
    const running = launch(hub.url);
    await until(() => hub?.hellos.length === 1, 10_000, 'hello');
    const assignment = makeAssignment('shell', 'echo working; echo \'::record {"n":1}\'; echo \'::result {"ok":true}\'');

    const reply = await assign(hub, assignment);
    await until(() => finishedOf(hub!, assignment.runId) !== undefined, 10_000, 'finished event');

    expect(reply).toEqual({ accepted: true });
    expect(hub.auths[0]).toMatchObject({ protocolVersion: PROTOCOL_VERSION, token: TOKEN, version: '0.1.0' });
    expect(hub.hellos[0]).toMatchObject({ slots: 2, tags: ['linux', 'lab'], maxLoad: null, runs: [] });
    const events = hub.appliedEvents(assignment.runId);
    expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index + 1));
    expect(events.map((event) => event.type)).toEqual(['started', 'log', 'records', 'finished']);
    expect(finishedOf(hub, assignment.runId)).toMatchObject({ status: 'succeeded', exitCode: 0, result: { ok: true } });
    await until(() => hub!.loads.length >= 2, 5_000, 'load reports');
    expect(hub.loads[0]).toMatchObject({ running: expect.any(Number), freeMemoryBytes: expect.any(Number) });
    expect(running.stderr()).not.toContain(TOKEN);
  });

  it('sends large batches as bytes', async () => {
    hub = await FakeHub.start();
    launch(hub.url);
    await until(() => hub?.hellos.length === 1, 10_000, 'hello');
    // About 2.4 MB of lines as JSON, so the outbox fills batches far above the size sent as bytes.
    const assignment = makeAssignment('shell', 'seq 1 40000 | sed "s/$/ padding the line/"');

    await assign(hub, assignment);
    await until(() => finishedOf(hub!, assignment.runId) !== undefined, 10_000, 'finished event');
    const lines = hub.appliedEvents(assignment.runId).flatMap((event) => (event.type === 'log' ? event.lines : []));

    expect(lines).toHaveLength(40_000);
    expect(hub.payloads.some((payload) => payload.binary)).toBe(true);
    expect(hub.payloads[0]?.binary).toBe(false);
  });

  it('runs a node task', async () => {
    hub = await FakeHub.start();
    launch(hub.url);
    await until(() => hub?.hellos.length === 1, 10_000, 'hello');
    const assignment = makeAssignment('node', 'export default (ctx) => { ctx.emit({ city: ctx.config.city }); return 42; };', {
      config: { city: 'Oslo' },
    });

    await assign(hub, assignment);
    await until(() => finishedOf(hub!, assignment.runId) !== undefined, 10_000, 'finished event');

    const records = hub.appliedEvents(assignment.runId).flatMap((event) => (event.type === 'records' ? event.records : []));
    expect(records).toEqual([{ city: 'Oslo' }]);
    expect(finishedOf(hub, assignment.runId)).toMatchObject({ status: 'succeeded', result: 42 });
  });

  it('answers assignments it cannot take', async () => {
    hub = await FakeHub.start();
    launch(hub.url, ['--slots', '1']);
    await until(() => hub?.hellos.length === 1, 10_000, 'hello');
    const first = makeAssignment('shell', 'sleep 600');
    const badHash = { ...makeAssignment('shell', 'echo x'), hash: 'f'.repeat(64) };

    const replies = [
      await assign(hub, first),
      await assign(hub, first),
      await assign(hub, makeAssignment('shell', 'echo second')),
      await assign(hub, { runId: 'x' }),
      await assign(hub, badHash),
    ];

    expect(replies).toEqual([
      { accepted: true },
      { accepted: false, reason: 'duplicate' },
      { accepted: false, reason: 'no_free_slot' },
      { accepted: false, reason: 'invalid' },
      { accepted: false, reason: 'invalid' },
    ]);
  });

  it('cancels and drains on request', async () => {
    hub = await FakeHub.start();
    launch(hub.url);
    await until(() => hub?.hellos.length === 1, 10_000, 'hello');
    const assignment = makeAssignment('shell', 'sleep 600');
    await assign(hub, assignment);
    await until(() => hub!.appliedEvents(assignment.runId).length > 0, 5_000, 'started event');

    hub.socket?.emit('cancel', { runId: 'unknown', attempt: 1, reason: 'user' });
    hub.socket?.emit('cancel', { nonsense: true } as never);
    hub.socket?.emit('cancel', { runId: assignment.runId, attempt: assignment.attempt, reason: 'user' });
    await until(() => finishedOf(hub!, assignment.runId) !== undefined, 5_000, 'finished event');
    hub.socket?.emit('drain', { draining: true });
    const reply = await assign(hub, makeAssignment('shell', 'echo later'));

    expect(finishedOf(hub, assignment.runId)).toMatchObject({ status: 'cancelled', error: 'cancelled by a user' });
    expect(reply).toEqual({ accepted: false, reason: 'draining' });
  });

  it('resends events after a reconnect', async () => {
    hub = await FakeHub.start({
      // The first batch is dropped with the connection, as if the hub went away before acknowledging it.
      ackEvents: (batchNumber, socket) => {
        if (batchNumber === 1) socket.disconnect(true);
        return batchNumber !== 1;
      },
    });
    launch(hub.url);
    await until(() => hub?.hellos.length === 1, 10_000, 'hello');
    const assignment = makeAssignment('shell', 'echo one; sleep 0.2; echo two');

    await assign(hub, assignment);
    await until(() => finishedOf(hub!, assignment.runId) !== undefined, 15_000, 'finished event');

    expect(hub.hellos.length).toBeGreaterThanOrEqual(2);
    expect(hub.hellos[1]?.runs).toContainEqual({ runId: assignment.runId, attempt: 1 });
    const applied = hub.appliedEvents(assignment.runId);
    expect(applied.map((event) => event.seq)).toEqual(applied.map((_, index) => index + 1));
    const lines = applied.flatMap((event) => (event.type === 'log' ? event.lines.map((line) => line.m) : []));
    expect(lines).toEqual(['one', 'two']);
  });

  it('keeps its id across restarts', async () => {
    hub = await FakeHub.start();
    const first = launch(hub.url);
    await until(() => hub?.hellos.length === 1, 10_000, 'first hello');
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    launch(hub.url);
    await until(() => hub?.hellos.length === 2, 10_000, 'second hello');

    expect(hub.auths[1]?.agentId).toBe(hub.auths[0]?.agentId);
  });

  it('stops gracefully on SIGTERM', async () => {
    hub = await FakeHub.start();
    const running = launch(hub.url, [], { FARMBOY_STOP_GRACE_MS: '300' });
    await until(() => hub?.hellos.length === 1, 10_000, 'hello');
    const assignment = makeAssignment('shell', 'sleep 600');
    await assign(hub, assignment);
    await until(() => hub!.appliedEvents(assignment.runId).length > 0, 5_000, 'started event');

    running.child.kill('SIGTERM');
    const code = await running.exited;

    expect(code).toBe(0);
    expect(finishedOf(hub, assignment.runId)).toMatchObject({ status: 'cancelled', error: 'cancelled because the agent is stopping' });
  });

  it.each([
    { name: 'bad token', refusal: { code: 'bad_token', message: 'the token is not valid' } },
    { name: 'protocol mismatch', refusal: { code: 'protocol_mismatch', message: 'this hub speaks protocol 2' } },
  ] as const)('exits 1 on $name', async ({ refusal }) => {
    hub = await FakeHub.start({ refuseWith: refusal });

    const running = launch(hub.url);
    const code = await running.exited;

    expect(code).toBe(1);
    expect(running.stderr()).toContain(`Hub refused this agent: ${refusal.message}\n`);
  });

  it('exits 1 on a terminal bye', async () => {
    hub = await FakeHub.start();
    const running = launch(hub.url);
    await until(() => hub?.hellos.length === 1, 10_000, 'hello');

    hub.socket?.emit('bye', { code: 'agent_forgotten', message: 'this agent was removed from the fleet' });
    const code = await running.exited;

    expect(code).toBe(1);
    expect(running.stderr()).toContain('Hub refused this agent: this agent was removed from the fleet\n');
  });

  it('exits 1 when the hub is unreachable', async () => {
    const port = await closedPort();

    const running = launch(`http://127.0.0.1:${port}`, [], { FARMBOY_CONNECT_TIMEOUT_MS: '800' });
    const code = await running.exited;

    expect(code).toBe(1);
    expect(running.stderr()).toContain(
      `Cannot reach the hub at http://127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}. Likely cause: nothing listens at that address`,
    );
  });

  it('names the likely cause of a TLS mismatch', async () => {
    const plain = createServer((socket) => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    const { port } = plain.address() as AddressInfo;
    agent = startAgent(['--hub', `https://127.0.0.1:${port}`, '--fingerprint', `sha256:${'ab'.repeat(32)}`, '--token', TOKEN, '--data-dir', dataDir], { FARMBOY_CONNECT_TIMEOUT_MS: '800' });

    const code = await agent.exited.finally(() => plain.close());

    expect(code).toBe(1);
    expect(agent.stderr()).toContain('Likely cause: the port answered without TLS');
  });

  it.each([
    ['write EPROTO ...:ssl3_get_record:wrong version number', false, 'without TLS'],
    ['socket hang up', true, 'closes plain connections'],
    ['socket hang up', false, null],
    ['connect ECONNREFUSED 127.0.0.1:7420', false, 'nothing listens'],
    ['timeout', false, null],
  ])('hints at the cause of %s', (reason, insecure, expected) => {
    const hint = connectHint(reason, insecure);

    if (expected === null) expect(hint).toBeNull();
    else expect(hint).toContain(expected);
  });

  it('exits 2 on a usage error', async () => {
    const running = startAgent(['--hub', 'http://127.0.0.1:1', '--insecure', '--token', TOKEN, '--slots', 'many']);
    agent = running;

    const code = await running.exited;

    expect(code).toBe(2);
    expect(running.stderr()).toBe('Option --slots must be a whole number from 1 to 1024, got "many".\n');
  });
});
