/**
 * The job editor's form: every field validated live with the hub's schema,
 * the schedule previewed by the hub, and the hub's own error shown on its
 * field when a save is still rejected.
 */
import { Alert, Button, Card, Chip, Code, Group, NumberInput, SegmentedControl, Select, SimpleGrid, Stack, Switch, TagsInput, Text, TextInput, Title } from '@mantine/core';
import { useEffect, useMemo, useState, type KeyboardEvent, type ReactNode } from 'react';
import type { JobInput, Task } from '../../../../electron/hub/model.js';
import { JsonField } from '../../components/JsonField.js';
import { CRON_PRESETS, describeCron } from '../../lib/cron.js';
import { useNow } from '../../lib/use-now.js';
import { fieldOf, mergedConfig, validateJobForm, type JobFormErrors, type JobFormField, type JobFormValues } from './job-form.js';
import { SchedulePreview } from './SchedulePreview.js';

export interface JobFormProps {
  initial: JobFormValues;
  tasks: readonly Task[];
  submitLabel: string;
  /** Next fire times from the hub; rejects with the hub's reason for a schedule that cannot fire. */
  previewSchedule(cron: string, timezone: string): Promise<string[]>;
  /** Saves; a rejection with `field` (the hub's dotted path) marks that field. */
  onSubmit(input: JobInput): Promise<void>;
  onCancel(): void;
}

const PREVIEW_DELAY_MS = 300;
const TIME_ZONES = ['UTC', ...Intl.supportedValuesOf('timeZone').filter((zone) => zone !== 'UTC')];

/**
 * Lists the browser's zone names plus the job's own. The hub accepts every
 * zone name Node's Intl accepts, such as `Asia/Kolkata` or `Etc/GMT+5`. A
 * browser's list may leave such a name out or give it under an older alias,
 * and the job's zone must still show.
 */
function timeZoneOptions(current: string): string[] {
  return TIME_ZONES.includes(current) ? TIME_ZONES : [current, ...TIME_ZONES];
}

/** Lists the tasks to pick from. Task names may repeat, so a repeated name also shows the start of its id. */
function taskOptions(tasks: readonly Task[]): Array<{ value: string; label: string }> {
  const counts = new Map<string, number>();
  for (const task of tasks) counts.set(task.name.toLowerCase(), (counts.get(task.name.toLowerCase()) ?? 0) + 1);
  return tasks.map((task) => {
    const repeated = (counts.get(task.name.toLowerCase()) ?? 0) > 1;
    return { value: task.id, label: `${task.name} (${task.runtime})${repeated ? ` · ${task.id.slice(0, 8)}` : ''}` };
  });
}

/** Keeps Enter in a searchable field for picking an option, so it never submits the form with the search text dropped. */
function keepEnter(event: KeyboardEvent<HTMLInputElement>): void {
  if (event.key === 'Enter') event.preventDefault();
}

function Section({ title, children }: { title: string; children: ReactNode }) {
  return (
    <Card withBorder radius="md" padding="lg">
      <Title order={4} mb="md">
        {title}
      </Title>
      <Stack gap="sm">{children}</Stack>
    </Card>
  );
}

