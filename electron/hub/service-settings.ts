/** Operations on the network settings and the failure alert webhook. */
import { invalid } from './errors.js';
import type { AlertNotifier } from './alerts.js';
import { parseInput, type ServiceDeps } from './service-common.js';
import {
  alertPatchSchema,
  alertTestSchema,
  applyNetworkPatch,
  networkPatchSchema,
  readNetworkSettings,
  type AlertDelivery,
  type AlertSettingsView,
  type NetworkView,
} from './settings.js';

export class SettingsService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly alerts: AlertNotifier,
  ) {}

  /** Returns the stored network settings beside the values the running hub uses. */
  getNetwork(): NetworkView {
    return { stored: readNetworkSettings(this.deps.store.state.settings), effective: this.deps.network() };
  }

  /** Stores network settings; the hub applies them when it next starts. */
  updateNetwork(body: unknown): NetworkView {
    const patch = parseInput(networkPatchSchema, body);
    const next = applyNetworkPatch(readNetworkSettings(this.deps.store.state.settings), patch);
    if (next === null) throw invalid(patch.agentPort !== undefined ? 'agentPort' : 'uiPort', 'the UI port and the agent port must differ');
    this.deps.store.state.settings = { ...this.deps.store.state.settings, network: next };
    this.deps.store.save();
    this.deps.log.info({ ...next }, 'network settings changed; they apply at the next start');
    return this.getNetwork();
  }

  getAlerts(): AlertSettingsView {
    return this.alerts.view();
  }

  updateAlerts(body: unknown): AlertSettingsView {
    return this.alerts.update(parseInput(alertPatchSchema, body));
  }

  /** Posts a test message to the given or the saved webhook URL. */
  testAlert(body: unknown): Promise<AlertDelivery> {
    return this.alerts.sendTest(parseInput(alertTestSchema, body ?? {}));
  }
}
