/**
 * Every agent in the fleet, with live load, slots and machine facts;
 * drain, resume and forget; and the Add agent dialog.
 */
import { ActionIcon, Badge, Button, Card, Group, Menu, Progress, Stack, Table, Text, Tooltip } from '@mantine/core';
import { IconDots, IconPlayerPause, IconPlayerPlay, IconPlus, IconServerOff, IconTrash } from '@tabler/icons-react';
import { useState } from 'react';
import type { AgentView } from '../../../../electron/hub/model.js';
import { useHub } from '../../api/hub-context.js';
import { useLiveData, type LoadSample } from '../../api/live-data.js';
import { ConfirmDialog } from '../../components/confirm.js';
import { Page } from '../../components/Page.js';
import { PageHeader } from '../../components/PageHeader.js';
import { Sparkline } from '../../components/sparkline/Sparkline.js';
import { AgentStatusBadge } from '../../components/StatusBadge.js';
import { formatBytes } from '../../lib/format.js';
import { notifyDone, notifyError } from '../../lib/notify.js';
import { useNow } from '../../lib/use-now.js';
import { AddAgentDialog } from './AddAgentDialog.js';
import { describeLastSeen } from './last-seen.js';
import { currentBackoff, describeBackoff } from './unhealthy.js';

const STATUS_ORDER = { online: 0, draining: 1, offline: 2 } as const;

function byStatusThenName(a: AgentView, b: AgentView): number {
  return STATUS_ORDER[a.status] - STATUS_ORDER[b.status] || a.name.localeCompare(b.name);
}

function LoadCell({ agent, samples }: { agent: AgentView; samples: LoadSample[] | undefined }) {
  if (agent.status === 'offline') return <Text size="sm" c="dimmed">–</Text>;
  const values = (samples ?? []).map((sample) => sample.load);
  return (
    <Group gap="xs" wrap="nowrap">
      <Sparkline values={values} max={Math.max(1, ...values)} label={`Load of ${agent.name}`} />
      <Text size="sm" w={40} ta="right">
        {agent.load === null ? '–' : `${Math.round(agent.load * 100)}%`}
      </Text>
    </Group>
  );
}

function SlotsCell({ agent }: { agent: AgentView }) {
  const used = agent.running / agent.slots;
  return (
    <Stack gap={4} w={90}>
      <Text size="sm">
        {agent.running} of {agent.slots}
      </Text>
      <Progress value={used * 100} size="sm" color={used >= 1 ? 'orange' : undefined} aria-label={`Slots used on ${agent.name}`} />
    </Stack>
  );
}

/** Shows the agent's status and, during a start-failure back-off, why placement leaves the agent out. */
function StatusCell({ agent, now }: { agent: AgentView; now: number }) {
  const backoff = agent.status === 'offline' ? null : currentBackoff(agent, now);
  return (
    <Stack gap={4} align="flex-start">
      <AgentStatusBadge status={agent.status} />
      {backoff !== null && (
        <Tooltip label="Drain or resume the agent to take it back into placement now" multiline w={260}>
          <Text size="xs" c="red" maw={260} data-unhealthy-until={backoff.until}>
            {describeBackoff(backoff, now)}
          </Text>
        </Tooltip>
      )}
    </Stack>
  );
}

