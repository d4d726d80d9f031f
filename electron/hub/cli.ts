/**
 * `farmboy-hub`: the hub without the desktop shell, for an always-on lab
 * server and for tests. Exit codes: 0 after a clean stop, 1 when the hub
 * cannot start (store unreadable or locked, port in use), 2 for a usage error.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_AGENT_PORT } from 'farmboy-agent/protocol';
import { startHub, DEFAULT_UI_PORT, type Hub } from './index.js';
import { createLogger } from './logger.js';
import { HUB_VERSION } from './version.js';
import { agentJoinHost, joinCommand } from './enrollment.js';

const HELP = `Usage: farmboy-hub [options]

Runs the Farmboy hub without the desktop window: scheduler, agent gateway,
web UI and HTTP API.

Options:
  --data-dir DIR     where the hub keeps its store, logs and tokens
                     (default: ~/.farmboy)
  --agent-port PORT  TCP port agents connect to over TLS (default: ${DEFAULT_AGENT_PORT})
  --insecure         serve the agent port as plain http:// and ws:// without TLS;
                     agents must be started with --insecure too (trusted networks only)
  --ui-host HOST     address the web UI and API listen on (default: 127.0.0.1;
                     use 0.0.0.0 to allow other machines, token still required)
  --ui-port PORT     TCP port of the web UI and API (default: ${DEFAULT_UI_PORT})
  --log-level LEVEL  trace, debug, info, warn or error (default: info, or LOG_LEVEL)
  -h, --help         show this help
  -v, --version      show the version

Environment:
  FARMBOY_ADMIN_TOKEN  admin token for the UI and API (default: created on
                       first start and kept in DATA_DIR/admin-token)
  FARMBOY_AGENT_TOKEN  enrollment token agents join with (default: created on
                       first start and kept in DATA_DIR/join-token)
`;

class UsageError extends Error {}

interface CliOptions {
  dataDir: string;
  agentPort: number;
  uiHost: string;
  uiPort: number;
  insecure: boolean;
  logLevel: string | undefined;
}

function parsePort(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
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

function parseCli(argv: string[]): CliOptions | 'help' | 'version' {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        'data-dir': { type: 'string' },
        'agent-port': { type: 'string' },
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
    agentPort: parsePort('agent-port', values['agent-port'], DEFAULT_AGENT_PORT),
    uiHost: values['ui-host'] ?? '127.0.0.1',
    uiPort: parsePort('ui-port', values['ui-port'], DEFAULT_UI_PORT),
    insecure: values.insecure === true,
    logLevel: parseLogLevel(values['log-level']),
  };
}

const INSECURE_WARNING = `WARNING: --insecure: the agent port runs without TLS. Tasks, tokens and
credentials cross the network unencrypted, and agents cannot tell this hub
from an impostor. Use it only on a network you trust.
`;

function printBanner(hub: Hub, options: CliOptions): void {
  const uiHost = options.uiHost === '0.0.0.0' ? '127.0.0.1' : options.uiHost;
  const agentUrl = `${hub.insecure ? 'http' : 'https'}://${agentJoinHost(undefined)}:${hub.agentPort}`;
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

export async function main(argv: string[]): Promise<number> {
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
    return error.message;
  }
  return String(error);
}
