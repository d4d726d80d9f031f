/**
 * Changes the ticked fields on every selected job and leaves the others as
 * they are on each job.
 */
import { Alert, Button, Checkbox, Group, Modal, NumberInput, Select, Stack, Switch, TagsInput, Text } from '@mantine/core';
import { useState, type ReactNode } from 'react';
import type { JobPatch } from '../../../../electron/hub/model.js';
import { BULK_FIELDS, buildBulkPatch, DEFAULT_BULK_VALUES, type BulkField, type BulkValues } from './bulk-edit.js';

const LABELS: Record<BulkField, string> = {
  enabled: 'Enabled',
  tags: 'Target tags',
  timeoutSec: 'Timeout',
  retries: 'Retries',
  retryDelaySec: 'Retry delay',
  overlap: 'Overlap policy',
  catchUp: 'Missed fires',
};

export interface BulkEditDialogProps {
  opened: boolean;
  count: number;
  onClose(): void;
  /** Sends the patch; a rejection's message is shown in the dialog. */
  onApply(patch: JobPatch): Promise<void>;
}

export function BulkEditDialog({ opened, count, onClose, onApply }: BulkEditDialogProps) {
  const [ticked, setTicked] = useState<Set<BulkField>>(new Set());
  const [values, setValues] = useState<BulkValues>(DEFAULT_BULK_VALUES);
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const result = buildBulkPatch(ticked, values);
  const errors = result.ok ? {} : result.errors;

  const set = <K extends keyof BulkValues>(field: K, value: BulkValues[K]) => setValues((current) => ({ ...current, [field]: value }));
  const tick = (field: BulkField, on: boolean) =>
    setTicked((current) => {
      const next = new Set(current);
      if (on) next.add(field);
      else next.delete(field);
      return next;
    });
  const apply = async () => {
    if (!result.ok) return;
    setBusy(true);
    setFailure(null);
    try {
      await onApply(result.patch);
      setTicked(new Set());
    } catch (error) {
      setFailure(error instanceof Error ? error.message : String(error));
    } finally {
      setBusy(false);
    }
  };

  const editors: Record<BulkField, ReactNode> = {
    enabled: <Switch aria-label="Enabled value" checked={values.enabled} onChange={(event) => set('enabled', event.currentTarget.checked)} label={values.enabled ? 'Enabled' : 'Disabled'} />,
    tags: <TagsInput aria-label="Target tags value" value={values.tags} onChange={(value) => set('tags', value)} error={ticked.has('tags') ? errors.tags : undefined} />,
    timeoutSec: <NumberInput aria-label="Timeout value" placeholder="none" suffix=" s" min={1} value={values.timeoutSec} onChange={(value) => set('timeoutSec', value === '' ? '' : Number(value))} error={ticked.has('timeoutSec') ? errors.timeoutSec : undefined} />,
    retries: <NumberInput aria-label="Retries value" min={0} value={values.retries} onChange={(value) => set('retries', value === '' ? '' : Number(value))} error={ticked.has('retries') ? errors.retries : undefined} />,
    retryDelaySec: <NumberInput aria-label="Retry delay value" suffix=" s" min={0} value={values.retryDelaySec} onChange={(value) => set('retryDelaySec', value === '' ? '' : Number(value))} error={ticked.has('retryDelaySec') ? errors.retryDelaySec : undefined} />,
    overlap: (
      <Group grow>
        <Select aria-label="Overlap policy value" data={[{ value: 'skip', label: 'Skip the fire' }, { value: 'queue', label: 'Queue one run' }, { value: 'parallel', label: 'Run in parallel' }]} value={values.overlap} onChange={(value) => set('overlap', (value ?? 'skip') as BulkValues['overlap'])} />
        {values.overlap === 'parallel' && <NumberInput aria-label="At most in parallel" min={1} value={values.maxParallel} onChange={(value) => set('maxParallel', value === '' ? '' : Number(value))} error={errors.maxParallel} />}
      </Group>
    ),
    catchUp: <Select aria-label="Missed fires value" data={[{ value: 'none', label: 'Skip them' }, { value: 'once', label: 'Run once at start' }]} value={values.catchUp} onChange={(value) => set('catchUp', value === 'once' ? 'once' : 'none')} />,
  };

  return (
    <Modal opened={opened} onClose={onClose} title={<Text fw={600}>Edit {count} jobs</Text>} size="lg">
      <Stack gap="sm">
        <Text size="sm" c="dimmed">
          Tick the fields to change. Every selected job gets the ticked values; all other fields keep each job&apos;s own value.
        </Text>
        {BULK_FIELDS.map((field) => (
          <Group key={field} wrap="nowrap" align="flex-start" data-field={field}>
            <Checkbox w={170} mt={6} label={LABELS[field]} checked={ticked.has(field)} onChange={(event) => tick(field, event.currentTarget.checked)} />
            <div style={{ flex: 1, opacity: ticked.has(field) ? 1 : 0.45 }}>{editors[field]}</div>
          </Group>
        ))}
        {failure && <Alert color="red" role="alert">{failure}</Alert>}
        <Group justify="flex-end" mt="sm">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button onClick={() => void apply()} disabled={!result.ok} loading={busy}>
            Apply to {count} jobs
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
