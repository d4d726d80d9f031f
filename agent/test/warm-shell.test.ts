import { mkdir, symlink } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Assignment } from '../src/protocol/index.js';
import { RunManager } from '../src/runs.js';
import { agentEnvironment } from '../src/runner/run.js';
import type { WarmPool } from '../src/runner/warm-pool.js';
import { launchCommands, launchWarmShell, shellChangingVariable } from '../src/runner/warm-shell.js';
import { MemorySink, makeAssignment, makeSettings, makeTempDir, readyShellPool, removeDir, runToEnd, waitFor } from './helpers.js';

/** Prints what a script can learn about how it was started. `_` is left out: shells set it themselves. */
const INSPECT = [
  'echo "cwd: $(pwd) PWD: $PWD"',
  'echo "zero: $0 args: $#"',
  'if IFS= read -r line; then echo "stdin: $line"; else echo "stdin: empty"; fi',
  'echo "OLDPWD: ${OLDPWD-unset} SHLVL: ${SHLVL-unset}"',
  "env | grep -v '^_=' | LC_ALL=C sort",
].join('\n');

const AWKWARD_ENV = {
  QUOTED: `it's "quoted"`,
  MULTILINE: 'line one\nline two',
  EXPANSIONS: '$HOME $(echo no) `echo no` \\n *',
  EMPTY: '',
};

describe('warm shells', () => {
  let dataDir = '';
  let pool: WarmPool | null = null;
  let manager: RunManager | null = null;

  beforeEach(async () => {
    dataDir = await makeTempDir();
    pool = await readyShellPool(dataDir, 2);
  });

  afterEach(async () => {
    manager?.cancelAll('agent_stopping');
    await manager?.waitIdle(5_000);
    manager = null;
    pool?.stop();
    pool = null;
    await removeDir(dataDir);
  });

  async function run(assignment: Assignment, warm: boolean, runDataDir = dataDir) {
    const pooled = pool?.hostPids() ?? [];
    const settings = makeSettings(runDataDir, warm && pool !== null ? { warmShells: pool, baseEnv: agentEnvironment() } : { baseEnv: agentEnvironment() });
    const { sink, outcome } = await runToEnd(assignment, settings);
    const started = sink.events.find((event) => event.type === 'started') as { pid: number } | undefined;
    // Run ids differ between the runs compared; the rest of the output must not.
    const stdout = sink.messages('stdout').map((line) => line.replaceAll(assignment.runId, '<run>'));
    return { stdout, stderr: sink.messages('stderr'), outcome, fromPool: pooled.includes(started?.pid ?? -1) };
  }

  it('gives the script what a cold start gives it', async () => {
    const options = { env: AWKWARD_ENV, config: { quote: "it's" } };
    // Reached through a link, where the shell's own path and the physical one differ.
    const linked = path.join(dataDir, 'linked');
    await mkdir(path.join(dataDir, 'real'));
    await symlink(path.join(dataDir, 'real'), linked);

    const cold = await run(makeAssignment('shell', INSPECT, options), false, linked);
    const warm = await run(makeAssignment('shell', INSPECT, options), true, linked);

    expect(cold.fromPool).toBe(false);
    expect(warm.fromPool).toBe(true);
    expect(warm.outcome.status).toBe('succeeded');
    expect(warm.stderr).toEqual([]);
    expect(warm.stdout).toEqual(cold.stdout);
    expect(warm.stdout).toContain('stdin: empty');
    expect(warm.stdout).toContain(`QUOTED=it's "quoted"`);
    expect(warm.stdout).toContain('EXPANSIONS=$HOME $(echo no) `echo no` \\n *');
  });

  it('starts cold when the shell could not set a variable', async () => {
    const dashed = makeAssignment('shell', 'echo ran', { env: { 'my-var': 'x' } });
    const special = makeAssignment('shell', "env | grep '^UID='", { env: { UID: '12345' } });

    const first = await run(dashed, true);
    const second = await run(special, true);

    expect(first.fromPool).toBe(false);
    expect(first.stdout).toEqual(['ran']);
    expect(second.fromPool).toBe(false);
    expect(second.stdout).toEqual(['UID=12345']);
  });

  it('exits 126 without its directory', async () => {
    const shell = pool?.take();
    if (!shell) throw new Error('no warm shell ready');
    let stderr = '';
    shell.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => shell.once('exit', (code) => resolve(code)));

    const handedOver = launchWarmShell(shell, launchCommands('/no/such/dir', '/bin/true', {}, {}) ?? '');

    expect(handedOver).toBe(true);
    expect(await exited).toBe(126);
    expect(stderr).toContain('/no/such/dir');
  });

  it('keeps none while most slots are busy', async () => {
    pool?.stop();
    pool = await readyShellPool(dataDir, 4);
    const warm = pool;
    manager = new RunManager({ slots: 4, maxLoad: null, readLoad: () => 0, sink: new MemorySink(), settings: { ...makeSettings(dataDir), warmShells: warm }, log: pino({ level: 'silent' }) });

    manager.assign(makeAssignment('shell', 'sleep 600'));
    manager.assign(makeAssignment('shell', 'sleep 600'));
    await sleep(1_500);
    const halfBusy = warm.size;
    manager.assign(makeAssignment('shell', 'sleep 600'));
    await waitFor(() => warm.size === 0, 'no warm shells');
    manager.cancelAll('user');
    await manager.waitIdle(5_000);
    await waitFor(() => warm.readyCount === 4, 'four warm shells');

    expect(halfBusy).toBe(2);
  });

  it('starts cold after a pooled shell died', async () => {
    const victims = pool?.hostPids() ?? [];
    for (const pid of victims) process.kill(pid, 'SIGKILL');
    // Blocks the event loop, so the agent has not seen the exits when the run takes a shell.
    for (const until = Date.now() + 100; Date.now() < until; );

    const result = await run(makeAssignment('shell', 'echo ran'), true);

    expect(victims).toHaveLength(2);
    expect(result.fromPool).toBe(false);
    expect(result.outcome.status).toBe('succeeded');
    expect(result.stdout).toEqual(['ran']);
  });

  it('starts cold with a large environment', async () => {
    // 60,000 bytes each, counted as UTF-8, below Linux's 128 KiB cap for one variable.
    const env = { BIG_ONE: '€'.repeat(20_000), BIG_TWO: '€'.repeat(20_000) };
    const result = await run(makeAssignment('shell', 'printf %s "$BIG_ONE$BIG_TWO" | wc -c', { env }), true);

    expect(result.fromPool).toBe(false);
    expect(result.stdout.map((line) => line.trim())).toEqual(['120000']);
  });

  it.each([
    { env: { SHELLOPTS: 'keyword' }, variable: 'SHELLOPTS' },
    { env: { 'BASH_FUNC_cd%%': '() { builtin cd "$@"; }' }, variable: 'BASH_FUNC_cd%%' },
    { env: { PS4: '+ ' }, variable: 'PS4' },
    { env: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' }, variable: null },
  ])('finds $variable in the agent environment', ({ env, variable }) => {
    expect(shellChangingVariable(env)).toBe(variable);
  });

  it('starts cold with many variables', async () => {
    const env = Object.fromEntries(Array.from({ length: 101 }, (_, index) => [`V${index}`, String(index)]));
    const result = await run(makeAssignment('shell', 'echo $V0 $V100', { env }), true);

    expect(result.fromPool).toBe(false);
    expect(result.stdout).toEqual(['0 100']);
  });
});
