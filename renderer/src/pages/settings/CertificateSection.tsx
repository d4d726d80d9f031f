/**
 * The agent port's TLS certificate: its SHA-256 fingerprint, which agents
 * pin, and rotation to a new key and certificate.
 */
import { ActionIcon, Alert, Button, Code, CopyButton, Group, Stack, Text, Tooltip } from '@mantine/core';
import { IconCheck, IconCopy } from '@tabler/icons-react';
import { useState } from 'react';
import type { CertificateRotation } from '../../../../electron/hub/ui-contract.js';
import { useHub, useWhenConnected } from '../../api/hub-context.js';
import { ConfirmDialog } from '../../components/confirm.js';
import { notifyError } from '../../lib/notify.js';

function Fingerprint({ value }: { value: string }) {
  return (
    <Group wrap="nowrap" gap="xs" align="flex-start">
      <Code block style={{ flex: 1, wordBreak: 'break-all' }} data-testid="certificate-fingerprint">
        {value}
      </Code>
      <CopyButton value={value}>
        {({ copied, copy }) => (
          <Tooltip label={copied ? 'Copied' : 'Copy'}>
            <ActionIcon variant="light" size="lg" onClick={copy} aria-label="Copy fingerprint" color={copied ? 'farm' : undefined}>
              {copied ? <IconCheck size={18} /> : <IconCopy size={18} />}
            </ActionIcon>
          </Tooltip>
        )}
      </CopyButton>
    </Group>
  );
}

export function CertificateSection() {
  const client = useHub();
  // undefined until the hub replies; null when the agent port runs without TLS.
  const [fingerprint, setFingerprint] = useState<string | null | undefined>(undefined);
  const [confirming, setConfirming] = useState(false);
  const [outcome, setOutcome] = useState<CertificateRotation | null>(null);
  useWhenConnected(() => {
    client.request('hub.info').then(
      (info) => setFingerprint(info.fingerprint),
      (error: unknown) => notifyError('Could not read the hub certificate', error),
    );
  }, []);

  const rotate = async () => {
    try {
      const result = await client.request('hub.rotateCertificate', undefined, 60_000);
      setOutcome(result);
      setFingerprint(result.fingerprint);
    } catch (error) {
      notifyError('Could not rotate the certificate', error);
    }
    setConfirming(false);
  };

  if (fingerprint === null) {
    return <Text size="sm">The agent port runs without TLS (--insecure), so the hub has no certificate.</Text>;
  }
  return (
    <Stack data-fingerprint={fingerprint ?? ''}>
      <Stack gap={4}>
        <Text size="xs" c="dimmed" tt="uppercase" fw={600}>SHA-256 fingerprint</Text>
        <Fingerprint value={fingerprint ?? '–'} />
      </Stack>
      <Group>
        <Button variant="default" onClick={() => setConfirming(true)} disabled={fingerprint === undefined}>
          Rotate certificate
        </Button>
      </Group>
      {outcome && (
        <Alert color="farm" title="Certificate rotated" data-testid="rotation-outcome">
          <Stack gap={4}>
            <Text size="sm">New fingerprint: <Code>{outcome.fingerprint}</Code></Text>
            <Text size="sm">Old fingerprint: <Code>{outcome.previous}</Code></Text>
            <Text size="sm" data-followed={outcome.accepted} data-connected={outcome.agents}>
              {outcome.accepted} of {outcome.agents} connected agents followed.
            </Text>
          </Stack>
        </Alert>
      )}
      {/* The limits match KEPT_ROTATIONS and ROTATION_MAX_AGE_MS in electron/hub/tls.ts. */}
      <ConfirmDialog opened={confirming} title="Rotate the hub certificate?" confirmLabel="Rotate certificate" onCancel={() => setConfirming(false)} onConfirm={rotate}>
        The hub makes a new key and certificate for the agent port. Connected agents receive the new fingerprint, signed with the current key, and
        move to it at once. Agents that are offline follow on their next connection, if it comes within 30 days and no more than 3 rotations.
        Agents that stay away longer must join again with the new fingerprint. Join commands saved elsewhere need the new fingerprint too.
      </ConfirmDialog>
    </Stack>
  );
}
