import { describe, expect, it } from 'vitest';
import type { NetworkView } from '../../../../electron/hub/settings.js';
import { checkDraft, draftOf, overrideNotes, type NetworkDraft } from './network-form.js';

const VIEW: NetworkView = {
  stored: { uiPort: null, agentPort: 8200, allowRemoteUi: false },
  effective: { uiPort: 7421, agentPort: 9000, uiHost: '127.0.0.1', overridden: { uiPort: false, agentPort: true, uiHost: false } },
};

describe('network settings form', () => {
  it('drafts empty for default ports', () => {
    expect(draftOf(VIEW)).toEqual({ uiPort: '', agentPort: 8200, allowRemoteUi: false });
  });

  it.each<[string, NetworkDraft, ReturnType<typeof checkDraft>]>([
    ['defaults as null', { uiPort: '', agentPort: '', allowRemoteUi: true }, { ok: true, patch: { uiPort: null, agentPort: null, allowRemoteUi: true } }],
    ['a port out of range', { uiPort: 70_000, agentPort: '', allowRemoteUi: false }, { ok: false, field: 'uiPort', message: 'must be from 1 to 65535' }],
    ['equal ports', { uiPort: 8200, agentPort: 8200, allowRemoteUi: false }, { ok: false, field: 'agentPort', message: 'the UI port and the agent port must differ' }],
  ])('checks %s', (_case, draft, expected) => {
    expect(checkDraft(draft, VIEW)).toEqual(expected);
  });

  it('names each overriding start option', () => {
    expect(overrideNotes(VIEW)).toEqual(['The --agent-port start option overrides the stored port: the hub uses 9000.']);
  });
});
