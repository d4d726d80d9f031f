/**
 * The bottom bar: connection, runs running and queued, agents online of
 * total, and the hub's address and version.
 */
import { Group, Text } from '@mantine/core';
import { useConnectionStatus } from '../../api/hub-context.js';
import { useLiveData } from '../../api/live-data.js';
import classes from './shell.module.css';

export function StatusBar() {
  const status = useConnectionStatus();
  const { summary, info } = useLiveData();
  const connected = status === 'connected';

  return (
    <Group h="100%" px="md" gap="lg" justify="space-between" wrap="nowrap" role="status" aria-label="Hub status" className={classes.statusBar}>
      <Group gap="lg" wrap="nowrap">
        <Group gap={6} wrap="nowrap" data-connection={status}>
          <span className={classes.dot} data-state={connected ? 'ok' : 'down'} />
          <Text size="xs">{connected ? 'Connected' : 'Reconnecting…'}</Text>
        </Group>
        <Text size="xs" data-testid="runs-summary">
          {summary ? `${summary.running} running · ${summary.queued} queued` : '–'}
        </Text>
        <Text size="xs" data-testid="agents-summary">
          {summary ? `${summary.agentsOnline} of ${summary.agentsTotal} agents online` : '–'}
        </Text>
      </Group>
      <Text size="xs" c="dimmed" truncate>
        {info ? `Hub ${info.version} at ${info.uiUrl || window.location.origin}` : window.location.origin}
      </Text>
    </Group>
  );
}
