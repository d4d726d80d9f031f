/**
 * Every job with its schedule, next and last run; search, sorting,
 * selection with bulk changes, export and import.
 */
import { Button, Card, Checkbox, FileButton, Group, Stack, Table, Text, TextInput, UnstyledButton } from '@mantine/core';
import { IconChevronDown, IconChevronUp, IconDownload, IconEdit, IconPlayerPause, IconPlayerPlay, IconPlus, IconSearch, IconSelector, IconUpload } from '@tabler/icons-react';
import { useMemo, useState, type ReactNode } from 'react';
import { Link, useNavigate } from 'react-router';
import type { Job, JobPatch } from '../../../../electron/hub/model.js';
import { useHub } from '../../api/hub-context.js';
import { useLiveData } from '../../api/live-data.js';
import { ConfirmDialog } from '../../components/confirm.js';
import { Page } from '../../components/Page.js';
import { PageHeader } from '../../components/PageHeader.js';
import { downloadText } from '../../lib/download.js';
import { notifyDone, notifyError } from '../../lib/notify.js';
import { useNow } from '../../lib/use-now.js';
import { BulkEditDialog } from './BulkEditDialog.js';
import { filterAndSort, type Sort, type SortKey } from './jobs-table.js';
import { JobRowView, NowContext, type JobRowActions } from './JobRowView.js';
import { useJobsOverview } from './use-jobs-overview.js';

function SortHeader({ label, sortKey, sort, onSort }: { label: string; sortKey: SortKey; sort: Sort; onSort(sort: Sort): void }) {
  const active = sort.key === sortKey;
  const direction = sort.descending ? 'descending' : 'ascending';
  let Icon = IconSelector;
  if (active) Icon = sort.descending ? IconChevronDown : IconChevronUp;
  return (
    <Table.Th aria-sort={active ? direction : 'none'}>
      <UnstyledButton onClick={() => onSort({ key: sortKey, descending: active ? !sort.descending : false })}>
        <Group gap={4} wrap="nowrap">
          <Text fw={700} size="sm">{label}</Text>
          <Icon size={14} />
        </Group>
      </UnstyledButton>
    </Table.Th>
  );
}

function EmptyJobs({ hasTasks }: { hasTasks: boolean }) {
  return (
    <Card withBorder padding="xl" radius="lg">
      <Stack align="center" gap="xs">
        <Text fw={600}>No jobs yet</Text>
        <Text size="sm" c="dimmed" ta="center" maw={460}>
          A job runs a task with its own config on a schedule. {hasTasks ? 'Create one to get started.' : 'Write a task first, then create a job that runs it.'}
        </Text>
        <Button component={Link} to={hasTasks ? '/jobs/new' : '/tasks/new'} leftSection={<IconPlus size={16} />} mt="sm">
          {hasTasks ? 'New job' : 'New task'}
        </Button>
      </Stack>
    </Card>
  );
}

