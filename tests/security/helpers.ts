/** Helpers of the security tests: a hub log kept in memory and TLS servers that pose as a hub. */
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import { io, type Socket } from 'socket.io-client';
import { AGENT_NAMESPACE, PROTOCOL_VERSION } from 'farmboy-agent/protocol';
import { createTlsIdentity, type HubTlsIdentity } from '../../electron/hub/tls.js';
import { createShellTask, onCleanup, rawAgentOptions, startTestHub, waitFor, type TestHub } from '../helpers/fleet.js';

export interface CapturedLog {
  logger: Logger;
  /** Every line written so far, as the raw JSON text. */
  text(): string;
  /** Parsed lines whose message is `msg`. */
  entries(msg: string): Array<Record<string, unknown>>;
}

/** Creates a debug-level hub logger that keeps its output in memory, so a test can search it. */
export function captureLog(): CapturedLog {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  const logger = pino({ level: 'debug' }, stream);
  const text = () => chunks.join('');
  const entries = (msg: string) =>
    text()
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((entry) => entry.msg === msg);
  return { logger, text, entries };
}

export interface ImpostorHub {
  url: string;
  identity: HubTlsIdentity;
  /** HTTP requests and upgrade requests the impostor received after the TLS handshake. */
  requests: string[];
  /** TCP connections clients opened to it. */
  connections: number;
}

/**
 * Starts an https server on 127.0.0.1 with a certificate of its own, which
 * records whatever a client sends it. `staple` builds what it sends as its
 * rotation proof in each handshake.
 */
export async function startImpostorHub(staple?: (identity: HubTlsIdentity) => Buffer): Promise<ImpostorHub> {
  const identity = await createTlsIdentity();
  const server: Server = createServer({ key: identity.key, cert: identity.cert });
  const impostor: ImpostorHub = { url: '', identity, requests: [], connections: 0 };
  if (staple) server.on('OCSPRequest', (_certificate: Buffer, _issuer: Buffer, callback: (error: Error | null, response: Buffer) => void) => callback(null, staple(identity)));
  server.on('connection', () => (impostor.connections += 1));
  server.on('request', (request, response) => {
    impostor.requests.push(`${request.method} ${request.url}`);
    response.end();
  });
  server.on('upgrade', (request, socket) => {
    impostor.requests.push(`upgrade ${request.url}`);
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  impostor.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  onCleanup(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return impostor;
}

export interface RawAgent {
  socket: Socket;
  /** The credential the hub issued, once it did. */
  credential: string | null;
}

/**
 * Connects a hand-made agent that accepts every assignment, and sends its
 * hello. It enrolls with the hub's token, or connects with `credential`.
 */
export async function connectRawAgent(hub: TestHub, agentId: string, credential: string | null, runs: Array<{ runId: string; attempt: number }>, tags: string[]): Promise<RawAgent> {
  const auth = { protocolVersion: PROTOCOL_VERSION, agentId, name: agentId, version: '0.0.0', ...(credential ? { credential } : { token: hub.agentToken }) };
  const socket = io(`${hub.agentUrl}${AGENT_NAMESPACE}`, { auth, ...rawAgentOptions(hub) });
  onCleanup(() => void socket.close());
  socket.on('assign', (_assignment: unknown, ack: (reply: unknown) => void) => ack({ accepted: true }));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  const facts = { hostname: agentId, platform: 'linux', arch: 'x64', cpus: 2, memoryBytes: 1e9, nodeVersion: 'v20' };
  const reply = (await socket.timeout(5_000).emitWithAck('hello', { facts, tags, slots: 1, maxLoad: null, runs })) as { credential?: string };
  return { socket, credential: reply.credential ?? credential };
}

/** Starts a hub and a hand-made agent, and runs a task that the hub assigns to that agent. */
export async function assignedRawRun(agentId: string): Promise<{ hub: TestHub; agent: RawAgent; runId: string }> {
  const hub = await startTestHub();
  const agent = await connectRawAgent(hub, agentId, null, [], []);
  const assigned: string[] = [];
  agent.socket.on('assign', (assignment: { runId: string }) => assigned.push(assignment.runId));
  const task = await createShellTask(hub, 'sleep 1');
  const runId = (await hub.api<{ id: string }>('POST', `/api/tasks/${task.id}/runs`, {})).body.id;
  await waitFor(() => assigned.includes(runId), 10_000, 'the assignment');
  return { hub, agent, runId };
}
