/**
 * The hub as a real process (`node bin/farmboy-hub.js`), for tests that kill
 * it or restart it on the same data directory.
 */
import type { ChildProcess } from 'node:child_process';
import type { Hub } from '../../../electron/hub/index.js';
import { onCleanup } from '../../helpers/fleet.js';
import { startHubCommand, type ApiCall } from '../../helpers/hub-command.js';

export interface HubProcess {
  process: ChildProcess;
  uiPort: number;
  agentPort: number;
  /** Fingerprint of the agent port's certificate, or null without TLS. */
  fingerprint: string | null;
  adminToken: string;
  agentToken: string;
  exited: Promise<number | null>;
  output(): string;
  api: ApiCall;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
  /** What `startAgent` from the fleet helpers needs, pointing agents at `agentUrl`. */
  asHub(agentUrl: string): Hub;
}

export interface HubProcessOptions {
  /** Tokens to reuse across restarts on one data directory. */
  adminToken?: string;
  agentToken?: string;
  env?: Record<string, string>;
}

/** Starts the hub command on ephemeral ports, waits for its banner and kills it at cleanup. */
export async function startHubProcess(dataDir: string, options: HubProcessOptions = {}): Promise<HubProcess> {
  const hub = await startHubCommand(dataDir, { ...options, logLevel: process.env.TEST_LOG_LEVEL ?? 'warn' });
  const child = hub.process;
  const exited = new Promise<number | null>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
  const kill = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    return exited;
  };
  onCleanup(async () => void (await kill('SIGKILL')));
  return {
    ...hub,
    exited,
    kill,
    asHub: (agentUrl) => ({ agentUrl, agentToken: hub.agentToken, fingerprint: hub.fingerprint, insecure: hub.fingerprint === null }) as unknown as Hub,
  };
}
