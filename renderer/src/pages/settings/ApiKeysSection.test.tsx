// @vitest-environment happy-dom
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ApiKeyScope, ApiKeyView } from '../../../../electron/hub/ui-contract.js';
import { renderWithTheme } from '../../test/render.js';
import { ApiKeysPanel, SCOPES, type ApiKeysApi } from './ApiKeysSection.js';

afterEach(cleanup);

const CREATED_AT = Date.UTC(2026, 0, 15, 9, 30);

function keyView(name: string, scope: ApiKeyScope, revokedAt: number | null = null): ApiKeyView {
  return { id: `id-${name}`, name, scope, createdAt: CREATED_AT, revokedAt };
}

/** Creates an in-memory stand-in for the hub's keys.* requests. */
function fakeApi(initial: ApiKeyView[] = []) {
  const keys = [...initial];
  const api = {
    list: vi.fn(async () => keys.map((key) => ({ ...key }))),
    create: vi.fn(async (input: { name: string; scope: ApiKeyScope }) => {
      const apiKey = keyView(input.name, input.scope);
      keys.push(apiKey);
      return { key: `fbk_secret_${input.name}`, apiKey };
    }),
    revoke: vi.fn(async (id: string) => {
      const key = keys.find((candidate) => candidate.id === id);
      if (!key) throw new Error(`no API key with id ${id}`);
      key.revokedAt = CREATED_AT + 60_000;
      return { ...key };
    }),
  } satisfies ApiKeysApi;
  return api;
}

function renderPanel(api: ApiKeysApi) {
  renderWithTheme(<ApiKeysPanel api={api} connected />);
  return within(screen.getByRole('table', { name: 'API keys' }));
}

async function openCreateDialog() {
  fireEvent.click(screen.getByRole('button', { name: 'Create API key' }));
  return within(await screen.findByRole('dialog'));
}

