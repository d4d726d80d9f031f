/**
 * Command line and environment of `farmboy-agent`, checked at once: every
 * problem becomes a UsageError naming the option, the rule and the value.
 */
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError } from './errors.js';
import { LIMITS } from './protocol/index.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const TAG_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;
const MAX_TAGS = 64;
const MAX_SLOTS = 1024;

export interface AgentOptions {
  hubUrl: string;
  /** Enrollment token; null when the agent joins with the credential it stored earlier. */
  token: string | null;
  /** Expected certificate fingerprint of the hub, `sha256:` and 64 hex digits; null to use the stored one. */
  fingerprint: string | null;
  /** Plain http:// and ws:// without TLS, only when given explicitly. */
  insecure: boolean;
  name: string;
  tags: string[];
  slots: number;
  /** Normalized load above which no new run is accepted; null for no limit. */
  maxLoad: number | null;
  dataDir: string;
  logLevel: LogLevel;
  /** How long the first connection may take before the agent gives up. */
  connectTimeoutMs: number;
  loadIntervalMs: number;
  /** Time between the polite and the hard kill of a run's process group. */
  killGraceMs: number;
  /** How long a stopping agent lets its runs finish before it cancels them. */
  stopGraceMs: number;
  maxRunLogBytes: number;
  /** Bytes of unacknowledged run events kept in memory; past it they are read back from the spool. */
  outboxMemoryBytes: number;
  /** Bytes of unacknowledged run events, memory and spool together, past which runs' output is paused. */
  outboxSpoolBytes: number;
  /** Most unused node task hosts kept started, one per free slot up to this; 0 starts every node run cold. */
  warmHosts: number;
  /** Most unused shells kept started for shell runs, one per free slot up to this; 0 spawns every shell run's process. */
  warmShells: number;
}

export type ParsedCommand = { kind: 'help' } | { kind: 'version' } | { kind: 'run'; options: AgentOptions };

export const HELP_TEXT = `Usage: farmboy-agent --hub URL --token TOKEN --fingerprint sha256:HEX [options]

Connects this machine to a Farmboy hub and runs the tasks the hub assigns.
The first start needs the whole join command the hub shows; the agent then
keeps the hub's fingerprint and its own credential in its data directory,
so later starts need only --hub.

Options:
  --hub URL          Address of the hub's agent port, for example https://10.0.0.5:7420 (required)
  --token TOKEN      Enrollment token shown by the hub; FARMBOY_AGENT_TOKEN is read when omitted
  --fingerprint FP   SHA-256 fingerprint of the hub's certificate, sha256:HEX, from the join command
  --insecure         Connect over plain http:// without TLS; the hub must run with --insecure too
  --name NAME        Name shown in the fleet (default: the hostname)
  --tags A,B         Comma-separated tags that jobs can target (default: none)
  --slots N          Runs executed at the same time (default: the number of CPUs)
  --max-load X       Normalized load (1-minute load average / CPUs) above which no new run is accepted (default: no limit)
  --data-dir DIR     Where the agent keeps its identity and run files (default: ~/.farmboy-agent)
  --log-level LEVEL  One of ${LOG_LEVELS.join(', ')} (default: LOG_LEVEL or info)
  -h, --help         Print this help and exit
  -v, --version      Print the version and exit

Exit codes: 0 stopped cleanly, 1 runtime failure (hub refused or unreachable), 2 usage error.
`;

/** Parses argv (without node and the script) and the environment; throws UsageError. */
export function parseCommand(argv: string[], env: NodeJS.ProcessEnv): ParsedCommand {
  const { values } = parseArgvStrict(argv);
  if (values.help === true) return { kind: 'help' };
  if (values.version === true) return { kind: 'version' };

  const options: AgentOptions = {
    hubUrl: parseHubUrl(values.hub, values.insecure === true),
    token: parseToken(values.token ?? env.FARMBOY_AGENT_TOKEN),
    fingerprint: values.fingerprint === undefined ? null : parseFingerprint(values.fingerprint),
    insecure: values.insecure === true,
    name: parseName(values.name ?? defaultName()),
    tags: parseTags(values.tags ?? ''),
    slots: values.slots === undefined ? Math.min(os.availableParallelism(), MAX_SLOTS) : parseSlots(values.slots),
    maxLoad: values['max-load'] === undefined ? null : parseMaxLoad(values['max-load']),
    dataDir: path.resolve(values['data-dir'] ?? path.join(os.homedir(), '.farmboy-agent')),
    logLevel: parseLogLevel(values['log-level'], env.LOG_LEVEL),
    connectTimeoutMs: envInteger(env, 'FARMBOY_CONNECT_TIMEOUT_MS', 60_000, 1),
    loadIntervalMs: envInteger(env, 'FARMBOY_LOAD_INTERVAL_MS', 2_000, 1),
    killGraceMs: envInteger(env, 'FARMBOY_KILL_GRACE_MS', 5_000, 0),
    stopGraceMs: envInteger(env, 'FARMBOY_STOP_GRACE_MS', 30_000, 0),
    maxRunLogBytes: envInteger(env, 'FARMBOY_MAX_RUN_LOG_BYTES', LIMITS.maxRunLogBytes, 1),
    outboxMemoryBytes: envInteger(env, 'FARMBOY_OUTBOX_MEMORY_BYTES', 16 * 1024 * 1024, 64 * 1024),
    outboxSpoolBytes: envInteger(env, 'FARMBOY_OUTBOX_SPOOL_BYTES', 1024 * 1024 * 1024, 1024 * 1024),
    warmHosts: envInteger(env, 'FARMBOY_WARM_HOSTS', MAX_SLOTS, 0),
    warmShells: envInteger(env, 'FARMBOY_WARM_SHELLS', MAX_SLOTS, 0),
  };
  return { kind: 'run', options };
}

