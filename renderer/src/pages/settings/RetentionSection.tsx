/**
 * Retention and the grace period of disconnected agents, validated with the
 * hub's settings schema.
 */
import { Button, Group, NumberInput, SimpleGrid } from '@mantine/core';
import { useState } from 'react';
import { settingsPatchSchema } from '../../../../electron/hub/settings.js';
import type { Settings } from '../../../../electron/hub/ui-contract.js';
import { useHub, useWhenConnected } from '../../api/hub-context.js';
import { notifyDone, notifyError } from '../../lib/notify.js';

type Field = 'retentionDays' | 'retentionPerJob' | 'agentGraceSec';
type Values = Record<Field, number | ''>;

export function RetentionSection() {
  const client = useHub();
  const [saved, setSaved] = useState<Settings | null>(null);
  const [values, setValues] = useState<Values>({ retentionDays: '', retentionPerJob: '', agentGraceSec: '' });
  useWhenConnected(() => {
    client.request('settings.get').then((settings) => {
      setSaved(settings);
      setValues({ retentionDays: settings.retentionDays, retentionPerJob: settings.retentionPerJob, agentGraceSec: settings.agentGraceSec });
    }, () => undefined);
  }, []);

  const patch = Object.fromEntries(Object.entries(values).filter(([, value]) => value !== ''));
  const check = settingsPatchSchema.safeParse(patch);
  const errorOf = (field: Field) => (check.success ? undefined : check.error.issues.find((issue) => issue.path[0] === field)?.message);
  const changed = saved !== null && (Object.keys(values) as Field[]).some((field) => values[field] !== saved[field]);
  const save = async () => {
    if (!check.success) return;
    try {
      setSaved(await client.request('settings.update', check.data));
      notifyDone('Settings saved');
    } catch (error) {
      notifyError('Could not save the settings', error);
    }
  };
  const input = (field: Field, label: string, description: string) => (
    <NumberInput label={label} description={description} value={values[field]} onChange={(value) => setValues((current) => ({ ...current, [field]: value === '' ? '' : Number(value) }))} error={errorOf(field)} min={field === 'agentGraceSec' ? 0 : 1} />
  );

  return (
    <>
      <SimpleGrid cols={{ base: 1, md: 3 }}>
        {input('retentionDays', 'Keep runs for (days)', 'Finished runs older than this are deleted with their logs.')}
        {input('retentionPerJob', 'Runs kept per job', 'Older finished runs of a job beyond this count are deleted.')}
        {input('agentGraceSec', 'Agent grace period (s)', 'How long runs wait for a disconnected agent before they are lost.')}
      </SimpleGrid>
      <Group justify="flex-end" mt="md">
        <Button onClick={() => void save()} disabled={!changed || !check.success}>Save settings</Button>
      </Group>
    </>
  );
}