describe('API keys section', () => {
  it('lists keys with scope and status', async () => {
    const table = renderPanel(fakeApi([keyView('ci', 'run'), keyView('old', 'admin', CREATED_AT + 1000)]));

    await table.findByText('ci');
    const rows = table.getAllByRole('row').slice(1);

    expect(rows.map((row) => row.getAttribute('data-status'))).toEqual(['active', 'revoked']);
    expect(rows.map((row) => row.getAttribute('data-scope'))).toEqual(['run', 'admin']);
    expect(within(rows[0]!).getByText('run')).toBeTruthy();
    expect(within(rows[0]!).getByRole('button', { name: 'Revoke ci' })).toBeTruthy();
    expect(within(rows[1]!).getByText(/^Revoked /)).toBeTruthy();
    expect(within(rows[1]!).queryByRole('button')).toBeNull();
  });

  it('shows the empty table', async () => {
    const api = fakeApi();
    const table = renderPanel(api);

    expect(await table.findByText(/No API keys yet/)).toBeTruthy();
    expect(api.list).toHaveBeenCalledTimes(1);
  });

  it('waits for the connection', () => {
    const api = fakeApi();

    renderWithTheme(<ApiKeysPanel api={api} connected={false} />);

    expect(api.list).not.toHaveBeenCalled();
  });

  it('explains every scope', async () => {
    renderPanel(fakeApi());

    const dialog = await openCreateDialog();

    for (const scope of SCOPES) {
      expect(dialog.getByRole('radio', { name: scope.label }).getAttribute('value')).toBe(scope.value);
      expect(dialog.getByText(scope.explanation)).toBeTruthy();
    }
    expect((dialog.getByRole('radio', { name: 'Read' }) as HTMLInputElement).checked).toBe(true);
  });

  it('creates a key shown once', async () => {
    const api = fakeApi();
    const table = renderPanel(api);
    const dialog = await openCreateDialog();

    fireEvent.change(dialog.getByRole('textbox', { name: 'Name' }), { target: { value: '  nightly CI  ' } });
    fireEvent.click(dialog.getByRole('radio', { name: 'Run' }));
    fireEvent.click(dialog.getByRole('button', { name: 'Create key' }));
    const keyText = await dialog.findByTestId('api-key');

    expect(api.create).toHaveBeenCalledWith({ name: 'nightly CI', scope: 'run' });
    expect(keyText.textContent).toBe('fbk_secret_nightly CI');
    expect(dialog.getByTestId('api-key-once').textContent).toContain('Shown only now');
    expect(dialog.getByRole('button', { name: 'Copy API key' })).toBeTruthy();
    expect(await table.findByText('nightly CI')).toBeTruthy();
  });

  it('forgets the key once closed', async () => {
    renderPanel(fakeApi());
    let dialog = await openCreateDialog();
    fireEvent.change(dialog.getByRole('textbox', { name: 'Name' }), { target: { value: 'script' } });
    fireEvent.click(dialog.getByRole('button', { name: 'Create key' }));
    await dialog.findByTestId('api-key');

    fireEvent.click(dialog.getByRole('button', { name: 'Done' }));
    await waitFor(() => expect(screen.queryByTestId('api-key')).toBeNull());
    dialog = await openCreateDialog();

    expect(dialog.queryByTestId('api-key')).toBeNull();
    expect((dialog.getByRole('textbox', { name: 'Name' }) as HTMLInputElement).value).toBe('');
    expect(document.body.textContent).not.toContain('fbk_secret_script');
  });

  it.each([
    { name: '', why: 'empty' },
    { name: '   ', why: 'blank' },
    { name: 'x'.repeat(101), why: 'too long' },
  ])('disables create for $why name', async ({ name }) => {
    const api = fakeApi();
    renderPanel(api);
    const dialog = await openCreateDialog();

    fireEvent.change(dialog.getByRole('textbox', { name: 'Name' }), { target: { value: name } });
    const button = dialog.getByRole('button', { name: 'Create key' });
    fireEvent.click(button);

    expect(button.hasAttribute('disabled')).toBe(true);
    expect(api.create).not.toHaveBeenCalled();
  });

  it('shows the create error inside', async () => {
    const api = fakeApi();
    api.create.mockRejectedValueOnce(new Error('name: must be at most 100 characters'));
    renderPanel(api);
    const dialog = await openCreateDialog();

    fireEvent.change(dialog.getByRole('textbox', { name: 'Name' }), { target: { value: 'ci' } });
    fireEvent.click(dialog.getByRole('button', { name: 'Create key' }));
    const alert = await dialog.findByRole('alert');

    expect(alert.textContent).toContain('must be at most 100 characters');
    expect(dialog.queryByTestId('api-key')).toBeNull();
  });

  it('revokes after a warning', async () => {
    const api = fakeApi([keyView('ci', 'read')]);
    const table = renderPanel(api);
    fireEvent.click(await table.findByRole('button', { name: 'Revoke ci' }));
    const dialog = within(await screen.findByRole('dialog'));

    expect(dialog.getByText(/stop working at once/)).toBeTruthy();
    expect(api.revoke).not.toHaveBeenCalled();
    fireEvent.click(dialog.getByRole('button', { name: 'Revoke key' }));

    await waitFor(() => expect(table.getAllByRole('row')[1]?.getAttribute('data-status')).toBe('revoked'));
    expect(api.revoke).toHaveBeenCalledWith('id-ci');
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
  });

  it('keeps the key on cancel', async () => {
    const api = fakeApi([keyView('ci', 'read')]);
    const table = renderPanel(api);
    fireEvent.click(await table.findByRole('button', { name: 'Revoke ci' }));
    const dialog = within(await screen.findByRole('dialog'));

    fireEvent.click(dialog.getByRole('button', { name: 'Cancel' }));

    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(api.revoke).not.toHaveBeenCalled();
    expect(table.getAllByRole('row')[1]?.getAttribute('data-status')).toBe('active');
  });

  it('shows the revoke error inside', async () => {
    const api = fakeApi([keyView('ci', 'read')]);
    api.revoke.mockRejectedValueOnce(new Error('no API key with id id-ci'));
    const table = renderPanel(api);
    fireEvent.click(await table.findByRole('button', { name: 'Revoke ci' }));
    const dialog = within(await screen.findByRole('dialog'));

    fireEvent.click(dialog.getByRole('button', { name: 'Revoke key' }));
    const alert = await dialog.findByRole('alert');

    expect(alert.textContent).toContain('no API key with id id-ci');
    expect(screen.getByRole('dialog')).toBeTruthy();
  });

  it('shows the list error', async () => {
    const api = fakeApi();
    api.list.mockRejectedValueOnce(new Error('Not connected to the hub; the request was not sent.'));

    renderPanel(api);
    const alert = await screen.findByRole('alert');

    expect(alert.textContent).toContain('Could not list API keys');
    expect(alert.textContent).toContain('Not connected to the hub');
  });
});