function parseArgvStrict(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        hub: { type: 'string' },
        token: { type: 'string' },
        fingerprint: { type: 'string' },
        insecure: { type: 'boolean' },
        name: { type: 'string' },
        tags: { type: 'string' },
        slots: { type: 'string' },
        'max-load': { type: 'string' },
        'data-dir': { type: 'string' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    });
  } catch (error: unknown) {
    const message = error instanceof Error ? error.message : String(error);
    throw new UsageError(`${message.replace(/\.$/, '')}. Run farmboy-agent --help to see the options.`);
  }
}

function parseHubUrl(value: string | undefined, insecure: boolean): string {
  if (value === undefined) throw new UsageError('Option --hub is required, for example --hub https://10.0.0.5:7420.');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`Option --hub must be an http:// or https:// URL, got "${value}".`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`Option --hub must be an http:// or https:// URL, got "${value}".`);
  }
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '') {
    throw new UsageError(`Option --hub must be the hub's address without a path, such as https://HOST:7420, got "${value}".`);
  }
  if (url.protocol === 'http:' && !insecure) {
    throw new UsageError(
      `Option --hub is a plain http:// address, got "${value}". Use the https:// address from the hub's join command, or add --insecure on a trusted network (the hub must run with --insecure too).`,
    );
  }
  if (url.protocol === 'https:' && insecure) {
    throw new UsageError(`Option --insecure applies to http:// hub addresses only, got "${value}". Drop --insecure to connect over TLS.`);
  }
  return url.origin;
}

const FINGERPRINT_PATTERN = /^sha256:[0-9a-f]{64}$/;

/** Accepts `sha256:HEX` and the colon-separated form that openssl and browsers print, in either case. */
export function parseFingerprint(value: string): string {
  const compact = value.trim().toLowerCase().replace(/^sha256:/, '').replace(/:/g, '');
  const fingerprint = `sha256:${compact}`;
  if (!FINGERPRINT_PATTERN.test(fingerprint)) {
    throw new UsageError(`Option --fingerprint must be sha256: followed by 64 hexadecimal digits, as in the hub's join command, got "${value}".`);
  }
  return fingerprint;
}

/**
 * Checks the token; its value never appears in a message, only its length.
 * A missing token is no usage error here: an agent that joined before has a
 * stored credential, which the start checks for.
 */
function parseToken(value: string | undefined): string | null {
  if (value === undefined || value === '') return null;
  if (value.length > 512) throw new UsageError(`Option --token must be at most 512 characters, got ${value.length}.`);
  return value;
}

function defaultName(): string {
  const hostname = os.hostname().slice(0, 128);
  return hostname === '' ? 'agent' : hostname;
}

function parseName(value: string): string {
  const name = value.trim();
  if (name === '' || name.length > 128) {
    throw new UsageError(`Option --name must be 1 to 128 characters, got "${value}".`);
  }
  return name;
}

function parseTags(value: string): string[] {
  const tags = value
    .split(',')
    .map((tag) => tag.trim())
    .filter((tag) => tag !== '');
  for (const tag of tags) {
    if (!TAG_PATTERN.test(tag)) {
      throw new UsageError(`Option --tags takes tags of 1 to 64 letters, digits and _ . : -, got "${tag}".`);
    }
  }
  if (tags.length > MAX_TAGS) throw new UsageError(`Option --tags takes at most ${MAX_TAGS} tags, got ${tags.length}.`);
  return [...new Set(tags)];
}

function parseSlots(value: string): number {
  const slots = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(slots) || slots < 1 || slots > MAX_SLOTS) {
    throw new UsageError(`Option --slots must be a whole number from 1 to ${MAX_SLOTS}, got "${value}".`);
  }
  return slots;
}

function parseMaxLoad(value: string): number {
  const maxLoad = Number(value);
  if (value.trim() === '' || !Number.isFinite(maxLoad) || maxLoad <= 0) {
    throw new UsageError(`Option --max-load must be a number above 0, such as 0.8, got "${value}".`);
  }
  return maxLoad;
}

function parseLogLevel(option: string | undefined, fromEnv: string | undefined): LogLevel {
  const value = option ?? (fromEnv === '' ? undefined : fromEnv) ?? 'info';
  const level = LOG_LEVELS.find((candidate) => candidate === value);
  if (level === undefined) {
    const source = option === undefined ? 'LOG_LEVEL' : 'Option --log-level';
    throw new UsageError(`${source} must be one of ${LOG_LEVELS.join(', ')}, got "${value}".`);
  }
  return level;
}

function envInteger(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(parsed) || parsed < min) {
    throw new UsageError(`${name} must be a whole number of at least ${min}, got "${value}".`);
  }
  return parsed;
}
