/**
 * Shared parts of the hub service modules: their dependencies, input parsing
 * that turns a schema issue into a 400 naming the field, and patch helpers.
 */
import type { ZodType } from 'zod';
import { LIMITS, exceedsDepth } from 'farmboy-agent/protocol';
import { invalid } from './errors.js';
import type { Fleet } from './fleet.js';
import type { AgentGateway } from './agent-gateway.js';
import type { RunManager } from './runs.js';
import type { Scheduler } from './scheduler/index.js';
import type { Store } from './store/index.js';
import type { Logger } from './logger.js';
import type { AlertNotifier } from './alerts.js';
import type { EffectiveNetwork } from './settings.js';

export interface ServiceDeps {
  store: Store;
  fleet: Fleet;
  runs: RunManager;
  scheduler: Scheduler;
  gateway: AgentGateway;
  /** Called after a definition changes, so the UI can be notified. */
  onChanged(kind: 'task' | 'job' | 'agent', id: string): void;
  /** Addresses and the enrollment token in clear, known only once the hub listens. */
  info(): HubAddresses;
  /** Folder of the task templates. */
  templatesDir: string;
  log: Logger;
  /** Failure alert webhook settings and delivery. */
  alerts: AlertNotifier;
  /** Ports and UI address the hub listens on, and which start options set them. */
  network(): EffectiveNetwork;
}

export interface HubAddresses {
  version: string;
  uiUrl: string;
  /** Address of the agent port as other machines reach it. */
  agentJoinUrl: string;
  /** Certificate fingerprint agents pin (`sha256:HEX`); null when the agent port is plain HTTP. */
  fingerprint: string | null;
  /** The default enrollment token, when the hub has it in clear. */
  agentToken: string | null;
}

/** Parses an input with a schema, turning the first issue into a 400 naming the field. */
export function parseInput<T>(schema: ZodType<T>, input: unknown): T {
  // Checked first: zod and the store's JSON writer recurse, and a deep enough value overflows their stack.
  const maxDepth = LIMITS.maxJsonDepth + 2;
  if (exceedsDepth(input, maxDepth)) throw invalid('body', `nested deeper than ${maxDepth} levels`);
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (issue?.code === 'unrecognized_keys') {
    // Named as the field it is, so a misspelt "timeout" is reported at "timeout", with a hint.
    const key = issue.keys[0] ?? '';
    const field = [...issue.path, key].join('.');
    throw invalid(field, `unknown field "${key}"; the fields are listed in docs/api.md`);
  }
  const field = issue && issue.path.length > 0 ? issue.path.join('.') : 'body';
  throw invalid(field, issue?.message ?? 'invalid value');
}

export function definedOnly<T extends object>(patch: T): Partial<T> {
  return Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined)) as Partial<T>;
}

/** Replaces the entry with the same id in place; does nothing when there is none. */
export function replaceById<T extends { id: string }>(list: T[], item: T): void {
  const index = list.findIndex((entry) => entry.id === item.id);
  if (index >= 0) list[index] = item;
}
