/**
 * The live output of every run at once, filterable by job, agent and text.
 */
import { Anchor, Badge, Group, Select, Text } from '@mantine/core';
import { useCallback, useMemo, useRef, useState } from 'react';
import { Link } from 'react-router';
import type { Run } from '../../../../electron/hub/model.js';
import { useWhenConnected } from '../../api/hub-context.js';
import { useLiveData, useRunChanges } from '../../api/live-data.js';
import { LogViewer } from '../../components/log-viewer/LogViewer.js';
import { useFrameCoalescer } from '../../components/log-viewer/use-run-log.js';
import { Page } from '../../components/Page.js';
import { PageHeader } from '../../components/PageHeader.js';
import { LiveLines, type LiveLine } from './live-lines.js';

/** Lines kept in the page; older ones are in each run's own log. */
const MAX_LINES = 100_000;

export function LogsPage() {
  const { jobs, agents } = useLiveData();
  const live = useRef(new LiveLines(MAX_LINES));
  const [version, bump] = useFrameCoalescer();
  const [runs, setRuns] = useState<Map<string, Run>>(new Map());
  const [jobId, setJobId] = useState<string | null>(null);
  const [agentId, setAgentId] = useState<string | null>(null);

  useWhenConnected((client) => {
    client.request('logs.follow').then((active) => setRuns((current) => new Map([...current, ...active.map((run) => [run.id, run] as const)])), () => undefined);
    const stop = client.on('log', (payload) => {
      if (live.current.add(payload.runId, payload.from, payload.lines) > 0) bump();
    });
    return () => {
      stop();
      client.request('logs.unfollow').catch(() => undefined);
    };
  }, []);
  useRunChanges(useCallback((changed: Run[]) => setRuns((current) => {
    const next = new Map(current);
    for (const run of changed) next.set(run.id, run);
    return next;
  }), []));

  const shown = useMemo(() => {
    if (!jobId && !agentId) return live.current.lines;
    return live.current.lines.filter((line) => {
      const run = runs.get(line.runId);
      return (!jobId || run?.jobId === jobId) && (!agentId || run?.agentId === agentId);
    });
  }, [version, jobId, agentId, runs]);
  const agentName = useMemo(() => new Map(agents.map((agent) => [agent.id, agent.name])), [agents]);
  const active = [...runs.values()].filter((run) => run.status === 'running' || run.status === 'assigned').length;

  const prefix = (line: LiveLine) => {
    const run = runs.get(line.runId);
    return (
      <Anchor component={Link} to={`/runs/${line.runId}`} size="xs" style={{ flex: 'none', width: 200, overflow: 'hidden', textOverflow: 'ellipsis' }}>
        {run?.jobName ?? line.runId.slice(0, 8)}
        {run?.agentId ? `@${agentName.get(run.agentId) ?? '?'}` : ''}
      </Anchor>
    );
  };

  return (
    <Page label="Live logs" wide>
      <PageHeader title="Live logs" description="Output of every run as it happens. Lines from before this page opened are in each run's own log." />
      <LogViewer
        lines={shown}
        version={version}
        height="calc(100vh - 200px)"
        emptyText="Waiting for output from running runs…"
        prefix={prefix}
        toolbar={
          <Group gap="xs" wrap="nowrap">
            <Select size="xs" aria-label="Job" placeholder="All jobs" clearable searchable w={170} data={jobs.map((job) => ({ value: job.id, label: job.name }))} value={jobId} onChange={setJobId} />
            <Select size="xs" aria-label="Agent" placeholder="All agents" clearable searchable w={150} data={agents.map((agent) => ({ value: agent.id, label: agent.name }))} value={agentId} onChange={setAgentId} />
            <Badge variant="light" size="sm">{active} running</Badge>
            <Text size="xs" c="dimmed" visibleFrom="xl">newest at the bottom</Text>
          </Group>
        }
      />
    </Page>
  );
}