function AgentRow({ agent, samples, now, onForget }: { agent: AgentView; samples: LoadSample[] | undefined; now: number; onForget(): void }) {
  const client = useHub();
  const facts = agent.facts;
  const setDraining = async (draining: boolean) => {
    try {
      await client.request('agents.drain', { id: agent.id, draining });
      notifyDone(draining ? `${agent.name} takes no new runs` : `${agent.name} takes runs again`);
    } catch (error) {
      notifyError('Could not change the agent', error);
    }
  };

  return (
    <Table.Tr data-agent={agent.name} data-status={agent.status}>
      <Table.Td>
        <Text fw={600} size="sm">
          {agent.name}
        </Text>
        <Text size="xs" c="dimmed">
          {facts?.hostname ?? agent.id.slice(0, 8)}
        </Text>
      </Table.Td>
      <Table.Td>
        <StatusCell agent={agent} now={now} />
      </Table.Td>
      <Table.Td>
        <Group gap={4}>
          {agent.tags.length === 0 ? <Text size="xs" c="dimmed">none</Text> : agent.tags.map((tag) => <Badge key={tag} size="xs" variant="outline" radius="sm">{tag}</Badge>)}
        </Group>
      </Table.Td>
      <Table.Td>
        <SlotsCell agent={agent} />
      </Table.Td>
      <Table.Td>
        <LoadCell agent={agent} samples={samples} />
      </Table.Td>
      <Table.Td>{facts?.cpus ?? '–'}</Table.Td>
      <Table.Td>
        <Text size="sm">{facts ? formatBytes(facts.memoryBytes) : '–'}</Text>
        {agent.freeMemoryBytes !== null && <Text size="xs" c="dimmed">{formatBytes(agent.freeMemoryBytes)} free</Text>}
      </Table.Td>
      <Table.Td>{facts ? `${facts.platform}/${facts.arch}` : '–'}</Table.Td>
      <Table.Td>{agent.version}</Table.Td>
      <Table.Td>
        <Tooltip label={new Date(agent.lastSeenAt).toLocaleString()}>
          <Text size="sm">{describeLastSeen(agent, now)}</Text>
        </Tooltip>
      </Table.Td>
      <Table.Td>
        <Menu position="bottom-end" withinPortal>
          <Menu.Target>
            <ActionIcon variant="subtle" color="gray" aria-label={`Actions for ${agent.name}`}>
              <IconDots size={16} />
            </ActionIcon>
          </Menu.Target>
          <Menu.Dropdown>
            {agent.draining ? (
              <Menu.Item leftSection={<IconPlayerPlay size={14} />} onClick={() => void setDraining(false)}>
                Resume
              </Menu.Item>
            ) : (
              <Menu.Item leftSection={<IconPlayerPause size={14} />} onClick={() => void setDraining(true)}>
                Drain
              </Menu.Item>
            )}
            <Menu.Divider />
            <Menu.Item color="red" leftSection={<IconTrash size={14} />} onClick={onForget}>
              Forget
            </Menu.Item>
          </Menu.Dropdown>
        </Menu>
      </Table.Td>
    </Table.Tr>
  );
}

function EmptyFleet({ onAdd }: { onAdd(): void }) {
  return (
    <Card withBorder padding="xl" radius="lg">
      <Stack align="center" gap="xs">
        <IconServerOff size={40} stroke={1.3} />
        <Text fw={600}>No agents yet</Text>
        <Text size="sm" c="dimmed" ta="center" maw={420}>
          Agents are the machines that run your tasks. Start one with the join command and it shows up here.
        </Text>
        <Button leftSection={<IconPlus size={16} />} onClick={onAdd} mt="sm">
          Add agent
        </Button>
      </Stack>
    </Card>
  );
}

export function FleetPage() {
  const client = useHub();
  const { agents, loadHistory, removeAgent } = useLiveData();
  const now = useNow();
  const [adding, setAdding] = useState(false);
  const [forgetting, setForgetting] = useState<AgentView | null>(null);
  const sorted = [...agents].sort(byStatusThenName);
  const online = agents.filter((agent) => agent.status !== 'offline');
  const slots = online.reduce((sum, agent) => sum + agent.slots, 0);
  const running = online.reduce((sum, agent) => sum + agent.running, 0);

  const forget = async (agent: AgentView) => {
    try {
      await client.request('agents.forget', { id: agent.id });
      removeAgent(agent.id);
      notifyDone(`${agent.name} forgotten`);
    } catch (error) {
      notifyError('Could not forget the agent', error);
    }
    setForgetting(null);
  };

  return (
    <Page label="Fleet">
      <PageHeader
        title="Fleet"
        description={`${online.length} of ${agents.length} agents online · ${running} of ${slots} slots in use`}
        actions={
          <Button leftSection={<IconPlus size={16} />} onClick={() => setAdding(true)}>
            Add agent
          </Button>
        }
      />
      {agents.length === 0 ? (
        <EmptyFleet onAdd={() => setAdding(true)} />
      ) : (
        <Card withBorder padding={0} radius="md">
          <Table.ScrollContainer minWidth={1000}>
            <Table aria-label="Agents">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Agent</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th>Tags</Table.Th>
                  <Table.Th>Slots</Table.Th>
                  <Table.Th>Load (10 min)</Table.Th>
                  <Table.Th>CPUs</Table.Th>
                  <Table.Th>Memory</Table.Th>
                  <Table.Th>Platform</Table.Th>
                  <Table.Th>Version</Table.Th>
                  <Table.Th>Last seen</Table.Th>
                  <Table.Th w={40} />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {sorted.map((agent) => (
                  <AgentRow key={agent.id} agent={agent} samples={loadHistory.get(agent.id)} now={now} onForget={() => setForgetting(agent)} />
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </Card>
      )}
      <AddAgentDialog opened={adding} onClose={() => setAdding(false)} />
      <ConfirmDialog
        opened={forgetting !== null}
        title={`Forget ${forgetting?.name ?? 'agent'}?`}
        confirmLabel="Forget agent"
        onCancel={() => setForgetting(null)}
        onConfirm={() => forgetting && forget(forgetting)}
      >
        The hub drops this agent from the fleet and ends its connection. Its runs in progress are marked lost. The machine can join again later with a join command.
      </ConfirmDialog>
    </Page>
  );
}
