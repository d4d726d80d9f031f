/**
 * Runs the saved task once, with an optional config, target tags and agent,
 * and shows that run's live log beside the editor.
 */
import { Anchor, Button, Group, Select, Stack, TagsInput, Text } from '@mantine/core';
import { IconPlayerPlay } from '@tabler/icons-react';
import { useCallback, useState } from 'react';
import { Link } from 'react-router';
import type { Run } from '../../../../electron/hub/model.js';
import { JsonField } from '../../components/JsonField.js';
import { useHub } from '../../api/hub-context.js';
import { useLiveData, useRunChanges } from '../../api/live-data.js';
import { LogViewer } from '../../components/log-viewer/LogViewer.js';
import { useRunLog } from '../../components/log-viewer/use-run-log.js';
import { RunStatusBadge } from '../../components/StatusBadge.js';
import { notifyError } from '../../lib/notify.js';
import { parseJsonObject } from '../job-editor/job-form.js';
import { agentChoices, ANY_AGENT } from './agent-choices.js';

export function TestRunPanel({ taskId, dirty }: { taskId: string | null; dirty: boolean }) {
  const client = useHub();
  const { agents } = useLiveData();
  const [configText, setConfigText] = useState('{}');
  const [tags, setTags] = useState<string[]>([]);
  const [agentId, setAgentId] = useState(ANY_AGENT);
  const [run, setRun] = useState<Run | null>(null);
  const log = useRunLog(run?.id);
  const config = parseJsonObject(configText);
  useRunChanges(useCallback((runs: Run[]) => setRun((current) => runs.find((candidate) => candidate.id === current?.id) ?? current), []));

  const start = async () => {
    if (!taskId || !config.ok) return;
    try {
      setRun(await client.request('tasks.run', { id: taskId, config: config.value, tags, agentId: agentId === ANY_AGENT ? null : agentId }));
    } catch (error) {
      notifyError('Could not start the test run', error);
    }
  };

  return (
    <Stack gap="sm" h="100%">
      <JsonField label="Config for this run (merged over the default)" minRows={2} maxRows={6} value={configText} onChange={setConfigText} error={config.ok ? undefined : config.error} />
      <Group grow align="flex-start">
        <Select label="Agent" description="A chosen agent is the only one that may take the run; it waits while that agent is busy or offline." data={agentChoices(agents, agentId)} value={agentId} onChange={(value) => setAgentId(value ?? ANY_AGENT)} allowDeselect={false} searchable />
        <TagsInput label="Run on an agent with these tags" placeholder="any agent" value={tags} onChange={setTags} />
      </Group>
      <Group justify="space-between">
        <Button leftSection={<IconPlayerPlay size={16} />} onClick={() => void start()} disabled={!taskId || !config.ok}>
          Test run
        </Button>
        {run && (
          <Group gap="xs">
            <RunStatusBadge status={run.status} />
            <Anchor component={Link} to={`/runs/${run.id}`} size="sm">Open run</Anchor>
          </Group>
        )}
      </Group>
      {!taskId && <Text size="sm" c="dimmed">Save the task first; a test run uses the saved version.</Text>}
      {taskId && dirty && <Text size="sm" c="orange">Unsaved changes: a test run uses the last saved version.</Text>}
      {run && <LogViewer lines={log.lines} version={log.version} height={360} emptyText={run.waitingReason ?? 'Waiting for output…'} />}
    </Stack>
  );
}
