// @vitest-environment happy-dom
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { renderWithTheme } from '../../test/render.js';
import { BulkEditDialog } from './BulkEditDialog.js';

afterEach(cleanup);

function renderDialog(onApply = vi.fn(async () => undefined)) {
  renderWithTheme(<BulkEditDialog opened count={3} onClose={() => undefined} onApply={onApply} />);
  return { onApply, dialog: within(screen.getByRole('dialog')) };
}

describe('bulk edit dialog', () => {
  it('sends only the ticked field', async () => {
    const { onApply, dialog } = renderDialog();

    fireEvent.click(dialog.getByRole('checkbox', { name: 'Retries' }));
    fireEvent.change(dialog.getByRole('textbox', { name: 'Retries value' }), { target: { value: '4' } });
    fireEvent.change(dialog.getByRole('textbox', { name: 'Timeout value' }), { target: { value: '99' } });
    fireEvent.click(dialog.getByRole('button', { name: 'Apply to 3 jobs' }));

    await waitFor(() => expect(onApply).toHaveBeenCalledTimes(1));
    expect(onApply).toHaveBeenCalledWith({ retries: 4 });
  });

  it('sends every ticked field', async () => {
    const { onApply, dialog } = renderDialog();

    fireEvent.click(dialog.getByRole('checkbox', { name: 'Enabled' }));
    fireEvent.click(dialog.getByRole('checkbox', { name: 'Timeout' }));
    fireEvent.click(dialog.getByRole('button', { name: 'Apply to 3 jobs' }));

    await waitFor(() => expect(onApply).toHaveBeenCalledTimes(1));
    expect(onApply).toHaveBeenCalledWith({ enabled: true, timeoutSec: null });
  });

  it('applies nothing with no tick', () => {
    const { onApply, dialog } = renderDialog();

    const apply = dialog.getByRole('button', { name: 'Apply to 3 jobs' });
    fireEvent.click(apply);

    expect(apply.hasAttribute('disabled')).toBe(true);
    expect(onApply).not.toHaveBeenCalled();
  });

  it('shows a ticked invalid value', async () => {
    const { onApply, dialog } = renderDialog();

    fireEvent.click(dialog.getByRole('checkbox', { name: 'Retries' }));
    fireEvent.change(dialog.getByRole('textbox', { name: 'Retries value' }), { target: { value: '500' } });

    expect(await dialog.findByText(/100/)).toBeTruthy();
    expect(dialog.getByRole('button', { name: 'Apply to 3 jobs' }).hasAttribute('disabled')).toBe(true);
    expect(onApply).not.toHaveBeenCalled();
  });

  it('shows the hub rejection', async () => {
    const { dialog } = renderDialog(vi.fn(async () => Promise.reject(new Error('ids.1: no job with id gone'))));

    fireEvent.click(dialog.getByRole('checkbox', { name: 'Retries' }));
    fireEvent.click(dialog.getByRole('button', { name: 'Apply to 3 jobs' }));

    expect(await dialog.findByRole('alert')).toBeTruthy();
    expect(dialog.getByRole('alert').textContent).toContain('no job with id gone');
  });
});
