/**
 * Run history with filters by job, status, agent and time, one page of 50
 * at a time through the hub's `before` cursor, kept live by pushes.
 */
import { Anchor, Button, Card, Group, Progress, Select, Stack, Table, Text } from '@mantine/core';
import { IconFilterOff } from '@tabler/icons-react';
import { useCallback, useMemo, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { isUnrun, runStatusSchema, type Run, type RunStatus } from '../../../../electron/hub/model.js';
import { useWhenConnected } from '../../api/hub-context.js';
import type { HubClient } from '../../api/client.js';
import { useLiveData, useRunChanges } from '../../api/live-data.js';
import { Page } from '../../components/Page.js';
import { PageHeader } from '../../components/PageHeader.js';
import { RunStatusBadge } from '../../components/StatusBadge.js';
import { formatDateTime, formatDuration } from '../../lib/format.js';
import { notifyError } from '../../lib/notify.js';
import { RUN_STATUS } from '../../lib/status.js';
import { useNow } from '../../lib/use-now.js';
import { describeFires, shortFires } from '../run/fire-summary.js';
import { applyRunChanges, TIME_RANGES, type RunsFilter } from './runs-filter.js';

const PAGE_SIZE = 50;

function readFilter(params: URLSearchParams): RunsFilter {
  const status = runStatusSchema.safeParse(params.get('status'));
  const within = Number(params.get('within'));
  return { jobId: params.get('job'), status: status.success ? status.data : null, agentId: params.get('agent'), withinMs: within > 0 ? within : null };
}

async function fetchPage(client: HubClient, filter: RunsFilter, before: string | undefined): Promise<Run[]> {
  return client.request('runs.list', {
    limit: PAGE_SIZE,
    ...(filter.jobId ? { jobId: filter.jobId } : {}),
    ...(filter.status ? { status: filter.status } : {}),
    ...(filter.agentId ? { agentId: filter.agentId } : {}),
    ...(filter.withinMs ? { from: Date.now() - filter.withinMs } : {}),
    ...(before ? { before } : {}),
  });
}

function duration(run: Run, now: number): string {
  // A queued retry still carries the start time of its previous attempt.
  if (run.startedAt === null || run.status === 'queued') return '–';
  return formatDuration((run.finishedAt ?? now) - run.startedAt);
}

export function RunsPage() {
  const { jobs, agents, tasks } = useLiveData();
  const [params, setParams] = useSearchParams();
  const filter = useMemo(() => readFilter(params), [params]);
  const [runs, setRuns] = useState<Run[]>([]);
  const [more, setMore] = useState(false);
  const [loading, setLoading] = useState(true);
  const [client, setClient] = useState<HubClient | null>(null);
  const now = useNow(1000);
  const agentName = useMemo(() => new Map(agents.map((agent) => [agent.id, agent.name])), [agents]);
  const taskName = useMemo(() => new Map(tasks.map((task) => [task.id, task.name])), [tasks]);

  useWhenConnected((connected) => {
    let cancelled = false;
    setClient(connected);
    setLoading(true);
    fetchPage(connected, filter, undefined).then(
      (page) => {
        if (cancelled) return;
        setRuns(page);
        setMore(page.length === PAGE_SIZE);
        setLoading(false);
      },
      (error: unknown) => notifyError('Could not list runs', error),
    );
    return () => {
      cancelled = true;
    };
  }, [filter]);
  useRunChanges(useCallback((changed: Run[]) => setRuns((list) => applyRunChanges(list, changed, filter, Date.now())), [filter]));

  const loadOlder = async () => {
    const last = runs.at(-1);
    if (!client || !last) return;
    try {
      const page = await fetchPage(client, filter, last.id);
      setRuns((list) => [...list, ...page.filter((run) => !list.some((existing) => existing.id === run.id))]);
      setMore(page.length === PAGE_SIZE);
    } catch (error) {
      notifyError('Could not list runs', error);
    }
  };
  const setParam = (name: string, value: string | null) =>
    setParams((current) => {
      const next = new URLSearchParams(current);
      if (value) next.set(name, value);
      else next.delete(name);
      return next;
    });
  const filtered = params.size > 0;

  return (
    <Page label="Runs">
      <PageHeader title="Runs" description="Every run of every job and task, newest first." />
      <Card withBorder padding={0} radius="md">
        <Group p="sm" gap="sm" align="flex-end">
          <Select label="Job" placeholder="All jobs" searchable clearable w={220} data={jobs.map((job) => ({ value: job.id, label: job.name }))} value={filter.jobId} onChange={(value) => setParam('job', value)} />
          <Select label="Status" placeholder="Any status" clearable w={160} data={Object.entries(RUN_STATUS).map(([value, { label }]) => ({ value, label }))} value={filter.status} onChange={(value) => setParam('status', value as RunStatus | null)} />
          <Select label="Agent" placeholder="Any agent" searchable clearable w={180} data={agents.map((agent) => ({ value: agent.id, label: agent.name }))} value={filter.agentId} onChange={(value) => setParam('agent', value)} />
          <Select label="Queued" w={160} data={TIME_RANGES.map((range) => ({ value: String(range.ms ?? ''), label: range.label }))} value={String(filter.withinMs ?? '')} onChange={(value) => setParam('within', value || null)} allowDeselect={false} />
          {filtered && <Button variant="subtle" leftSection={<IconFilterOff size={16} />} onClick={() => setParams(new URLSearchParams())}>Clear filters</Button>}
        </Group>
        <Table.ScrollContainer minWidth={960}>
          <Table aria-label="Runs">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Status</Table.Th>
                <Table.Th>Run</Table.Th>
                <Table.Th>Trigger</Table.Th>
                <Table.Th>Agent</Table.Th>
                <Table.Th>Attempt</Table.Th>
                <Table.Th>Queued</Table.Th>
                <Table.Th>Duration</Table.Th>
                <Table.Th w={160}>Progress</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {runs.map((run) => (
                <Table.Tr key={run.id} data-run={run.id} data-status={run.status}>
                  <Table.Td><RunStatusBadge status={run.status} /></Table.Td>
                  <Table.Td>
                    <Anchor component={Link} to={`/runs/${run.id}`} fw={600} size="sm">{run.jobName ?? `${taskName.get(run.taskId) ?? 'task'} (ad hoc)`}</Anchor>
                    <Text size="xs" c="dimmed" ff="monospace">{run.id.slice(0, 8)}</Text>
                    {run.fires && <Text size="xs" c="dimmed" data-testid="run-fires" title={describeFires(run) ?? undefined}>{shortFires(run)}</Text>}
                  </Table.Td>
                  <Table.Td><Text size="sm">{run.trigger.replace('_', '-')}</Text></Table.Td>
                  <Table.Td><Text size="sm">{run.agentId ? agentName.get(run.agentId) ?? run.agentId.slice(0, 8) : run.waitingReason ? 'waiting' : '–'}</Text></Table.Td>
                  <Table.Td>{isUnrun(run.status) ? '–' : `${run.attempt} of ${run.maxAttempts}`}</Table.Td>
                  <Table.Td><Text size="sm">{formatDateTime(run.queuedAt)}</Text></Table.Td>
                  <Table.Td>{duration(run, now)}</Table.Td>
                  <Table.Td>{run.progress ? <Progress value={run.progress.percent} size="sm" aria-label="Progress" /> : <Text size="xs" c="dimmed">–</Text>}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
        <Stack align="center" p="md">
          {!loading && runs.length === 0 && <Text c="dimmed">{filtered ? 'No run matches these filters.' : 'No runs yet. Run a job to see it here.'}</Text>}
          {more && <Button variant="default" onClick={() => void loadOlder()}>Load older runs</Button>}
        </Stack>
      </Card>
    </Page>
  );
}
