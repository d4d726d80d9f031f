/**
 * Starts a new task from a shipped template or from scratch.
 */
import { Badge, Card, Group, Modal, SimpleGrid, Stack, Text, UnstyledButton } from '@mantine/core';
import { useEffect, useState } from 'react';
import type { TaskTemplate } from '../../../../electron/hub/ui-contract.js';
import { useHub } from '../../api/hub-context.js';

export const BLANK_TEMPLATES: TaskTemplate[] = [
  {
    id: 'blank-node',
    name: 'Blank TypeScript task',
    runtime: 'node',
    description: 'A module whose default export receives ctx.',
    source: "export default async function run(ctx: TaskContext) {\n  ctx.log.info('hello from', ctx.agent.name);\n  ctx.progress(100);\n  return { ok: true };\n}\n",
    defaultConfig: {},
  },
  {
    id: 'blank-shell',
    name: 'Blank shell script',
    runtime: 'shell',
    description: 'A script for the platform shell; the config arrives in FARMBOY_CONFIG.',
    source: '#!/bin/sh\necho "config: $FARMBOY_CONFIG"\n',
    defaultConfig: {},
  },
];

export function TemplatePicker({ opened, onPick, onClose }: { opened: boolean; onPick(template: TaskTemplate): void; onClose(): void }) {
  const client = useHub();
  const [templates, setTemplates] = useState<TaskTemplate[]>([]);
  useEffect(() => {
    if (opened) client.request('templates.list').then(setTemplates, () => setTemplates([]));
  }, [client, opened]);

  return (
    <Modal opened={opened} onClose={onClose} title={<Text fw={600}>Start a new task</Text>} size="xl">
      <SimpleGrid cols={2}>
        {[...BLANK_TEMPLATES, ...templates].map((template) => (
          <UnstyledButton key={template.id} onClick={() => onPick(template)} aria-label={`Use template ${template.name}`}>
            <Card withBorder radius="md" padding="md" h="100%">
              <Stack gap={4}>
                <Group justify="space-between">
                  <Text fw={600}>{template.name}</Text>
                  <Badge variant="light" size="sm">{template.runtime}</Badge>
                </Group>
                <Text size="sm" c="dimmed">{template.description}</Text>
              </Stack>
            </Card>
          </UnstyledButton>
        ))}
      </SimpleGrid>
    </Modal>
  );
}
