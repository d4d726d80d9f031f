/**
 * API keys for scripts: a table of keys, a dialog that creates one and shows
 * its clear text once, and revocation. The hub stores only hashes, so a key
 * that was not copied when it was created cannot be shown again.
 */
import { ActionIcon, Alert, Badge, Button, Code, CopyButton, Group, Modal, Radio, Stack, Table, Text, TextInput, Tooltip } from '@mantine/core';
import { IconAlertTriangle, IconCheck, IconCopy } from '@tabler/icons-react';
import { useEffect, useMemo, useState } from 'react';
import { apiKeyCreateSchema } from '../../../../electron/hub/model.js';
import type { ApiKeyScope, ApiKeyView } from '../../../../electron/hub/ui-contract.js';
import { useConnectionStatus, useHub } from '../../api/hub-context.js';
import { formatDateTime } from '../../lib/format.js';
import { notifyDone } from '../../lib/notify.js';

/** The three requests this section sends, so tests can supply them without a hub. */
export interface ApiKeysApi {
  list(): Promise<ApiKeyView[]>;
  create(input: { name: string; scope: ApiKeyScope }): Promise<{ key: string; apiKey: ApiKeyView }>;
  revoke(id: string): Promise<ApiKeyView>;
}

/** Scopes in increasing power, each with what it allows (docs/api.md has the full route list). */
export const SCOPES: ReadonlyArray<{ value: ApiKeyScope; label: string; color: string; explanation: string }> = [
  { value: 'read', label: 'Read', color: 'blue', explanation: 'Reads jobs, tasks, runs, logs and agents, but cannot start or change anything.' },
  { value: 'run', label: 'Run', color: 'farm', explanation: 'Everything read allows, and starts and cancels runs of tasks and jobs.' },
  { value: 'admin', label: 'Admin', color: 'red', explanation: 'Everything the admin token allows, including creating and revoking keys.' },
];


function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function scopeOf(value: ApiKeyScope) {
  return SCOPES.find((scope) => scope.value === value) ?? SCOPES[0]!;
}

function ErrorAlert({ title, error }: { title: string; error: string | null }) {
  if (error === null) return null;
  return <Alert color="red" role="alert" icon={<IconAlertTriangle size={18} />} title={title}>{error}</Alert>;
}

/** Renders the section for the Settings page, wired to the hub's keys.* requests on /ui. */
export function ApiKeysSection() {
  const client = useHub();
  const status = useConnectionStatus();
  const api = useMemo<ApiKeysApi>(() => ({
    list: () => client.request('keys.list'),
    create: (input) => client.request('keys.create', input),
    revoke: (id) => client.request('keys.revoke', { id }),
  }), [client]);
  return <ApiKeysPanel api={api} connected={status === 'connected'} />;
}

/** Renders the table and both dialogs, and lists the keys again each time `connected` turns true. */
export function ApiKeysPanel({ api, connected }: { api: ApiKeysApi; connected: boolean }) {
  const [keys, setKeys] = useState<ApiKeyView[] | null>(null);
  const [listError, setListError] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  const [revoking, setRevoking] = useState<ApiKeyView | null>(null);
  const reload = async () => {
    try {
      setKeys(await api.list());
      setListError(null);
    } catch (error) {
      setListError(messageOf(error));
    }
  };
  useEffect(() => {
    if (connected) void reload();
  }, [api, connected]);

  return (
    <Stack>
      <ErrorAlert title="Could not list API keys" error={listError} />
      <KeysTable keys={keys ?? []} onRevoke={setRevoking} />
      <Group>
        <Button onClick={() => setCreating(true)}>Create API key</Button>
      </Group>
      <CreateKeyDialog opened={creating} api={api} onCreated={() => void reload()} onClose={() => setCreating(false)} />
      <RevokeKeyDialog apiKey={revoking} api={api} onRevoked={() => void reload()} onClose={() => setRevoking(null)} />
    </Stack>
  );
}

