/**
 * Entry point of the `farmboy-agent` command.
 *
 * Exit codes: 0 after a clean stop, 1 for a runtime failure (the hub refused
 * the agent or could not be reached, an unusable data directory), 2 for a
 * usage error.
 */
import { Agent } from './agent.js';
import { AgentError } from './errors.js';
import { loadOrCreateIdentity } from './identity.js';
import { createLogger } from './logger.js';
import { recoverPreviousProcess } from './recovery.js';
import { removeLeftoverRunDirs } from './runner/run.js';
import { HELP_TEXT, parseCommand, type AgentOptions } from './options.js';
import { AGENT_VERSION } from './version.js';
import { readTrust, resolveTrust } from './trust.js';

const INSECURE_WARNING = `WARNING: --insecure: this agent talks to the hub over plain http without TLS.
Anyone on the network can read the tasks and credentials it receives, and
anyone who poses as the hub can run code on this machine. Use it only on a
network you trust, and never across the internet.
`;

async function runAgent(options: AgentOptions): Promise<void> {
  const log = createLogger(options.logLevel);
  const identity = await loadOrCreateIdentity(options.dataDir);
  if (identity.created) log.info({ agentId: identity.agentId, dataDir: options.dataDir }, 'new agent identity created');
  const recovered = await recoverPreviousProcess(options.dataDir, options.killGraceMs, log, identity.agentId);
  await removeLeftoverRunDirs(options.dataDir);
  const trust = resolveTrust(options, await readTrust(options.dataDir));
  if (options.insecure) process.stderr.write(INSECURE_WARNING);
  // Orphaned task children are re-parented to process 1, and Node cannot wait for a process it did not start.
  if (process.pid === 1) log.warn({ pid: process.pid }, 'the agent runs as process 1, so exited background processes of tasks stay as zombies; start it under an init (docker run --init, tini or systemd)');

  const agent = new Agent({ ...options, agentId: identity.agentId, trust, log, recovered });
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled) {
      log.warn({ signal }, 'second signal, stopping at once without waiting for runs');
      agent.killAllNow();
      process.exit(1);
    }
    signalled = true;
    log.info({ signal }, 'signal received, stopping');
    void agent.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // Runs live in their own process groups and would outlive the agent; whatever ends it, they end too.
  process.on('exit', () => agent.killAllNow());

  agent.start();
  await agent.done;
}

export async function main(argv: string[]): Promise<number> {
  try {
    const command = parseCommand(argv, process.env);
    if (command.kind === 'help') {
      process.stdout.write(HELP_TEXT);
      return 0;
    }
    if (command.kind === 'version') {
      process.stdout.write(`${AGENT_VERSION}\n`);
      return 0;
    }
    await runAgent(command.options);
    return 0;
  } catch (error: unknown) {
    if (error instanceof AgentError) {
      process.stderr.write(`${error.message}\n`);
      return error.exitCode;
    }
    process.stderr.write(`farmboy-agent crashed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
// Exiting through the event loop lets stdout and stderr drain; a handle that stays open cannot hold the agent for long.
setTimeout(() => process.exit(), 1_000).unref();
