/**
 * The in-app task editor: code in Monaco with completion for `ctx`, the
 * runtime and default config, compile errors from the hub at their lines
 * on save, and a test run with its live log beside the code.
 */
import { Alert, Badge, Button, Card, Group, Loader, SegmentedControl, Stack, Tabs, Text, TextInput } from '@mantine/core';
import { IconAlertTriangle, IconDeviceFloppy } from '@tabler/icons-react';
import { useEffect, useState } from 'react';
import { useNavigate, useParams } from 'react-router';
import { taskInputSchema, type CompileDiagnostic, type Runtime, type Task } from '../../../../electron/hub/model.js';
import type { TaskTemplate } from '../../../../electron/hub/ui-contract.js';
import { HubRequestError } from '../../api/client.js';
import { useConnectionStatus, useHub } from '../../api/hub-context.js';
import { JsonField } from '../../components/JsonField.js';
import { Page } from '../../components/Page.js';
import { notifyDone, notifyError } from '../../lib/notify.js';
import { parseJsonObject } from '../job-editor/job-form.js';
import { CodeEditor } from './CodeEditor.js';
import { TemplatePicker } from './TemplatePicker.js';
import { TestRunPanel } from './TestRunPanel.js';

interface Draft {
  name: string;
  runtime: Runtime;
  source: string;
  defaultConfigText: string;
}

function draftOf(task: Pick<Task, 'name' | 'runtime' | 'source' | 'defaultConfig'>): Draft {
  return { name: task.name, runtime: task.runtime, source: task.source, defaultConfigText: JSON.stringify(task.defaultConfig, null, 2) };
}

function diagnosticsOf(error: unknown): CompileDiagnostic[] {
  if (!(error instanceof HubRequestError) || error.field !== 'source') return [];
  const details = error.details as { diagnostics?: CompileDiagnostic[] } | undefined;
  return Array.isArray(details?.diagnostics) ? details.diagnostics : [];
}

export function TaskEditorPage() {
  const { id } = useParams();
  const navigate = useNavigate();
  const client = useHub();
  const status = useConnectionStatus();
  const [task, setTask] = useState<Task | null>(null);
  const [draft, setDraft] = useState<Draft | null>(null);
  const [diagnostics, setDiagnostics] = useState<CompileDiagnostic[]>([]);
  const [saveError, setSaveError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);

  useEffect(() => {
    if (!id || status !== 'connected') return;
    client.request('tasks.get', { id }).then(
      (loaded) => {
        setTask(loaded);
        setDraft((current) => current ?? draftOf(loaded));
      },
      (error: unknown) => notifyError('Cannot open this task', error),
    );
  }, [client, id, status]);

  const config = parseJsonObject(draft?.defaultConfigText ?? '{}');
  const nameCheck = taskInputSchema.shape.name.safeParse(draft?.name ?? '');
  const dirty = draft !== null && (!task || JSON.stringify(draftOf(task)) !== JSON.stringify(draft));

  const save = async () => {
    if (!draft || !config.ok || !nameCheck.success) return;
    setSaving(true);
    const input = { name: draft.name, runtime: draft.runtime, source: draft.source, defaultConfig: config.value };
    try {
      // The version this draft was made from: the hub refuses the save when the task was saved elsewhere since.
      const saved = task ? await client.request('tasks.update', { id: task.id, patch: { ...input, expectedVersion: task.version } }) : await client.request('tasks.create', input);
      setTask(saved);
      setDiagnostics([]);
      setSaveError(null);
      notifyDone(`${saved.name} saved as version ${saved.version}`);
      if (!task) navigate(`/tasks/${saved.id}`, { replace: true });
    } catch (error) {
      setDiagnostics(diagnosticsOf(error));
      setSaveError(error instanceof Error ? error.message : String(error));
    } finally {
      setSaving(false);
    }
  };
  const pick = (template: TaskTemplate) => setDraft(draftOf(template));
  const set = <K extends keyof Draft>(field: K, value: Draft[K]) => setDraft((current) => (current ? { ...current, [field]: value } : current));

  if (id && !draft) return <Page label="Task editor"><Loader /></Page>;
  if (!draft) return <TemplatePicker opened onPick={pick} onClose={() => navigate('/tasks')} />;

  return (
    <Page label="Task editor" wide>
      <Group justify="space-between" mb="md" wrap="nowrap" align="flex-end">
        <Group align="flex-end" wrap="nowrap">
          <TextInput label="Task name" value={draft.name} onChange={(event) => set('name', event.currentTarget.value)} error={nameCheck.success ? undefined : nameCheck.error.issues[0]?.message} w={320} />
          <SegmentedControl aria-label="Runtime" value={draft.runtime} onChange={(value) => set('runtime', value as Runtime)} data={[{ value: 'node', label: 'TypeScript (node)' }, { value: 'shell', label: 'Shell' }]} />
          {task && <Badge variant="light" size="lg" radius="sm">v{task.version}</Badge>}
          {dirty && <Text size="sm" c="orange">Unsaved changes</Text>}
        </Group>
        <Button leftSection={<IconDeviceFloppy size={16} />} onClick={() => void save()} loading={saving} disabled={!config.ok || !nameCheck.success}>
          Save
        </Button>
      </Group>
      {saveError && (
        <Alert color="red" icon={<IconAlertTriangle size={18} />} title={diagnostics.length > 0 ? `${diagnostics.length} compile error(s); the task was not saved` : 'Not saved'} mb="md" role="alert" withCloseButton onClose={() => setSaveError(null)}>
          <Stack gap={2}>
            {diagnostics.length > 0
              ? diagnostics.slice(0, 5).map((item, index) => <Text key={index} size="sm" ff="monospace" data-testid="diagnostic">Line {item.line}, column {item.column}: {item.message}</Text>)
              : saveError}
          </Stack>
        </Alert>
      )}
      <Group align="stretch" gap="md" wrap="nowrap" h="calc(100vh - 190px)">
        <Card withBorder padding={0} radius="md" style={{ flex: 3, minWidth: 0, overflow: 'hidden' }}>
          <CodeEditor value={draft.source} runtime={draft.runtime} onChange={(value) => set('source', value)} onSave={() => void save()} diagnostics={diagnostics} />
        </Card>
        <Card withBorder radius="md" style={{ flex: 2, minWidth: 360, overflow: 'auto' }}>
          <Tabs defaultValue="config">
            <Tabs.List mb="sm">
              <Tabs.Tab value="config">Default config</Tabs.Tab>
              <Tabs.Tab value="test">Test run</Tabs.Tab>
            </Tabs.List>
            <Tabs.Panel value="config">
              <JsonField label="Default config (JSON)" description="Every job's config is merged over this." minRows={8} value={draft.defaultConfigText} onChange={(value) => set('defaultConfigText', value)} error={config.ok ? undefined : config.error} />
            </Tabs.Panel>
            <Tabs.Panel value="test">
              <TestRunPanel taskId={task?.id ?? null} dirty={dirty} />
            </Tabs.Panel>
          </Tabs>
        </Card>
      </Group>
    </Page>
  );
}
