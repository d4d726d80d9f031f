/**
 * One row of the jobs table.
 */
import { ActionIcon, Anchor, Checkbox, Code, Group, Menu, Stack, Switch, Table, Text, Tooltip } from '@mantine/core';
import { IconCopy, IconDots, IconEdit, IconPlayerPlay, IconTrash } from '@tabler/icons-react';
import { Link } from 'react-router';
import { RunStatusBadge } from '../../components/StatusBadge.js';
import { describeCron } from '../../lib/cron.js';
import { formatDateTime, formatRelative } from '../../lib/format.js';
import type { JobRow } from './jobs-table.js';

export interface JobRowActions {
  onSelect(selected: boolean): void;
  onToggle(enabled: boolean): void;
  onRun(): void;
  onDuplicate(): void;
  onDelete(): void;
}

function Schedule({ row }: { row: JobRow }) {
  const schedule = row.job.schedule;
  if (!schedule) return <Text size="sm" c="dimmed">Manual only</Text>;
  const words = describeCron(schedule.cron);
  return (
    <Stack gap={0}>
      <Code fz="xs" w="fit-content">{schedule.cron}</Code>
      <Text size="xs" c="dimmed">{words.ok ? words.text : words.error}</Text>
    </Stack>
  );
}

function NextRun({ row, now }: { row: JobRow; now: number }) {
  const next = row.overview?.nextFireAt;
  if (!next) return <Text size="sm" c="dimmed">–</Text>;
  const zone = row.job.schedule?.timezone ?? 'UTC';
  return (
    <Stack gap={0}>
      <Text size="sm">{formatDateTime(next, zone)}</Text>
      <Text size="xs" c="dimmed">{zone} · {formatRelative(Date.parse(next), now)}</Text>
    </Stack>
  );
}

function LastRun({ row, now }: { row: JobRow; now: number }) {
  const last = row.overview?.lastRun;
  if (!last) return <Text size="sm" c="dimmed">Never</Text>;
  return (
    <Group gap="xs" wrap="nowrap">
      <Anchor component={Link} to={`/runs/${last.id}`} aria-label={`Last run of ${row.job.name}`}>
        <RunStatusBadge status={last.status} />
      </Anchor>
      <Text size="xs" c="dimmed">{formatRelative(last.finishedAt ?? last.queuedAt, now)}</Text>
    </Group>
  );
}

export function JobRowView({ row, selected, now, actions }: { row: JobRow; selected: boolean; now: number; actions: JobRowActions }) {
  const { job } = row;
  return (
    <Table.Tr data-job={job.name} data-enabled={job.enabled} bg={selected ? 'var(--mantine-primary-color-light)' : undefined}>
      <Table.Td>
        <Checkbox aria-label={`Select ${job.name}`} checked={selected} onChange={(event) => actions.onSelect(event.currentTarget.checked)} />
      </Table.Td>
      <Table.Td>
        <Anchor component={Link} to={`/jobs/${job.id}`} fw={600} size="sm">{job.name}</Anchor>
        <Text size="xs" c="dimmed">{row.task?.name ?? 'missing task'}</Text>
      </Table.Td>
      <Table.Td><Schedule row={row} /></Table.Td>
      <Table.Td><NextRun row={row} now={now} /></Table.Td>
      <Table.Td><LastRun row={row} now={now} /></Table.Td>
      <Table.Td>
        <Switch aria-label={`Enable ${job.name}`} checked={job.enabled} onChange={(event) => actions.onToggle(event.currentTarget.checked)} />
      </Table.Td>
      <Table.Td>
        <Group gap={4} wrap="nowrap" justify="flex-end">
          <Tooltip label="Run now">
            <ActionIcon variant="light" aria-label={`Run ${job.name} now`} onClick={actions.onRun}>
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
              <Menu.Item leftSection={<IconCopy size={14} />} onClick={actions.onDuplicate}>Duplicate</Menu.Item>
              <Menu.Divider />
              <Menu.Item color="red" leftSection={<IconTrash size={14} />} onClick={actions.onDelete}>Delete</Menu.Item>
            </Menu.Dropdown>
          </Menu>
        </Group>
      </Table.Td>
    </Table.Tr>
  );
}
