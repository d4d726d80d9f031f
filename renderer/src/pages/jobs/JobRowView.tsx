/**
 * One row of the jobs table. A row renders again only when what it shows
 * changed, and its relative times follow `NowContext`, so a table of
 * hundreds of jobs stays responsive while agents report and runs end.
 */
import { createContext, memo, useContext, useMemo } from 'react';
import { ActionIcon, Anchor, Checkbox, Code, Group, Menu, Stack, Switch, Table, Text, Tooltip } from '@mantine/core';
import { IconCopy, IconDots, IconEdit, IconPlayerPlay, IconTrash } from '@tabler/icons-react';
import { Link } from 'react-router';
import { RunStatusBadge } from '../../components/StatusBadge.js';
import { describeCron } from '../../lib/cron.js';
import { formatDateTime, formatRelative } from '../../lib/format.js';
import type { Job } from '../../../../electron/hub/model.js';
import type { JobOverview } from '../../../../electron/hub/ui-contract.js';

/** The time the table's relative dates count from. */
export const NowContext = createContext(0);

/** Handlers of the row's controls: one object for the whole table, so a row's props stay equal between renders. */
export interface JobRowActions {
  onSelect(job: Job, selected: boolean): void;
  onToggle(job: Job, enabled: boolean): void;
  onRun(job: Job): void;
  onDuplicate(job: Job): void;
  onDelete(job: Job): void;
}

interface JobRowProps {
  job: Job;
  taskName: string | null;
  overview: JobOverview | undefined;
  selected: boolean;
  actions: JobRowActions;
}

function Schedule({ job }: { job: Job }) {
  const schedule = job.schedule;
  const words = useMemo(() => (schedule ? describeCron(schedule.cron) : null), [schedule]);
  if (!schedule || !words) return <Text size="sm" c="dimmed">Manual only</Text>;
  return (
    <Stack gap={0}>
      <Code fz="xs" w="fit-content">{schedule.cron}</Code>
      <Text size="xs" c="dimmed">{words.ok ? words.text : words.error}</Text>
    </Stack>
  );
}

function NextRun({ job, overview }: { job: Job; overview: JobOverview | undefined }) {
  const now = useContext(NowContext);
  const next = overview?.nextFireAt;
  if (!next) return <Text size="sm" c="dimmed">–</Text>;
  const zone = job.schedule?.timezone ?? 'UTC';
  return (
    <Stack gap={0}>
      <Text size="sm">{formatDateTime(next, zone)}</Text>
      <Text size="xs" c="dimmed">{zone} · {formatRelative(Date.parse(next), now)}</Text>
    </Stack>
  );
}

function LastRun({ job, overview }: { job: Job; overview: JobOverview | undefined }) {
  const now = useContext(NowContext);
  const last = overview?.lastRun;
  if (!last) return <Text size="sm" c="dimmed">Never</Text>;
  return (
    <Group gap="xs" wrap="nowrap">
      <Anchor component={Link} to={`/runs/${last.id}`} aria-label={`Last run of ${job.name}`}>
        <RunStatusBadge status={last.status} />
      </Anchor>
      <Text size="xs" c="dimmed">{formatRelative(last.finishedAt ?? last.queuedAt, now)}</Text>
    </Group>
  );
}

function JobRow({ job, taskName, overview, selected, actions }: JobRowProps) {
  return (
    <Table.Tr data-job={job.name} data-enabled={job.enabled} bg={selected ? 'var(--mantine-primary-color-light)' : undefined}>
      <Table.Td>
        <Checkbox aria-label={`Select ${job.name}`} checked={selected} onChange={(event) => actions.onSelect(job, event.currentTarget.checked)} />
      </Table.Td>
      <Table.Td>
        <Anchor component={Link} to={`/jobs/${job.id}`} fw={600} size="sm">{job.name}</Anchor>
        <Text size="xs" c="dimmed">{taskName ?? 'missing task'}</Text>
      </Table.Td>
      <Table.Td><Schedule job={job} /></Table.Td>
      <Table.Td><NextRun job={job} overview={overview} /></Table.Td>
      <Table.Td><LastRun job={job} overview={overview} /></Table.Td>
      <Table.Td>
        <Switch aria-label={`Enable ${job.name}`} checked={job.enabled} onChange={(event) => actions.onToggle(job, event.currentTarget.checked)} />
      </Table.Td>
      <Table.Td>
        <Group gap={4} wrap="nowrap" justify="flex-end">
          <Tooltip label="Run now">
            <ActionIcon variant="light" aria-label={`Run ${job.name} now`} onClick={() => actions.onRun(job)}>
              <IconPlayerPlay size={16} />
            </ActionIcon>
          </Tooltip>
          <Menu position="bottom-end">
            <Menu.Target>
              <ActionIcon variant="subtle" color="gray" aria-label={`Actions for ${job.name}`}>
                <IconDots size={16} />
              </ActionIcon>
            </Menu.Target>
            <Menu.Dropdown>
              <Menu.Item component={Link} to={`/jobs/${job.id}`} leftSection={<IconEdit size={14} />}>Edit</Menu.Item>
              <Menu.Item leftSection={<IconCopy size={14} />} onClick={() => actions.onDuplicate(job)}>Duplicate</Menu.Item>
              <Menu.Divider />
              <Menu.Item color="red" leftSection={<IconTrash size={14} />} onClick={() => actions.onDelete(job)}>Delete</Menu.Item>
            </Menu.Dropdown>
          </Menu>
        </Group>
      </Table.Td>
    </Table.Tr>
  );
}

function sameOverview(a: JobOverview | undefined, b: JobOverview | undefined): boolean {
  return (
    a?.nextFireAt === b?.nextFireAt &&
    a?.lastRun?.id === b?.lastRun?.id &&
    a?.lastRun?.status === b?.lastRun?.status &&
    a?.lastRun?.finishedAt === b?.lastRun?.finishedAt
  );
}

/** Jobs and the overview are fetched again whole after any change, so equal rows are found by content. */
function sameRow(a: JobRowProps, b: JobRowProps): boolean {
  return (
    a.selected === b.selected &&
    a.actions === b.actions &&
    a.taskName === b.taskName &&
    sameOverview(a.overview, b.overview) &&
    (a.job === b.job || JSON.stringify(a.job) === JSON.stringify(b.job))
  );
}

export const JobRowView = memo(JobRow, sameRow);
