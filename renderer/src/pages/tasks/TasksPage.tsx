/**
 * Every task with its runtime, version and the jobs that use it.
 */
import { ActionIcon, Anchor, Badge, Button, Card, Group, Menu, Stack, Table, Text } from '@mantine/core';
import { IconCode, IconDots, IconEdit, IconPlus, IconTrash } from '@tabler/icons-react';
import { useMemo, useState } from 'react';
import { Link } from 'react-router';
import type { Task } from '../../../../electron/hub/model.js';
import { useHub } from '../../api/hub-context.js';
import { useLiveData } from '../../api/live-data.js';
import { ConfirmDialog } from '../../components/confirm.js';
import { Page } from '../../components/Page.js';
import { PageHeader } from '../../components/PageHeader.js';
import { formatRelative } from '../../lib/format.js';
import { notifyDone, notifyError } from '../../lib/notify.js';
import { useNow } from '../../lib/use-now.js';

export function TasksPage() {
  const client = useHub();
  const { tasks, jobs } = useLiveData();
  const now = useNow(30_000);
  const [deleting, setDeleting] = useState<Task | null>(null);
  const usage = useMemo(() => {
    const counts = new Map<string, number>();
    for (const job of jobs) counts.set(job.taskId, (counts.get(job.taskId) ?? 0) + 1);
    return counts;
  }, [jobs]);
  const sorted = [...tasks].sort((a, b) => a.name.localeCompare(b.name));

  return (
    <Page label="Tasks">
      <PageHeader
        title="Tasks"
        description="Code that jobs run: TypeScript modules or shell scripts."
        actions={<Button component={Link} to="/tasks/new" leftSection={<IconPlus size={16} />}>New task</Button>}
      />
      {tasks.length === 0 ? (
        <Card withBorder padding="xl" radius="lg">
          <Stack align="center" gap="xs">
            <IconCode size={40} stroke={1.3} />
            <Text fw={600}>No tasks yet</Text>
            <Text size="sm" c="dimmed">Start from a template or a blank file.</Text>
            <Button component={Link} to="/tasks/new" mt="sm" leftSection={<IconPlus size={16} />}>New task</Button>
          </Stack>
        </Card>
      ) : (
        <Card withBorder padding={0} radius="md">
          <Table aria-label="Tasks">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Name</Table.Th>
                <Table.Th>Runtime</Table.Th>
                <Table.Th>Version</Table.Th>
                <Table.Th>Used by</Table.Th>
                <Table.Th>Changed</Table.Th>
                <Table.Th w={50} />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {sorted.map((task) => (
                <Table.Tr key={task.id} data-task={task.name}>
                  <Table.Td><Anchor component={Link} to={`/tasks/${task.id}`} fw={600} size="sm">{task.name}</Anchor></Table.Td>
                  <Table.Td><Badge variant="light" size="sm">{task.runtime}</Badge></Table.Td>
                  <Table.Td>v{task.version}</Table.Td>
                  <Table.Td>
                    {usage.get(task.id) ? <Anchor component={Link} to={`/jobs`} size="sm">{usage.get(task.id)} jobs</Anchor> : <Text size="sm" c="dimmed">no job</Text>}
                  </Table.Td>
                  <Table.Td><Text size="sm">{formatRelative(task.updatedAt, now)}</Text></Table.Td>
                  <Table.Td>
                    <Menu position="bottom-end">
                      <Menu.Target>
                        <ActionIcon variant="subtle" color="gray" aria-label={`Actions for ${task.name}`}><IconDots size={16} /></ActionIcon>
                      </Menu.Target>
                      <Menu.Dropdown>
                        <Menu.Item component={Link} to={`/tasks/${task.id}`} leftSection={<IconEdit size={14} />}>Edit</Menu.Item>
                        <Menu.Item component={Link} to={`/jobs/new?task=${task.id}`} leftSection={<IconPlus size={14} />}>New job with this task</Menu.Item>
                        <Menu.Divider />
                        <Menu.Item color="red" leftSection={<IconTrash size={14} />} onClick={() => setDeleting(task)}>Delete</Menu.Item>
                      </Menu.Dropdown>
                    </Menu>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Card>
      )}
      <ConfirmDialog
        opened={deleting !== null}
        title={`Delete ${deleting?.name ?? 'task'}?`}
        confirmLabel="Delete task"
        onCancel={() => setDeleting(null)}
        onConfirm={async () => {
          if (deleting) {
            await client.request('tasks.delete', { id: deleting.id }).then(() => notifyDone(`${deleting.name} deleted`), (error: unknown) => notifyError('Could not delete the task', error));
          }
          setDeleting(null);
        }}
      >
        The task&apos;s code is removed. A task that jobs still use cannot be deleted; change or delete those jobs first.
      </ConfirmDialog>
    </Page>
  );
}
