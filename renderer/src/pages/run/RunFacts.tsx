/**
 * The facts of one run: who ran it, when, how long and how it ended.
 */
import { Anchor, Card, Group, Progress, SimpleGrid, Stack, Text } from '@mantine/core';
import type { ReactNode } from 'react';
import { Link } from 'react-router';
import type { Run } from '../../../../electron/hub/model.js';
import { formatDateTime, formatDuration } from '../../lib/format.js';

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <Stack gap={2}>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>{label}</Text>
      <Text size="sm" component="div">{children}</Text>
    </Stack>
  );
}

function ending(run: Run): string {
  if (run.error) return run.error;
  if (run.signal) return `killed by ${run.signal}`;
  if (run.exitCode !== null) return `exit code ${run.exitCode}`;
  return '–';
}

export function RunFacts({ run, agentName, now }: { run: Run; agentName: string | null; now: number }) {
  const percent = run.progress?.percent ?? (run.status === 'succeeded' ? 100 : 0);
  return (
    <Card withBorder radius="md" padding="lg">
      <SimpleGrid cols={{ base: 2, md: 4 }} spacing="lg" verticalSpacing="md">
        <Fact label="Agent">{run.agentId ? <Anchor component={Link} to="/fleet">{agentName ?? run.agentId.slice(0, 8)}</Anchor> : run.waitingReason ?? 'not placed yet'}</Fact>
        <Fact label="Attempt">{run.attempt} of {run.maxAttempts}</Fact>
        <Fact label="Trigger">{run.trigger.replace('_', '-')}</Fact>
        <Fact label="Task version">v{run.taskVersion}</Fact>
        <Fact label="Queued">{formatDateTime(run.queuedAt)}</Fact>
        <Fact label="Started">{run.startedAt ? formatDateTime(run.startedAt) : '–'}</Fact>
        <Fact label="Finished">{run.finishedAt ? formatDateTime(run.finishedAt) : '–'}</Fact>
        <Fact label="Duration">{run.startedAt ? formatDuration((run.finishedAt ?? now) - run.startedAt) : '–'}</Fact>
        <Fact label="Ending">{ending(run)}</Fact>
        <Fact label="Timeout">{run.timeoutSec ? `${run.timeoutSec} s` : 'none'}</Fact>
        <Fact label="Output">{run.logLines} lines{run.logTruncated ? ' (capped)' : ''} · {run.recordCount} records</Fact>
        <Fact label="Run id"><Text ff="monospace" size="xs">{run.id}</Text></Fact>
      </SimpleGrid>
      <Stack gap={4} mt="lg">
        <Group justify="space-between">
          <Text size="sm" fw={500}>Progress</Text>
          <Text size="sm" c="dimmed" data-testid="progress-text">{run.progress ? `${Math.round(run.progress.percent)}%${run.progress.message ? ` · ${run.progress.message}` : ''}` : 'not reported'}</Text>
        </Group>
        <Progress value={percent} size="lg" radius="xl" animated={run.status === 'running'} aria-label="Run progress" color={run.status === 'failed' ? 'red' : undefined} />
      </Stack>
    </Card>
  );
}
