/**
 * Enrollment tokens: create one (its join command is shown once) and revoke.
 */
import { Badge, Button, Group, Stack, Table, Text, TextInput } from '@mantine/core';
import { useState } from 'react';
import type { EnrollmentTokenView } from '../../../../electron/hub/ui-contract.js';
import { useHub, useWhenConnected } from '../../api/hub-context.js';
import { ConfirmDialog } from '../../components/confirm.js';
import { formatDateTime } from '../../lib/format.js';
import { notifyDone, notifyError } from '../../lib/notify.js';
import { JoinCommand } from '../fleet/AddAgentDialog.js';

export function TokensSection() {
  const client = useHub();
  const [tokens, setTokens] = useState<EnrollmentTokenView[]>([]);
  const [name, setName] = useState('');
  const [created, setCreated] = useState<string | null>(null);
  const [revoking, setRevoking] = useState<EnrollmentTokenView | null>(null);
  const reload = () => client.request('tokens.list').then(setTokens, (error: unknown) => notifyError('Could not list tokens', error));
  useWhenConnected(() => void reload(), []);

  const create = async () => {
    try {
      const result = await client.request('tokens.create', { name: name.trim() });
      setCreated(result.joinCommand);
      setName('');
      await reload();
    } catch (error) {
      notifyError('Could not create the token', error);
    }
  };
  const revoke = async (token: EnrollmentTokenView) => {
    try {
      await client.request('tokens.revoke', { id: token.id });
      notifyDone(`Token ${token.name} revoked`);
      await reload();
    } catch (error) {
      notifyError('Could not revoke the token', error);
    }
    setRevoking(null);
  };

  return (
    <Stack>
      <Table aria-label="Enrollment tokens">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Name</Table.Th>
            <Table.Th>Created</Table.Th>
            <Table.Th>Status</Table.Th>
            <Table.Th w={100} />
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {tokens.map((token) => (
            <Table.Tr key={token.id} data-token={token.name} data-status={token.revokedAt === null ? 'active' : 'revoked'}>
              <Table.Td>{token.name}</Table.Td>
              <Table.Td>{formatDateTime(token.createdAt)}</Table.Td>
              <Table.Td>{token.revokedAt === null ? <Badge variant="light">Active</Badge> : <Badge color="gray" variant="light">Revoked {formatDateTime(token.revokedAt)}</Badge>}</Table.Td>
              <Table.Td>
                {token.revokedAt === null && (
                  <Button size="xs" variant="subtle" color="red" onClick={() => setRevoking(token)}>Revoke</Button>
                )}
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      <Group align="flex-end">
        <TextInput label="New token for" placeholder="lab room 2" value={name} onChange={(event) => setName(event.currentTarget.value)} w={280} />
        <Button onClick={() => void create()} disabled={name.trim() === ''}>Create token</Button>
      </Group>
      {created && (
        <Stack gap={4}>
          <Text size="sm" fw={500}>Join command with the new token (shown only now):</Text>
          <JoinCommand command={created} />
        </Stack>
      )}
      <ConfirmDialog opened={revoking !== null} title={`Revoke ${revoking?.name ?? 'token'}?`} confirmLabel="Revoke token" onCancel={() => setRevoking(null)} onConfirm={() => revoking && revoke(revoking)}>
        Agents can no longer join with this token. Agents that already joined keep their own credentials and stay in the fleet.
      </ConfirmDialog>
    </Stack>
  );
}