function KeysTable({ keys, onRevoke }: { keys: ApiKeyView[]; onRevoke(key: ApiKeyView): void }) {
  return (
    <Table aria-label="API keys">
      <Table.Thead>
        <Table.Tr>
          <Table.Th>Name</Table.Th>
          <Table.Th>Scope</Table.Th>
          <Table.Th>Created</Table.Th>
          <Table.Th>Status</Table.Th>
          <Table.Th w={100} />
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {keys.length === 0 && (
          <Table.Tr>
            <Table.Td colSpan={5}><Text size="sm" c="dimmed">No API keys yet. Scripts can use the admin token or a key created here.</Text></Table.Td>
          </Table.Tr>
        )}
        {keys.map((key) => (
          <Table.Tr key={key.id} data-key={key.name} data-scope={key.scope} data-status={key.revokedAt === null ? 'active' : 'revoked'}>
            <Table.Td>{key.name}</Table.Td>
            <Table.Td><Badge variant="light" color={scopeOf(key.scope).color}>{key.scope}</Badge></Table.Td>
            <Table.Td>{formatDateTime(key.createdAt)}</Table.Td>
            <Table.Td>{key.revokedAt === null ? <Badge variant="light">Active</Badge> : <Badge color="gray" variant="light">Revoked {formatDateTime(key.revokedAt)}</Badge>}</Table.Td>
            <Table.Td>
              {key.revokedAt === null && (
                <Button size="xs" variant="subtle" color="red" onClick={() => onRevoke(key)} aria-label={`Revoke ${key.name}`}>Revoke</Button>
              )}
            </Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

interface CreateKeyDialogProps {
  opened: boolean;
  api: ApiKeysApi;
  onCreated(): void;
  onClose(): void;
}

/** Asks for a name and a scope, then shows the new key until the dialog closes. */
function CreateKeyDialog({ opened, api, onCreated, onClose }: CreateKeyDialogProps) {
  const [name, setName] = useState('');
  const [scope, setScope] = useState<ApiKeyScope>('read');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [key, setKey] = useState<string | null>(null);
  const nameCheck = apiKeyCreateSchema.shape.name.safeParse(name);
  const nameError = name.trim() !== '' && !nameCheck.success ? nameCheck.error.issues[0]?.message : undefined;

  const close = () => {
    // Forget the clear key at once, so it is never shown a second time.
    setKey(null);
    setName('');
    setScope('read');
    setError(null);
    onClose();
  };
  const create = async () => {
    setBusy(true);
    try {
      const result = await api.create({ name: name.trim(), scope });
      setKey(result.key);
      setError(null);
      onCreated();
    } catch (failure) {
      setError(messageOf(failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal opened={opened} onClose={close} closeOnClickOutside={key === null} title={<Text fw={600}>{key === null ? 'Create API key' : 'API key created'}</Text>} size="lg">
      {key === null ? (
        <Stack>
          <TextInput label="Name" description="Where the key is used, such as the script or the machine." placeholder="nightly CI" value={name} onChange={(event) => setName(event.currentTarget.value)} error={nameError} data-autofocus />
          <Radio.Group label="Scope" value={scope} onChange={(value) => setScope(value as ApiKeyScope)}>
            <Stack gap="xs" mt="xs">
              {SCOPES.map((option) => <Radio key={option.value} value={option.value} label={option.label} description={option.explanation} />)}
            </Stack>
          </Radio.Group>
          <ErrorAlert title="Could not create the API key" error={error} />
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>Cancel</Button>
            <Button loading={busy} disabled={name.trim() === '' || nameError !== undefined} onClick={() => void create()}>Create key</Button>
          </Group>
        </Stack>
      ) : (
        <CreatedKey apiKey={key} onDone={close} />
      )}
    </Modal>
  );
}

function CreatedKey({ apiKey, onDone }: { apiKey: string; onDone(): void }) {
  return (
    <Stack>
      <Alert color="yellow" icon={<IconAlertTriangle size={18} />} title="Shown only now" data-testid="api-key-once">
        Copy the key before you close this dialog. The hub keeps only its hash and cannot show it again.
      </Alert>
      <Group wrap="nowrap" gap="xs" align="flex-start">
        <Code block style={{ flex: 1, wordBreak: 'break-all' }} data-testid="api-key">{apiKey}</Code>
        <CopyButton value={apiKey}>
          {({ copied, copy }) => (
            <Tooltip label={copied ? 'Copied' : 'Copy'}>
              <ActionIcon variant="light" size="lg" onClick={copy} aria-label="Copy API key" color={copied ? 'farm' : undefined}>
                {copied ? <IconCheck size={18} /> : <IconCopy size={18} />}
              </ActionIcon>
            </Tooltip>
          )}
        </CopyButton>
      </Group>
      <Text size="sm" c="dimmed">Send it as <Code>Authorization: Bearer &lt;key&gt;</Code> to the HTTP API.</Text>
      <Group justify="flex-end">
        <Button onClick={onDone}>Done</Button>
      </Group>
    </Stack>
  );
}

interface RevokeKeyDialogProps {
  apiKey: ApiKeyView | null;
  api: ApiKeysApi;
  onRevoked(): void;
  onClose(): void;
}

function RevokeKeyDialog({ apiKey, api, onRevoked, onClose }: RevokeKeyDialogProps) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const close = () => {
    setError(null);
    onClose();
  };
  const revoke = async (target: ApiKeyView) => {
    setBusy(true);
    try {
      await api.revoke(target.id);
      notifyDone(`API key ${target.name} revoked`);
      onRevoked();
      close();
    } catch (failure) {
      setError(messageOf(failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal opened={apiKey !== null} onClose={close} title={<Text fw={600}>Revoke {apiKey?.name ?? 'API key'}?</Text>}>
      <Stack>
        <Text size="sm">Scripts that use this key stop working at once: the hub answers 401 to every request that carries it. A revoked key cannot be restored.</Text>
        <ErrorAlert title="Could not revoke the API key" error={error} />
        <Group justify="flex-end">
          <Button variant="default" onClick={close}>Cancel</Button>
          <Button color="red" loading={busy} onClick={() => apiKey && void revoke(apiKey)}>Revoke key</Button>
        </Group>
      </Stack>
    </Modal>
  );
}
