/**
 * The fires behind a missed or skipped entry, or behind a catch-up run, in
 * words, with a link to the run a skipped fire overlapped.
 */
import { Alert, Anchor, Text } from '@mantine/core';
import { Link } from 'react-router';
import { isUnrun, type Run } from '../../../../electron/hub/model.js';
import { RUN_STATUS } from '../../lib/status.js';
import { describeFires } from './fire-summary.js';

export function FireSummary({ run }: { run: Run }) {
  const text = describeFires(run);
  if (text === null) return null;
  const overlapped = run.status === 'skipped' ? run.overlappedRunId : null;
  return (
    <Alert color={RUN_STATUS[run.status].color} variant="light" title={isUnrun(run.status) ? 'No run started' : 'Catch-up run'} data-testid="fire-summary">
      <Text size="sm">{text}</Text>
      {overlapped && <Anchor component={Link} to={`/runs/${overlapped}`} size="sm">Open the run it overlapped</Anchor>}
    </Alert>
  );
}
