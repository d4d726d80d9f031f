/**
 * Failure alerts: the webhook a failed, lost or timed-out run is reported
 * to, a test message, and the outcome of the last delivery. The saved URL
 * is never sent back by the hub; the field shows it masked.
 */
import { Button, Group, SegmentedControl, Stack, Switch, Text, TextInput } from '@mantine/core';
import { IconSend } from '@tabler/icons-react';
import { useState } from 'react';
import { alertPatchSchema, resolveAlertFormat, type AlertDelivery, type AlertFormat, type AlertSettingsView } from '../../../../electron/hub/settings.js';
import { useHub, useWhenConnected } from '../../api/hub-context.js';
import { formatDateTime } from '../../lib/format.js';
import { notifyDone, notifyError } from '../../lib/notify.js';

const FORMAT_NAMES = { slack: 'Slack', json: 'generic JSON' } as const;

/** Describes a delivery in one line: the HTTP status, or what went wrong. */
export function describeDelivery(delivery: AlertDelivery): string {
  if (delivery.ok) return `Delivered, HTTP ${delivery.status ?? '?'}`;
  const attempts = delivery.attempts > 1 ? ` after ${delivery.attempts} attempts` : '';
  return `Failed${attempts}: ${delivery.error ?? 'unknown error'}`;
}

export function AlertsSection() {
  const client = useHub();
  const [view, setView] = useState<AlertSettingsView | null>(null);
  const [url, setUrl] = useState('');
  const [testResult, setTestResult] = useState<AlertDelivery | null>(null);
  const [testing, setTesting] = useState(false);
  const load = () => client.request('alerts.get').then(setView, (error: unknown) => notifyError('Could not load the failure alert settings', error));
  useWhenConnected(() => void load(), []);
  if (!view) return null;

  const urlCheck = url.trim() === '' ? null : alertPatchSchema.shape.url.safeParse(url.trim());
  const urlError = urlCheck && !urlCheck.success ? urlCheck.error.issues[0]?.message : undefined;
  const detected = url.trim() !== '' && !urlError ? resolveAlertFormat(view.format, url.trim()) : view.resolvedFormat;
  const save = async (patch: { enabled?: boolean; format?: AlertFormat; url?: string | null }) => {
    try {
      setView(await client.request('alerts.update', patch));
      if (patch.url !== undefined) setUrl('');
      notifyDone('Failure alert settings saved');
    } catch (error) {
      notifyError('Could not save the failure alert settings', error);
    }
  };
  const sendTest = async () => {
    setTesting(true);
    try {
      setTestResult(await client.request('alerts.test', url.trim() === '' ? {} : { url: url.trim(), format: view.format }, 20_000));
    } catch (error) {
      notifyError('Could not send the test message', error);
    } finally {
      setTesting(false);
    }
  };

  return (
    <Stack gap="sm">
      <Switch label="Post a message when a run fails, is lost or times out after its last attempt" checked={view.enabled} onChange={(event) => void save({ enabled: event.currentTarget.checked })} />
      <TextInput
        label="Webhook URL"
        description={view.maskedUrl ? `Saved: ${view.maskedUrl}. Enter a new URL to replace it.` : 'A Slack incoming webhook, or any address that accepts a JSON POST.'}
        placeholder={view.maskedUrl ?? 'https://hooks.slack.com/services/...'}
        value={url}
        onChange={(event) => setUrl(event.currentTarget.value)}
        error={urlError}
      />
      <Group gap="sm" align="center">
        <SegmentedControl
          aria-label="Message format"
          value={view.format}
          onChange={(value) => void save({ format: value as AlertFormat })}
          data={[{ value: 'auto', label: 'Detect from URL' }, { value: 'slack', label: 'Slack' }, { value: 'json', label: 'Generic JSON' }]}
        />
        {detected && <Text size="sm" c="dimmed" data-testid="alert-format">Messages are sent as {FORMAT_NAMES[detected]}.</Text>}
      </Group>
      <Group justify="space-between">
        <Group gap="xs">
          <Button variant="default" leftSection={<IconSend size={16} />} onClick={() => void sendTest()} loading={testing} disabled={Boolean(urlError) || (url.trim() === '' && !view.maskedUrl)}>Send test</Button>
          {testResult && <Text size="sm" c={testResult.ok ? 'farm' : 'red'} data-testid="alert-test-result" data-status={testResult.ok ? 'ok' : 'failed'}>{describeDelivery(testResult)}</Text>}
        </Group>
        <Group gap="xs">
          {view.maskedUrl && <Button variant="subtle" color="red" onClick={() => void save({ url: null })}>Remove URL</Button>}
          <Button onClick={() => void save({ url: url.trim() })} disabled={url.trim() === '' || Boolean(urlError)}>Save URL</Button>
        </Group>
      </Group>
      <Text size="sm" c={view.lastDelivery && !view.lastDelivery.ok ? 'red' : 'dimmed'} data-testid="alert-last-delivery">
        {view.lastDelivery ? `Last alert ${formatDateTime(view.lastDelivery.at)}: ${describeDelivery(view.lastDelivery)}` : 'No alert sent yet.'}
      </Text>
    </Stack>
  );
}
