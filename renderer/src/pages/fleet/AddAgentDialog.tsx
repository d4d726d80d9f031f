/**
 * Shows the command that joins a worker machine to this hub, with a copy
 * button, and can create a dedicated enrollment token for it.
 */
import { Alert, Button, Code, CopyButton, Group, List, Modal, Stack, Text, TextInput, Tooltip, ActionIcon } from '@mantine/core';
import { IconCheck, IconCopy, IconInfoCircle } from '@tabler/icons-react';
import { useState } from 'react';
import { useHub } from '../../api/hub-context.js';
import { useLiveData } from '../../api/live-data.js';
import { notifyError } from '../../lib/notify.js';

export function JoinCommand({ command }: { command: string }) {
  return (
    <Group wrap="nowrap" gap="xs" align="flex-start">
      <Code block style={{ flex: 1, whiteSpace: 'pre-wrap', wordBreak: 'break-all' }} data-testid="join-command">
        {command}
      </Code>
      <CopyButton value={command}>
        {({ copied, copy }) => (
          <Tooltip label={copied ? 'Copied' : 'Copy'}>
            <ActionIcon variant="light" size="lg" onClick={copy} aria-label="Copy join command" color={copied ? 'farm' : undefined}>
              {copied ? <IconCheck size={18} /> : <IconCopy size={18} />}
            </ActionIcon>
          </Tooltip>
        )}
      </CopyButton>
    </Group>
  );
}

export function AddAgentDialog({ opened, onClose }: { opened: boolean; onClose(): void }) {
  const client = useHub();
  const { info } = useLiveData();
  const [name, setName] = useState('');
  const [created, setCreated] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const createToken = async () => {
    setBusy(true);
    try {
      const result = await client.request('tokens.create', { name: name.trim() || 'agents' });
      setCreated(result.joinCommand);
    } catch (error) {
      notifyError('Could not create a token', error);
    } finally {
      setBusy(false);
    }
  };
  const command = created ?? info?.joinCommand ?? null;

  return (
    <Modal opened={opened} onClose={onClose} title={<Text fw={600}>Add an agent</Text>} size="lg">
      <Stack>
        <List type="ordered" size="sm" spacing={4}>
          <List.Item>Install Node.js 20 or newer on the worker machine.</List.Item>
          <List.Item>Run the command below there. It keeps running and reconnects by itself.</List.Item>
          <List.Item>The agent appears in this list within a few seconds.</List.Item>
        </List>
        {command ? (
          <JoinCommand command={command} />
        ) : (
          <Alert icon={<IconInfoCircle size={18} />} color="blue">
            This hub does not keep its default enrollment token in clear. Create a token for new agents below.
          </Alert>
        )}
        {created && (
          <Text size="xs" c="dimmed">
            This token is shown once. Revoke it in Settings when the machines it was meant for have joined.
          </Text>
        )}
        <Group align="flex-end">
          <TextInput label="Dedicated token for" placeholder="lab room 2" value={name} onChange={(event) => setName(event.currentTarget.value)} style={{ flex: 1 }} />
          <Button variant="light" loading={busy} onClick={() => void createToken()}>
            Create token
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
