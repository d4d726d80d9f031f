/**
 * Creates a job, or edits the one in the address.
 */
import { Alert, Loader } from '@mantine/core';
import { useCallback, useEffect, useState } from 'react';
import { useNavigate, useParams, useSearchParams } from 'react-router';
import type { Job, JobInput } from '../../../../electron/hub/model.js';
import { useHub, useConnectionStatus } from '../../api/hub-context.js';
import { useLiveData } from '../../api/live-data.js';
import { Page } from '../../components/Page.js';
import { PageHeader } from '../../components/PageHeader.js';
import { notifyDone } from '../../lib/notify.js';
import { emptyJobForm, jobToForm } from './job-form.js';
import { JobForm } from './JobForm.js';

export function JobEditorPage() {
  const { id } = useParams();
  const [search] = useSearchParams();
  const navigate = useNavigate();
  const client = useHub();
  const status = useConnectionStatus();
  const { tasks } = useLiveData();
  const [job, setJob] = useState<Job | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (!id || status !== 'connected') return;
    client.request('jobs.get', { id }).then(setJob, (failure: unknown) => setError(failure instanceof Error ? failure.message : String(failure)));
  }, [client, id, status]);

  const previewSchedule = useCallback((cron: string, timezone: string) => client.request('schedule.preview', { cron, timezone, count: 5 }), [client]);
  const save = async (input: JobInput) => {
    const saved = id ? await client.request('jobs.update', { id, patch: input }) : await client.request('jobs.create', input);
    notifyDone(`Job ${saved.name} saved`);
    navigate('/jobs');
  };

  if (error) return <Page label="Job editor"><Alert color="red" title="Cannot open this job">{error}</Alert></Page>;
  if (id && !job) return <Page label="Job editor"><Loader /></Page>;
  const initial = job ? jobToForm(job) : emptyJobForm(search.get('task') ?? tasks[0]?.id ?? '');

  return (
    <Page label="Job editor">
      <PageHeader title={job ? `Edit ${job.name}` : 'New job'} description="A task, its config and when and where it runs." />
      <JobForm key={job?.id ?? 'new'} initial={initial} tasks={tasks} submitLabel={job ? 'Save job' : 'Create job'} previewSchedule={previewSchedule} onSubmit={save} onCancel={() => navigate('/jobs')} />
    </Page>
  );
}
