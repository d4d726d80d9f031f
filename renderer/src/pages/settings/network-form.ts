/**
 * Form logic of the Network section: the draft values, their validation with
 * the hub's own schema, and the notes about start options that override a
 * stored value.
 */
import { applyNetworkPatch, networkPatchSchema, type NetworkPatch, type NetworkView } from '../../../../electron/hub/settings.js';

export interface NetworkDraft {
  uiPort: number | '';
  agentPort: number | '';
  allowRemoteUi: boolean;
}

export function draftOf(view: NetworkView): NetworkDraft {
  return { uiPort: view.stored.uiPort ?? '', agentPort: view.stored.agentPort ?? '', allowRemoteUi: view.stored.allowRemoteUi };
}

export type NetworkCheck = { ok: true; patch: NetworkPatch } | { ok: false; field: keyof NetworkDraft; message: string };

/** Validates a draft; an empty port field means the default port. */
export function checkDraft(draft: NetworkDraft, view: NetworkView): NetworkCheck {
  const input = { uiPort: draft.uiPort === '' ? null : draft.uiPort, agentPort: draft.agentPort === '' ? null : draft.agentPort, allowRemoteUi: draft.allowRemoteUi };
  const parsed = networkPatchSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, field: (issue?.path[0] as keyof NetworkDraft | undefined) ?? 'uiPort', message: issue?.message ?? 'invalid value' };
  }
  if (applyNetworkPatch(view.stored, parsed.data) === null) return { ok: false, field: 'agentPort', message: 'the UI port and the agent port must differ' };
  return { ok: true, patch: parsed.data };
}

const FLAG_NAMES = { uiPort: '--ui-port', agentPort: '--agent-port', uiHost: '--ui-host' } as const;

/** Sentences naming each start option that overrides a stored value, for the page to show. */
export function overrideNotes(view: NetworkView): string[] {
  const overridden = view.effective.overridden;
  return (Object.keys(FLAG_NAMES) as (keyof typeof FLAG_NAMES)[])
    .filter((key) => overridden[key])
    .map((key) => `The ${FLAG_NAMES[key]} start option overrides the ${key === 'uiHost' ? 'remote access setting' : 'stored port'}: the hub uses ${String(view.effective[key])}.`);
}
