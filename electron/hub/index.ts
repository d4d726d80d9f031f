/**
 * Starts a hub: store, fleet, run manager, scheduler and the two gateways.
 * Plain Node with no `electron` import, so the same hub runs in the desktop
 * app's main process, in the `farmboy-hub` command and in tests.
 */
import { createServer } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo, Server as NetServer } from 'node:net';
import { AgentGateway, type AgentConnectionStats } from './agent-gateway.js';
import { Fleet } from './fleet.js';
import { createHttpApi } from './http-api.js';
import { createLogger, type Logger } from './logger.js';
import { RunManager, DEFAULT_TIMINGS, type RunTimings } from './runs.js';
import { Scheduler } from './scheduler/index.js';
import { HubService, type HubAddresses } from './service.js';
import { openStore, type Store } from './store/index.js';
import { forgetHubAddress, recordHubAddress } from './hub-address.js';
import { resolveTokens } from './hub-tokens.js';
import { AdminAccess, type FailureLimits } from './admin-access.js';
import { AgentAuthority } from './agent-auth.js';
import type { OutputRate } from './event-limits.js';
import { SecretBox } from './secrets.js';
import { UiGateway } from './ui-gateway.js';
import { startFiring } from './firing.js';
import { readLastAlive, startAliveMarker } from './alive.js';
import { HUB_VERSION } from './version.js';
import type { Run } from './model.js';
import { reachableHost } from './enrollment.js';
import { DEFAULT_TEMPLATES_DIR } from './templates.js';
import { loadOrCreateTlsIdentity, type HubTlsIdentity } from './tls.js';
import { AlertNotifier, type AlertTimings } from './alerts.js';
import { readNetworkSettings, resolveNetwork, type EffectiveNetwork } from './settings.js';

export { DEFAULT_UI_PORT } from './settings.js';

export interface HubOptions {
  dataDir: string;
  /** Port of the agent gateway; 0 picks a free one. */
  agentPort?: number;
  agentHost?: string;
  /**
   * Serves the agent port as plain HTTP and WebSocket instead of TLS. Tasks,
   * tokens and credentials then cross the network unencrypted and agents
   * cannot tell the hub from an impostor; only for a trusted network.
   */
  insecure?: boolean;
  /** Port of the UI and the HTTP API; 0 picks a free one. */
  uiPort?: number;
  /** Address the UI port binds to: loopback unless remote access is wanted. */
  uiHost?: string;
  adminToken?: string;
  agentToken?: string;
  logger?: Logger;
  /** Built renderer served at `/`; null to serve none. */
  rendererDir?: string | null;
  /** Overrides of run timings, for tests. */
  timings?: Partial<Omit<RunTimings, 'agentGraceMs'>> & { agentGraceMs?: number };
  /** Interval of the run manager's periodic checks. */
  tickMs?: number;
  /** Interval at which agents' records, their last contact included, are saved, so a crash loses at most this much of it. */
  agentRecordIntervalMs?: number;
  /** Limits on failed admin logins per address; the defaults suit a person, tests use shorter ones. */
  accessLimits?: FailureLimits;
  /** Per-agent limit on output volume (log lines and records). */
  outputRate?: OutputRate;
  /** Folder of the task templates the UI offers; resources/templates by default. */
  templatesDir?: string;
  /** Overrides of the failure alert webhook's timeout and retries, for tests. */
  alertTimings?: Partial<AlertTimings>;
}

export interface Hub {
  readonly uiUrl: string;
  readonly agentUrl: string;
  readonly uiPort: number;
  /** Address the UI port listens on: a start option, else 0.0.0.0 or 127.0.0.1 from the network settings. */
  readonly uiHost: string;
  readonly agentPort: number;
  readonly adminToken: string;
  /** The enrollment token, when the hub has it in clear (created here or given). */
  readonly agentToken: string | null;
  /** SHA-256 fingerprint of the agent port's certificate (`sha256:HEX`); null with `insecure`. */
  readonly fingerprint: string | null;
  readonly insecure: boolean;
  readonly service: HubService;
  readonly store: Store;
  readonly runs: RunManager;
  /** Sizes of the per-connection state of both ports, for leak checks in tests and diagnostics. */
  connectionStats(): HubConnectionStats;
  stop(): Promise<void>;
}

export interface HubConnectionStats extends AgentConnectionStats {
  /** Agents the fleet counts as online. */
  agentsOnline: number;
  /** Engine.IO connections open on the UI port. */
  uiClients: number;
}

