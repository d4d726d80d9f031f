/**
 * `farmboy-hub`: the hub without the desktop shell, for an always-on lab
 * server and for tests. Exit codes: 0 after a clean stop, 1 when the hub
 * cannot start (store unreadable or locked, port in use), 2 for a usage error.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { DEFAULT_AGENT_PORT } from 'farmboy-agent/protocol';
import { startHub, DEFAULT_UI_PORT, type Hub } from './index.js';
import { createLogger } from './logger.js';
import { readHubAddress } from './hub-address.js';
import { ADMIN_TOKEN_FILE } from './hub-tokens.js';
import { acquireLock, LOCK_FILE } from './store/lock.js';
import { KEPT_ROTATIONS, ROTATION_MAX_AGE_MS, TLS_CERT_FILE, TLS_KEY_FILE, commitRotation, loadOrCreateTlsIdentity, prepareRotation } from './tls.js';
import { HUB_VERSION } from './version.js';
import { reachableHost, joinCommand } from './enrollment.js';

const HELP = `Usage: farmboy-hub [options]
       farmboy-hub rotate-certificate [--data-dir DIR] [--token TOKEN] [--url URL]

Runs the Farmboy hub without the desktop window: scheduler, agent gateway,
web UI and HTTP API.

Options:
  --data-dir DIR     where the hub keeps its store, logs and tokens
                     (default: ~/.farmboy)
  --agent-port PORT  TCP port agents connect to over TLS (default: the port saved
                     in Settings, else ${DEFAULT_AGENT_PORT})
  --agent-host HOST  address the agent port listens on (default: 0.0.0.0, every
                     interface); the join command names it
  --insecure         serve the agent port as plain http:// and ws:// without TLS;
                     agents must be started with --insecure too (trusted networks only)
  --ui-host HOST     address the web UI and API listen on (default: 0.0.0.0 when
                     Settings allows remote UI access, else 127.0.0.1; use 0.0.0.0
                     to allow other machines, token still required)
  --ui-port PORT     TCP port of the web UI and API (default: the port saved in
                     Settings, else ${DEFAULT_UI_PORT})

A port or host given here wins over the value saved in Settings.
  --log-level LEVEL  trace, debug, info, warn or error (default: info, or LOG_LEVEL)
  -h, --help         show this help
  -v, --version      show the version

rotate-certificate makes a new key and certificate for the agent port. When
a hub runs on DATA_DIR, it asks that hub through the HTTP API, so connected
agents move their pin at once; otherwise it replaces the files in DATA_DIR.
Agents that are offline follow on their next connection, unless more than
${KEPT_ROTATIONS} rotations or ${ROTATION_MAX_AGE_MS / (24 * 3600 * 1000)} days have passed.
  --token TOKEN      admin token of the running hub (default: FARMBOY_ADMIN_TOKEN,
                     or DATA_DIR/admin-token)
  --url URL          UI address of the running hub (default: the address a
                     farmboy-hub process recorded in DATA_DIR, or
                     http://127.0.0.1:${DEFAULT_UI_PORT})

Environment:
  FARMBOY_ADMIN_TOKEN  admin token for the UI and API (default: created on
                       first start and kept in DATA_DIR/admin-token)
  FARMBOY_AGENT_TOKEN  enrollment token agents join with (default: created on
                       first start and kept in DATA_DIR/join-token)
`;

class UsageError extends Error {}

/** Ports and host are undefined when their option is absent, so the saved network settings apply. */
interface CliOptions {
  dataDir: string;
  agentPort: number | undefined;
  agentHost: string | undefined;
  uiHost: string | undefined;
  uiPort: number | undefined;
  insecure: boolean;
  logLevel: string | undefined;
}

function parsePort(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`--${name} must be a port number from 0 to 65535, got "${value}"`);
  }
  return port;
}

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

