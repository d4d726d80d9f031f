/**
 * Ports and remote access of the hub. Saved values apply when the hub next
 * starts; the section shows what the running hub uses and which start
 * options override the saved values.
 */
import { Alert, Button, Group, NumberInput, SimpleGrid, Stack, Switch, Text } from '@mantine/core';
import { useState } from 'react';
import type { NetworkView } from '../../../../electron/hub/ui-contract.js';
import { DEFAULT_AGENT_PORT, DEFAULT_UI_PORT } from '../../../../electron/hub/settings.js';
import { useHub, useWhenConnected } from '../../api/hub-context.js';
import { notifyDone, notifyError } from '../../lib/notify.js';
import { checkDraft, draftOf, overrideNotes, type NetworkDraft } from './network-form.js';

export function NetworkSection() {
  const client = useHub();
  const [view, setView] = useState<NetworkView | null>(null);
  const [draft, setDraft] = useState<NetworkDraft>({ uiPort: '', agentPort: '', allowRemoteUi: false });
  useWhenConnected(() => {
    client.request('network.get').then((loaded) => {
      setView(loaded);
      setDraft(draftOf(loaded));
    }, (error: unknown) => notifyError('Could not load the network settings', error));
  }, []);
  if (!view) return null;

  const check = checkDraft(draft, view);
  const changed = JSON.stringify(draft) !== JSON.stringify(draftOf(view));
  const errorOf = (field: keyof NetworkDraft) => (!check.ok && check.field === field ? check.message : undefined);
  const save = async () => {
    if (!check.ok) return;
    try {
      const saved = await client.request('network.update', check.patch);
      setView(saved);
      setDraft(draftOf(saved));
      notifyDone('Network settings saved; they take effect after the hub restarts');
    } catch (error) {
      notifyError('Could not save the network settings', error);
    }
  };
  const port = (value: string | number): number | '' => (value === '' ? '' : Number(value));
  const effective = view.effective;

  return (
    <Stack gap="md">
      <SimpleGrid cols={{ base: 1, md: 3 }}>
        <NumberInput label="UI and API port" description={`Empty for the default, ${DEFAULT_UI_PORT}.`} placeholder={String(DEFAULT_UI_PORT)} value={draft.uiPort} onChange={(value) => setDraft({ ...draft, uiPort: port(value) })} error={errorOf('uiPort')} min={1} max={65535} allowDecimal={false} />
        <NumberInput label="Agent port" description={`Empty for the default, ${DEFAULT_AGENT_PORT}.`} placeholder={String(DEFAULT_AGENT_PORT)} value={draft.agentPort} onChange={(value) => setDraft({ ...draft, agentPort: port(value) })} error={errorOf('agentPort')} min={1} max={65535} allowDecimal={false} />
        <Switch mt="lg" label="Allow remote UI access" description="Listen on every network interface (0.0.0.0) instead of this machine only; the admin token is still required." checked={draft.allowRemoteUi} onChange={(event) => setDraft({ ...draft, allowRemoteUi: event.currentTarget.checked })} />
      </SimpleGrid>
      <Text size="sm" c="dimmed" data-testid="network-effective">
        Running now: UI and API on {effective.uiHost} port {effective.uiPort}, agents on port {effective.agentPort}. Changes take effect after the hub restarts.
      </Text>
      {overrideNotes(view).map((note) => (
        <Alert key={note} color="yellow" variant="light" data-testid="network-override">{note}</Alert>
      ))}
      <Group justify="flex-end">
        <Button onClick={() => void save()} disabled={!changed || !check.ok}>Save network settings</Button>
      </Group>
    </Stack>
  );
}