/** Asks the hub for the next fire times while the schedule is valid in the browser's eyes. */
function useFirePreview(values: JobFormValues, clientError: string | undefined, preview: JobFormProps['previewSchedule']) {
  const [state, setState] = useState<{ times: string[]; error: string | null; field: 'cron' | 'timezone' }>({ times: [], error: null, field: 'cron' });
  useEffect(() => {
    if (!values.scheduled || clientError) {
      setState({ times: [], error: null, field: 'cron' });
      return undefined;
    }
    let cancelled = false;
    const timer = setTimeout(() => {
      preview(values.cron, values.timezone).then(
        (times) => !cancelled && setState({ times, error: null, field: 'cron' }),
        (error: unknown) => {
          if (cancelled) return;
          // The hub names the part of the schedule at fault: the expression or the time zone.
          const field = (error as { field?: string }).field === 'timezone' ? 'timezone' : 'cron';
          setState({ times: [], error: error instanceof Error ? error.message.replace(/^(cron|timezone): /, '') : String(error), field });
        },
      );
    }, PREVIEW_DELAY_MS);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [values.scheduled, values.cron, values.timezone, clientError, preview]);
  return state;
}

export function JobForm({ initial, tasks, submitLabel, previewSchedule, onSubmit, onCancel }: JobFormProps) {
  const [values, setValues] = useState(initial);
  const [touched, setTouched] = useState<Set<JobFormField>>(new Set());
  const [serverErrors, setServerErrors] = useState<JobFormErrors>({});
  const [saving, setSaving] = useState(false);
  const [formError, setFormError] = useState<string | null>(null);
  const now = useNow(30_000);
  const { errors, input } = useMemo(() => validateJobForm(values), [values]);
  const fire = useFirePreview(values, errors.cron, previewSchedule);
  const task = tasks.find((candidate) => candidate.id === values.taskId);
  const merged = mergedConfig(task, values.configText);
  const description = values.scheduled ? describeCron(values.cron) : null;

  const set = <K extends JobFormField>(field: K, value: JobFormValues[K]) => {
    setValues((current) => ({ ...current, [field]: value }));
    setTouched((current) => new Set(current).add(field));
    setServerErrors((current) => ({ ...current, [field]: undefined }));
  };
  const errorOf = (field: JobFormField): string | undefined => {
    const scheduleError = field === fire.field ? fire.error ?? undefined : undefined;
    const shown = touched.has(field) ? errors[field] ?? scheduleError : undefined;
    return serverErrors[field] ?? shown;
  };
  const submit = async () => {
    setTouched(new Set(Object.keys(values) as JobFormField[]));
    setFormError(null);
    if (!input || fire.error) return;
    setSaving(true);
    try {
      await onSubmit(input);
    } catch (error) {
      const field = (error as { field?: string }).field;
      const message = error instanceof Error ? error.message : String(error);
      const formField = field ? fieldOf(field.split('.')) : null;
      // An error the form has no field for (the request body as a whole, the hub itself) still needs a place on screen.
      if (formField !== null && formField in values) setServerErrors({ [formField]: message.replace(/^[\w.]+: /, '') });
      else setFormError(message);
    } finally {
      setSaving(false);
    }
  };

  return (
    <form
      aria-label="Job"
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        void submit();
      }}
    >
      <SimpleGrid cols={{ base: 1, lg: 2 }} spacing="md">
        <Stack gap="md">
          <Section title="Job">
            <TextInput label="Name" required value={values.name} onChange={(event) => set('name', event.currentTarget.value)} error={errorOf('name')} />
            <Select
              label="Task"
              required
              allowDeselect={false}
              searchable
              data={taskOptions(tasks)}
              value={values.taskId || null}
              onChange={(value) => set('taskId', value ?? '')}
              error={errorOf('taskId')}
              nothingFoundMessage="No task with that name"
            />
            <Switch label="Enabled: fires on its schedule" checked={values.enabled} onChange={(event) => set('enabled', event.currentTarget.checked)} />
          </Section>
          <Section title="Config">
            <JsonField
              label="Job config (JSON)"
              description="Merged over the task's default config on every run."
              minRows={4}
              maxRows={16}
              value={values.configText}
              onChange={(value) => set('configText', value)}
              error={errorOf('configText')}
            />
            <div>
              <Text size="sm" fw={500} mb={4}>
                Config a run receives
              </Text>
              <Code block data-testid="merged-config" mah={320} style={{ overflow: 'auto' }}>
                {merged ? JSON.stringify(merged, null, 2) : 'Fix the JSON above to see the merged config.'}
              </Code>
            </div>
          </Section>
        </Stack>
        <Stack gap="md">
          <Section title="Schedule">
            <SegmentedControl
              aria-label="Trigger"
              value={values.scheduled ? 'cron' : 'manual'}
              onChange={(value) => set('scheduled', value === 'cron')}
              data={[
                { value: 'cron', label: 'On a schedule' },
                { value: 'manual', label: 'Manual only' },
              ]}
            />
            {values.scheduled && (
              <>
                <Chip.Group>
                  <Group gap={6}>
                    {CRON_PRESETS.map((preset) => (
                      <Chip key={preset.cron} size="xs" variant="light" checked={values.cron === preset.cron} onChange={() => set('cron', preset.cron)}>
                        {preset.label}
                      </Chip>
                    ))}
                  </Group>
                </Chip.Group>
                <Group grow align="flex-start">
                  <TextInput label="Cron expression" value={values.cron} onChange={(event) => set('cron', event.currentTarget.value)} error={errorOf('cron')} />
                  <Select label="Time zone" searchable allowDeselect={false} data={timeZoneOptions(values.timezone)} value={values.timezone} onChange={(value) => set('timezone', value ?? 'UTC')} onKeyDown={keepEnter} error={errorOf('timezone')} />
                </Group>
                <SchedulePreview description={description?.ok && !fire.error ? description.text : null} fireTimes={fire.times} timezone={values.timezone} now={now} />
                <Select
                  label="Missed fires (app closed, machine asleep)"
                  allowDeselect={false}
                  data={[
                    { value: 'none', label: 'Skip them' },
                    { value: 'once', label: 'Run once at start' },
                  ]}
                  value={values.catchUp}
                  onChange={(value) => set('catchUp', value === 'once' ? 'once' : 'none')}
                />
              </>
            )}
          </Section>
          <Section title="Placement and policies">
            <TagsInput label="Target tags" description="Only agents carrying every tag run this job." value={values.tags} onChange={(value) => set('tags', value)} error={errorOf('tags')} clearable />
            <SimpleGrid cols={3}>
              <NumberInput label="Timeout (s)" placeholder="none" min={1} value={values.timeoutSec} onChange={(value) => set('timeoutSec', value === '' ? '' : Number(value))} error={errorOf('timeoutSec')} />
              <NumberInput label="Retries" min={0} value={values.retries} onChange={(value) => set('retries', value === '' ? '' : Number(value))} error={errorOf('retries')} />
              <NumberInput label="Retry delay (s)" min={0} value={values.retryDelaySec} onChange={(value) => set('retryDelaySec', value === '' ? '' : Number(value))} error={errorOf('retryDelaySec')} />
            </SimpleGrid>
            <Group grow align="flex-start">
              <Select
                label="When the previous run is still going"
                allowDeselect={false}
                data={[
                  { value: 'skip', label: 'Skip the fire' },
                  { value: 'queue', label: 'Queue one run' },
                  { value: 'parallel', label: 'Run in parallel' },
                ]}
                value={values.overlap}
                onChange={(value) => set('overlap', (value ?? 'skip') as JobFormValues['overlap'])}
              />
              {values.overlap === 'parallel' && (
                <NumberInput label="At most in parallel" min={1} value={values.maxParallel} onChange={(value) => set('maxParallel', value === '' ? '' : Number(value))} error={errorOf('maxParallel')} />
              )}
            </Group>
            <JsonField label="Environment (JSON)" minRows={2} value={values.envText} onChange={(value) => set('envText', value)} error={errorOf('envText')} />
          </Section>
        </Stack>
      </SimpleGrid>
      {formError && (
        <Alert color="red" mt="lg" title="The hub did not save the job">
          {formError}
        </Alert>
      )}
      <Group justify="flex-end" mt="lg">
        <Button variant="default" onClick={onCancel}>
          Cancel
        </Button>
        <Button type="submit" loading={saving}>
          {submitLabel}
        </Button>
      </Group>
    </form>
  );
}