function parseLogLevel(value: string | undefined): string | undefined {
  if (value === undefined || LOG_LEVELS.includes(value)) return value;
  throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got "${value}"`);
}

/**
 * Returns the trimmed value of a host option. An empty one is rejected, because it would make the port
 * listen on every address, IPv6 included, which is wider than the default.
 */
function parseHost(option: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (value.trim() === '') throw new UsageError(`--${option} needs an address, such as 127.0.0.1 or 0.0.0.0`);
  return value.trim();
}

function parseCli(argv: string[]): CliOptions | 'help' | 'version' {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        'data-dir': { type: 'string' },
        'agent-port': { type: 'string' },
        'agent-host': { type: 'string' },
        'ui-host': { type: 'string' },
        'ui-port': { type: 'string' },
        'log-level': { type: 'string' },
        insecure: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (values.help) return 'help';
  if (values.version) return 'version';
  return {
    dataDir: resolve(values['data-dir'] ?? join(homedir(), '.farmboy')),
    agentPort: parsePort('agent-port', values['agent-port']),
    agentHost: parseHost('agent-host', values['agent-host']),
    uiHost: parseHost('ui-host', values['ui-host']),
    uiPort: parsePort('ui-port', values['ui-port']),
    insecure: values.insecure === true,
    logLevel: parseLogLevel(values['log-level']),
  };
}

const INSECURE_WARNING = `WARNING: --insecure: the agent port runs without TLS. Tasks, tokens and
credentials cross the network unencrypted, and agents cannot tell this hub
from an impostor. Use it only on a network you trust.
`;

function printBanner(hub: Hub, options: CliOptions): void {
  const uiHost = hub.uiHost === '0.0.0.0' ? '127.0.0.1' : hub.uiHost;
  const agentUrl = `${hub.insecure ? 'http' : 'https'}://${reachableHost(options.agentHost)}:${hub.agentPort}`;
  const lines = [
    '',
    `Farmboy hub ${HUB_VERSION} is running.`,
    `  Web UI:    http://${uiHost}:${hub.uiPort}/#token=${hub.adminToken}`,
    `  HTTP API:  http://${uiHost}:${hub.uiPort}/api (Authorization: Bearer <admin token>)`,
    `  Agents:    port ${hub.agentPort}, ${hub.fingerprint ? `TLS certificate ${hub.fingerprint}` : 'plain http without TLS (--insecure)'}`,
    `  Data:      ${options.dataDir}`,
    '',
  ];
  if (hub.agentToken) {
    lines.push('Join an agent from another machine with:', `  ${joinCommand(agentUrl, hub.agentToken, hub.fingerprint)}`, '');
  } else {
    lines.push(`The enrollment token is not kept in clear; set FARMBOY_AGENT_TOKEN or create a new token.`, '');
  }
  process.stdout.write(lines.join('\n') + '\n');
  if (hub.insecure) process.stderr.write(INSECURE_WARNING);
}

/** Finds the built renderer beside this bundle (out/hub -> out/renderer); null if it was not built. */
function findRenderer(): string | null {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidate = resolve(here, '..', 'renderer');
  return existsSync(join(candidate, 'index.html')) ? candidate : null;
}

const rotationReplySchema = z.object({ previous: z.string(), fingerprint: z.string(), agents: z.number(), accepted: z.number() });
const errorReplySchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

interface RotateOptions {
  dataDir: string;
  token: string | undefined;
  url: string | undefined;
}

function parseRotateCli(argv: string[]): RotateOptions | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { 'data-dir': { type: 'string' }, token: { type: 'string' }, url: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (values.help) return 'help';
  if (values.url !== undefined && !z.string().url().safeParse(values.url).success) throw new UsageError(`--url must be an http:// address such as http://127.0.0.1:${DEFAULT_UI_PORT}, got "${values.url}"`);
  return { dataDir: resolve(values['data-dir'] ?? join(homedir(), '.farmboy')), token: values.token, url: values.url };
}

/** Returns the PID of the live process that holds the data directory's store lock, or null when none does. */
async function lockOwner(dataDir: string): Promise<number | null> {
  let pid: number;
  try {
    pid = Number.parseInt((await readFile(join(dataDir, LOCK_FILE), 'utf8')).trim(), 10);
  } catch {
    return null;
  }
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? pid : null;
  }
}

async function runningHubUrl(dataDir: string, pid: number): Promise<string> {
  const recorded = await readHubAddress(dataDir);
  if (recorded?.pid === pid) return recorded.url;
  // A hub older than the address file: try the default port.
  return `http://127.0.0.1:${DEFAULT_UI_PORT}`;
}

async function adminToken(options: RotateOptions): Promise<string> {
  const given = options.token ?? process.env.FARMBOY_ADMIN_TOKEN;
  if (given) return given;
  const file = join(options.dataDir, ADMIN_TOKEN_FILE);
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    throw new CommandError(`the admin token is missing: ${file} cannot be read. Pass --token or set FARMBOY_ADMIN_TOKEN.`);
  }
}

/** An expected failure of a command, printed as a sentence with exit code 1. */
class CommandError extends Error {}

