/**
 * One run: its status and facts, live log, records and result; cancel
 * while it is not final, run again once it is.
 */
import { Alert, Anchor, Button, Code, Group, Loader, ScrollArea, Stack, Table, Tabs, Text } from '@mantine/core';
import { IconPlayerPlay, IconPlayerStop } from '@tabler/icons-react';
import { useCallback, useEffect, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { isFinal, isUnrun, type Json, type Run } from '../../../../electron/hub/model.js';
import { useConnectionStatus, useHub } from '../../api/hub-context.js';
import { useLiveData, useRunChanges } from '../../api/live-data.js';
import { LogViewer } from '../../components/log-viewer/LogViewer.js';
import { useRunLog, type RunLog } from '../../components/log-viewer/use-run-log.js';
import { Page } from '../../components/Page.js';
import { PageHeader } from '../../components/PageHeader.js';
import { RunStatusBadge } from '../../components/StatusBadge.js';
import { downloadRunLog } from '../../lib/download.js';
import { notifyDone, notifyError } from '../../lib/notify.js';
import { useNow } from '../../lib/use-now.js';
import { FireSummary } from './FireSummary.js';
import { RunFacts } from './RunFacts.js';

/** Records shown in the table; the rest are in the HTTP API's download. */
const RECORD_ROWS = 500;

function RecordsTable({ records }: { records: readonly Json[] }) {
  if (records.length === 0) return <Text c="dimmed" size="sm" p="md">This run emitted no records.</Text>;
  const objects = records.slice(0, RECORD_ROWS);
  const columns = [...new Set(objects.flatMap((record) => (record && typeof record === 'object' && !Array.isArray(record) ? Object.keys(record) : ['value'])))].slice(0, 12);
  const cell = (record: Json, column: string): string => {
    const isObject = record !== null && typeof record === 'object' && !Array.isArray(record);
    let value: Json | undefined = undefined;
    if (isObject) value = record[column];
    else if (column === 'value') value = record;
    if (value === undefined) return '';
    return typeof value === 'string' ? value : JSON.stringify(value);
  };
  return (
    <ScrollArea h={420}>
      <Table striped stickyHeader aria-label="Records">
        <Table.Thead>
          <Table.Tr>{columns.map((column) => <Table.Th key={column}>{column}</Table.Th>)}</Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {objects.map((record, index) => (
            <Table.Tr key={index}>{columns.map((column) => <Table.Td key={column} ff="monospace" fz="xs">{cell(record, column)}</Table.Td>)}</Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </ScrollArea>
  );
}

export function RunPage() {
  const { id } = useParams();
  const client = useHub();
  const status = useConnectionStatus();
  const navigate = useNavigate();
  const { agents, tasks } = useLiveData();
  const [run, setRun] = useState<Run | null>(null);
  const [error, setError] = useState<string | null>(null);
  const log = useRunLog(id);
  const now = useNow(1000);

  useEffect(() => {
    if (!id || status !== 'connected') return;
    client.request('runs.get', { id }).then(setRun, (failure: unknown) => setError(failure instanceof Error ? failure.message : String(failure)));
  }, [client, id, status]);
  useRunChanges(useCallback((runs: Run[]) => {
    const update = runs.find((candidate) => candidate.id === id);
    if (update) setRun(update);
  }, [id]));

  if (error) return <Page label="Run"><Alert color="red" title="Cannot open this run">{error}</Alert></Page>;
  if (!run) return <Page label="Run"><Loader /></Page>;

  const task = tasks.find((candidate) => candidate.id === run.taskId);
  const title = run.jobName ?? `${task?.name ?? 'Task'} (ad hoc)`;
  const cancel = () => client.request('runs.cancel', { id: run.id }).then(() => notifyDone('Cancel sent'), (failure: unknown) => notifyError('Could not cancel', failure));
  const runAgain = async () => {
    try {
      const next = run.jobId ? await client.request('jobs.run', { id: run.jobId }) : await client.request('tasks.run', { id: run.taskId, config: run.config, tags: run.tags });
      navigate(`/runs/${next.id}`);
    } catch (failure) {
      notifyError('Could not start the run', failure);
    }
  };

  return (
    <Page label="Run">
      <PageHeader
        title={
          <Group gap="sm">
            {title}
            <RunStatusBadge status={run.status} size="lg" />
          </Group>
        }
        description={run.jobId ? <Anchor component={Link} to={`/jobs/${run.jobId}`}>Open the job</Anchor> : task ? <Anchor component={Link} to={`/tasks/${task.id}`}>Open the task</Anchor> : undefined}
        actions={
          isFinal(run.status) ? (
            <Button leftSection={<IconPlayerPlay size={16} />} onClick={() => void runAgain()}>{isUnrun(run.status) ? 'Run now' : 'Run again'}</Button>
          ) : (
            <Button color="red" variant="light" leftSection={<IconPlayerStop size={16} />} onClick={() => void cancel()} disabled={run.cancelRequestedAt !== null}>
              {run.cancelRequestedAt !== null ? 'Cancelling…' : 'Cancel run'}
            </Button>
          )
        }
      />
      <Stack gap="md">
        <FireSummary run={run} />
        {isUnrun(run.status) ? null : <RunDetails run={run} log={log} now={now} agentName={agents.find((agent) => agent.id === run.agentId)?.name ?? null} onDownload={() => void downloadRunLog(run.id, client.token).catch((failure: unknown) => notifyError('Download failed', failure))} />}
      </Stack>
    </Page>
  );
}

interface RunDetailsProps {
  run: Run;
  log: RunLog;
  now: number;
  agentName: string | null;
  onDownload: () => void;
}

function RunDetails({ run, log, now, agentName, onDownload }: RunDetailsProps) {
  return (
    <>
      <RunFacts run={run} agentName={agentName} now={now} />
      <Tabs defaultValue="log" keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="log">Log</Tabs.Tab>
          <Tabs.Tab value="records">Records ({run.recordCount})</Tabs.Tab>
          <Tabs.Tab value="result">Result and config</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="log" pt="sm">
          <LogViewer lines={log.lines} version={log.version} height="calc(100vh - 420px)" emptyText={log.loading ? 'Loading…' : 'No output yet.'} onDownload={onDownload} />
        </Tabs.Panel>
        <Tabs.Panel value="records" pt="sm">
          <RecordsTable records={log.records} />
        </Tabs.Panel>
        <Tabs.Panel value="result" pt="sm">
          <Stack>
            <Text fw={500} size="sm">Result</Text>
            <Code block>{run.result === null ? 'none' : JSON.stringify(run.result, null, 2)}</Code>
            <Text fw={500} size="sm">Config the run received</Text>
            <Code block>{JSON.stringify(run.config, null, 2)}</Code>
          </Stack>
        </Tabs.Panel>
      </Tabs>
    </>
  );
}