export async function startHub(options: HubOptions): Promise<Hub> {
  const log = options.logger ?? createLogger();
  const store = await openStore(options.dataDir, { logger: log.child({ component: 'store' }) });
  try {
    return await assemble(options, store, log);
  } catch (error) {
    await store.close();
    throw error;
  }
}

async function assemble(options: HubOptions, store: Store, log: Logger): Promise<Hub> {
  const tokens = resolveTokens(store, options);
  const access = new AdminAccess({ adminToken: tokens.adminToken, store, log: log.child({ component: 'access' }), limits: options.accessLimits });
  const authority = new AgentAuthority(store, log.child({ component: 'agents' }));

  const fleet = new Fleet(store.state.agents);
  const timings: RunTimings = {
    ...DEFAULT_TIMINGS,
    ...options.timings,
    agentGraceMs: () => options.timings?.agentGraceMs ?? store.state.settings.agentGraceSec * 1000,
  };
  const tls = options.insecure ? null : await loadTlsIdentity(options.dataDir, log);
  if (!tls) log.warn({}, 'agent port runs without TLS (insecure): agents cannot verify this hub and traffic is unencrypted');
  const agentServer = tls ? createTlsServer({ key: tls.key, cert: tls.cert, minVersion: 'TLSv1.2' }) : createServer();
  const link: { gateway: AgentGateway | null } = { gateway: null };
  const runs = new RunManager(store, fleet, {
    assign: (agentId, assignment) => link.gateway?.assign(agentId, assignment) ?? Promise.resolve(null),
    cancel: (agentId, ref, reason) => link.gateway?.cancel(agentId, ref, reason),
    unreadableSecrets: (env) => SecretBox.forDataDir(store.dataDir).unreadable(env),
  }, log.child({ component: 'runs' }), timings);
  await runs.restore(Date.now());

  let ui: UiGateway | null = null;
  const gateway = new AgentGateway({
    httpServer: agentServer,
    tls: tls ? { dataDir: store.dataDir, identity: tls } : null,
    fleet,
    runs,
    log: log.child({ component: 'agents' }),
    authority,
    outputRate: options.outputRate,
    secrets: SecretBox.forDataDir(store.dataDir),
    hubVersion: HUB_VERSION,
    onAgentChanged: (agentId) => {
      const view = fleet.view(agentId);
      if (view) ui?.agentChanged(view);
    },
  });
  link.gateway = gateway;

  // A port or host given as an option wins over the stored network settings.
  let network: EffectiveNetwork = resolveNetwork(readNetworkSettings(store.state.settings), { uiPort: options.uiPort, agentPort: options.agentPort, uiHost: options.uiHost });
  /** Base of the links in alerts, set once the UI port is known. */
  let linkUrl = '';
  const alerts = new AlertNotifier({
    store,
    log: log.child({ component: 'alerts' }),
    runUrl: (runId) => `${linkUrl}/#/runs/${runId}`,
    hubUrl: () => linkUrl,
    agentName: (agentId) => fleet.get(agentId)?.record.name ?? null,
    timings: options.alertTimings,
  });
  const scheduler = new Scheduler({
    logger: log.child({ component: 'scheduler' }),
    onFire: (jobId, fireDate, kind, missed, firstMissed) => firing.fire(jobId, fireDate, kind, missed, firstMissed),
    onMissed: (jobId, missedCount, firstMissed, lastMissed) => firing.missed(jobId, missedCount, firstMissed, lastMissed),
  });
  const service = new HubService({
    store,
    fleet,
    runs,
    scheduler,
    gateway,
    onChanged: (kind, id) => {
      if (kind === 'agent') {
        const view = fleet.view(id);
        if (view) ui?.agentChanged(view);
      } else ui?.definitionChanged(kind, id);
    },
    info: () => ({ ...addresses, fingerprint: gateway.fingerprint }),
    templatesDir: options.templatesDir ?? DEFAULT_TEMPLATES_DIR,
    log: log.child({ component: 'service' }),
    alerts,
    network: () => network,
  });
  // Filled in once both ports listen; nothing asks for it before.
  let addresses: HubAddresses = { version: HUB_VERSION, uiUrl: '', agentJoinUrl: '', fingerprint: tls?.fingerprint ?? null, agentToken: tokens.agentToken };
  const firing = startFiring({ store, runs, log: log.child({ component: 'scheduler' }) });

  const api = await createHttpApi({
    service,
    log,
    access,
    rendererDir: options.rendererDir ?? null,
    health: () => ({ ok: true, version: HUB_VERSION, agentsOnline: fleet.onlineCount(), runsActive: runs.activeCount() }),
    runs,
  });
  ui = new UiGateway({ httpServer: api.server, service, log: log.child({ component: 'ui' }), access, lineCount: (runId) => runs.lineCount(runId) });
  runs.on('run', (run) => ui?.runChanged(run));
  runs.on('run', (run) => alerts.runChanged(run));
  runs.on('log', (runId, lines) => ui?.logAppended(runId, lines));
  runs.on('records', (runId, records) => ui?.recordsAppended(runId, records));

  const uiHost = network.uiHost;
  await api.listen({ host: uiHost, port: network.uiPort });
  const agentPort = await listen(agentServer, options.agentHost ?? '0.0.0.0', network.agentPort).catch(async (error: unknown) => {
    await api.close();
    throw error;
  });
  const uiPort = (api.server.address() as AddressInfo).port;
  network = { ...network, uiPort, agentPort };
  const uiUrl = `http://${uiHost.includes(':') ? `[${uiHost}]` : uiHost}:${uiPort}`;
  // An alert is read on another machine, where 0.0.0.0 would not lead back to this hub.
  linkUrl = `http://${reachableHost(uiHost)}:${uiPort}`;
  addresses = { ...addresses, uiUrl, agentJoinUrl: `${tls ? 'https' : 'http'}://${reachableHost(options.agentHost ?? '0.0.0.0')}:${agentPort}` };
  await recordHubAddress(options.dataDir, `http://${hostForUrl(uiHost)}:${uiPort}`, log);

  const lastAlive = readLastAlive(options.dataDir);
  scheduler.sync(store.state.jobs);
  if (lastAlive !== null) scheduler.catchUp(lastAlive, (jobId) => lastScheduledRun(store, jobId)?.queuedAt ?? null);
  const alive = startAliveMarker(options.dataDir, log);
  const applyRetention = () => {
    store.applyRetention(store.state.settings).catch((error: unknown) => log.error({ err: error }, 'retention failed'));
  };
  applyRetention();
  const tick = setInterval(() => runs.tick(Date.now()), options.tickMs ?? 1000);
  const retention = setInterval(applyRetention, 6 * 3600 * 1000);
  const agentRecords = setInterval(() => service.persistAgents(), options.agentRecordIntervalMs ?? 30_000);
  tick.unref();
  retention.unref();
  agentRecords.unref();
  log.info({ uiPort, agentPort, dataDir: options.dataDir }, 'hub started');

  let stopped = false;
  return {
    uiUrl,
    agentUrl: `${tls ? 'https' : 'http'}://${hostForUrl(options.agentHost)}:${agentPort}`,
    uiPort,
    uiHost,
    agentPort,
    adminToken: tokens.adminToken,
    agentToken: tokens.agentToken,
    get fingerprint() {
      return gateway.fingerprint;
    },
    insecure: tls === null,
    service,
    store,
    runs,
    connectionStats: () => ({ ...gateway.connectionStats(), agentsOnline: fleet.onlineCount(), uiClients: ui?.clientCount ?? 0 }),
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(tick);
      clearInterval(retention);
      clearInterval(agentRecords);
      scheduler.stop();
      firing.stop();
      await alive.stop();
      ui?.close();
      await gateway.close();
      await api.close();
      await alerts.stop();
      runs.flushDirty();
      service.persistAgents();
      await forgetHubAddress(options.dataDir);
      await store.close();
      log.info('hub stopped');
    },
  };
}

async function loadTlsIdentity(dataDir: string, log: Logger): Promise<HubTlsIdentity> {
  const { identity, created } = await loadOrCreateTlsIdentity(dataDir);
  if (created) log.info({ fingerprint: identity.fingerprint }, 'hub TLS identity created');
  return identity;
}

function listen(server: NetServer, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function hostForUrl(host: string | undefined): string {
  if (!host || host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

/** Finds the latest run a fire of the job made (scheduled, caught up, or recorded as missed or skipped) among its recent runs. */
function lastScheduledRun(store: Store, jobId: string): Run | undefined {
  return store.runs.list({ jobId, limit: 100 }).find((run) => run.trigger !== 'manual');
}