async function rotateThroughHub(options: RotateOptions, pid: number): Promise<z.infer<typeof rotationReplySchema>> {
  const url = options.url ?? (await runningHubUrl(options.dataDir, pid));
  const token = await adminToken(options);
  let response: Response;
  try {
    response = await fetch(new URL('/api/certificate/rotate', url), { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  } catch (error) {
    const reason = error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
    throw new CommandError(`the hub (process ${pid}) has locked ${options.dataDir}, but the request to ${url} failed (${reason}). Pass its UI address with --url.`);
  }
  const body: unknown = await response.json().catch(() => null);
  if (!response.ok) {
    const failure = errorReplySchema.safeParse(body);
    const detail = failure.success ? failure.data.error.message : `HTTP ${response.status}`;
    const hint = response.status === 401 ? ' Pass the admin token with --token.' : '';
    throw new CommandError(`the hub at ${url} did not rotate its certificate: ${detail}.${hint}`);
  }
  const parsed = rotationReplySchema.safeParse(body);
  if (!parsed.success) throw new CommandError(`the hub at ${url} sent an unexpected reply; is it a Farmboy hub of this version?`);
  return parsed.data;
}

/** Rotates the files while holding the store lock, so that no hub starts with a half-written pair. */
async function rotateOnDisk(dataDir: string): Promise<{ previous: string; fingerprint: string }> {
  if (!existsSync(join(dataDir, TLS_KEY_FILE)) && !existsSync(join(dataDir, TLS_CERT_FILE))) {
    throw new CommandError(`${dataDir} contains no hub certificate yet. The hub creates one on its first start.`);
  }
  const lock = await acquireLock(join(dataDir, LOCK_FILE), createLogger({ level: 'warn' }));
  try {
    const { identity } = await loadOrCreateTlsIdentity(dataDir);
    const rotation = await prepareRotation(dataDir, identity);
    await commitRotation(dataDir, rotation);
    return { previous: identity.fingerprint, fingerprint: rotation.identity.fingerprint };
  } finally {
    await lock.release();
  }
}

async function rotateCertificate(argv: string[]): Promise<number> {
  const options = parseRotateCli(argv);
  if (options === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  const pid = await lockOwner(options.dataDir);
  const lines: string[] = [];
  if (pid !== null) {
    const result = await rotateThroughHub(options, pid);
    lines.push(`Certificate rotated by the running hub (process ${pid}).`, `  Old fingerprint: ${result.previous}`, `  New fingerprint: ${result.fingerprint}`);
    lines.push(`  Agents that followed: ${result.accepted} of ${result.agents} connected`);
  } else {
    const result = await rotateOnDisk(options.dataDir);
    lines.push(`Certificate rotated in ${options.dataDir} (no hub is running).`, `  Old fingerprint: ${result.previous}`, `  New fingerprint: ${result.fingerprint}`);
    lines.push('  Agents that followed: 0 (none is connected while the hub is stopped)');
  }
  lines.push(`Agents that were offline follow on their next connection within ${ROTATION_MAX_AGE_MS / (24 * 3600 * 1000)} days and ${KEPT_ROTATIONS} rotations; after that they must join again.`);
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}

async function runCommand(argv: string[]): Promise<number> {
  try {
    return await rotateCertificate(argv);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`farmboy-hub rotate-certificate: ${error.message}\nRun farmboy-hub --help for the options.\n`);
      return 2;
    }
    process.stderr.write(`farmboy-hub rotate-certificate: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

export async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'rotate-certificate') return runCommand(argv.slice(1));
  let options;
  try {
    options = parseCli(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`farmboy-hub: ${error.message}\nRun farmboy-hub --help for the options.\n`);
    return 2;
  }
  if (options === 'help' || options === 'version') {
    process.stdout.write(options === 'help' ? HELP : `${HUB_VERSION}\n`);
    return 0;
  }

  const logger = createLogger({ level: options.logLevel });
  let hub: Hub;
  try {
    await mkdir(options.dataDir, { recursive: true });
    hub = await startHub({
      dataDir: options.dataDir,
      agentPort: options.agentPort,
      agentHost: options.agentHost,
      uiHost: options.uiHost,
      uiPort: options.uiPort,
      insecure: options.insecure,
      adminToken: process.env.FARMBOY_ADMIN_TOKEN || undefined,
      agentToken: process.env.FARMBOY_AGENT_TOKEN || undefined,
      rendererDir: findRenderer(),
      logger,
    });
  } catch (error) {
    process.stderr.write(`farmboy-hub: cannot start: ${describeStartError(error)}\n`);
    return 1;
  }
  printBanner(hub, options);
  return new Promise((resolvePromise) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) process.exit(1);
      stopping = true;
      logger.info({ signal }, 'stopping');
      hub.stop().then(
        () => resolvePromise(0),
        (error: unknown) => {
          logger.error({ err: error }, 'stop failed');
          resolvePromise(1);
        },
      );
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

function describeStartError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') return `${error.message}. Another program (or another hub) uses that port; pick another with --agent-port or --ui-port.`;
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') return `${error.message}. This machine has no such address; give --agent-host or --ui-host one of its own addresses, or 0.0.0.0 for all of them.`;
    return error.message;
  }
  return String(error);
}