export function JobsPage() {
  const client = useHub();
  const navigate = useNavigate();
  const { jobs, tasks } = useLiveData();
  const overview = useJobsOverview();
  const now = useNow();
  const [query, setQuery] = useState('');
  const [sort, setSort] = useState<Sort>({ key: 'name', descending: false });
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [bulkOpen, setBulkOpen] = useState(false);
  const [deleting, setDeleting] = useState<Job | null>(null);

  const taskById = useMemo(() => new Map(tasks.map((task) => [task.id, task])), [tasks]);
  const rows = useMemo(
    () => filterAndSort(jobs.map((job) => ({ job, task: taskById.get(job.taskId), overview: overview.get(job.id) })), query, sort),
    [jobs, taskById, overview, query, sort],
  );
  const selectedIds = jobs.filter((job) => selected.has(job.id)).map((job) => job.id);
  const allVisibleSelected = rows.length > 0 && rows.every((row) => selected.has(row.job.id));

  const act = async (title: string, action: () => Promise<unknown>, done?: string) => {
    try {
      await action();
      if (done) notifyDone(done);
    } catch (error) {
      notifyError(title, error);
    }
  };
  const select = (ids: string[], on: boolean) =>
    setSelected((current) => {
      const next = new Set(current);
      for (const id of ids) if (on) next.add(id); else next.delete(id);
      return next;
    });
  const bulk = async (patch: JobPatch) => {
    await client.request('jobs.bulkUpdate', { ids: selectedIds, patch });
    notifyDone(`${selectedIds.length} jobs updated`);
    setBulkOpen(false);
  };
  const exportJobs = (ids?: string[]) =>
    act('Export failed', async () => {
      const document = await client.request('jobs.export', ids ? { ids } : {});
      downloadText(`farmboy-jobs-${new Date().toISOString().slice(0, 10)}.json`, JSON.stringify(document, null, 2), 'application/json');
    });
  const importJobs = (file: File | null) =>
    file &&
    act('Import failed', async () => {
      const document: unknown = JSON.parse(await file.text());
      const created = await client.request('jobs.import', document);
      notifyDone(`Imported ${created.length} jobs`);
    });
  const actions = useMemo<JobRowActions>(
    () => ({
      onSelect: (job, on) => select([job.id], on),
      onToggle: (job, enabled) => void act('Could not change the job', () => client.request('jobs.update', { id: job.id, patch: { enabled } })),
      onRun: (job) => void act('Could not start the run', async () => navigate(`/runs/${(await client.request('jobs.run', { id: job.id })).id}`)),
      onDuplicate: (job) => void act('Could not duplicate the job', () => client.request('jobs.duplicate', { id: job.id }), `${job.name} duplicated (disabled)`),
      onDelete: (job) => setDeleting(job),
    }),
    // `act` and `select` only use setters and module functions, which never change.
    [client, navigate],
  );
  const header = (label: string, key: SortKey): ReactNode => <SortHeader label={label} sortKey={key} sort={sort} onSort={setSort} />;

  return (
    <Page label="Jobs">
      <PageHeader
        title="Jobs"
        description={`${jobs.length} jobs · ${jobs.filter((job) => job.enabled).length} enabled`}
        actions={
          <>
            <FileButton onChange={(file) => void importJobs(file)} accept="application/json,.json">
              {(props) => <Button {...props} variant="default" leftSection={<IconUpload size={16} />}>Import</Button>}
            </FileButton>
            <Button variant="default" leftSection={<IconDownload size={16} />} onClick={() => void exportJobs()} disabled={jobs.length === 0}>Export all</Button>
            <Button component={Link} to="/jobs/new" leftSection={<IconPlus size={16} />}>New job</Button>
          </>
        }
      />
      {jobs.length === 0 ? (
        <EmptyJobs hasTasks={tasks.length > 0} />
      ) : (
        <Card withBorder padding={0} radius="md">
          <Group p="sm" justify="space-between" wrap="nowrap">
            <TextInput aria-label="Search jobs" placeholder="Search name, task, schedule or tag" leftSection={<IconSearch size={16} />} value={query} onChange={(event) => setQuery(event.currentTarget.value)} w={340} />
            {selectedIds.length > 0 && (
              <Group gap="xs" data-testid="selection-actions">
                <Text size="sm" fw={500}>{selectedIds.length} selected</Text>
                <Button size="xs" variant="light" leftSection={<IconPlayerPlay size={14} />} onClick={() => void act('Could not enable', () => client.request('jobs.bulkUpdate', { ids: selectedIds, patch: { enabled: true } }), 'Jobs enabled')}>Enable</Button>
                <Button size="xs" variant="light" leftSection={<IconPlayerPause size={14} />} onClick={() => void act('Could not disable', () => client.request('jobs.bulkUpdate', { ids: selectedIds, patch: { enabled: false } }), 'Jobs disabled')}>Disable</Button>
                <Button size="xs" variant="light" leftSection={<IconEdit size={14} />} onClick={() => setBulkOpen(true)}>Bulk edit</Button>
                <Button size="xs" variant="light" leftSection={<IconDownload size={14} />} onClick={() => void exportJobs(selectedIds)}>Export</Button>
              </Group>
            )}
          </Group>
          <Table.ScrollContainer minWidth={1000}>
            <Table aria-label="Jobs">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th w={40}>
                    <Checkbox aria-label="Select all jobs" checked={allVisibleSelected} indeterminate={!allVisibleSelected && selectedIds.length > 0} onChange={(event) => select(rows.map((row) => row.job.id), event.currentTarget.checked)} />
                  </Table.Th>
                  {header('Name', 'name')}
                  <Table.Th>Schedule</Table.Th>
                  {header('Next run', 'next')}
                  {header('Last run', 'last')}
                  <Table.Th w={80}>Enabled</Table.Th>
                  <Table.Th w={90} />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                <NowContext.Provider value={now}>
                  {rows.map((row) => (
                    <JobRowView key={row.job.id} job={row.job} taskName={row.task?.name ?? null} overview={row.overview} selected={selected.has(row.job.id)} actions={actions} />
                  ))}
                </NowContext.Provider>
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
          {rows.length === 0 && <Text p="lg" ta="center" c="dimmed">No job matches “{query}”.</Text>}
        </Card>
      )}
      <BulkEditDialog opened={bulkOpen} count={selectedIds.length} onClose={() => setBulkOpen(false)} onApply={bulk} />
      <ConfirmDialog
        opened={deleting !== null}
        title={`Delete ${deleting?.name ?? 'job'}?`}
        confirmLabel="Delete job"
        onCancel={() => setDeleting(null)}
        onConfirm={async () => {
          if (deleting) await act('Could not delete the job', () => client.request('jobs.delete', { id: deleting.id }), `${deleting.name} deleted`);
          setDeleting(null);
        }}
      >
        The job stops firing and its queued runs are cancelled. Runs in progress finish, and past runs stay in the history.
      </ConfirmDialog>
    </Page>
  );
}
