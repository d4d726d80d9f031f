/**
 * Hub settings: appearance, enrollment tokens, the agent certificate, retention, failure alerts,
 * network and the hub's addresses.
 */
import { Card, SegmentedControl, SimpleGrid, Stack, Text, Title, useMantineColorScheme, type MantineColorScheme } from '@mantine/core';
import type { ReactNode } from 'react';
import { useLiveData } from '../../api/live-data.js';
import { Page } from '../../components/Page.js';
import { PageHeader } from '../../components/PageHeader.js';
import { CertificateSection } from './CertificateSection.js';
import { AlertsSection } from './AlertsSection.js';
import { ApiKeysSection } from './ApiKeysSection.js';
import { DesktopSection } from './DesktopSection.js';
import { NetworkSection } from './NetworkSection.js';
import { RetentionSection } from './RetentionSection.js';
import { TokensSection } from './TokensSection.js';

function Section({ title, description, children }: { title: string; description: string; children: ReactNode }) {
  return (
    <Card withBorder radius="md" padding="lg" component="section" aria-label={title}>
      <Title order={4}>{title}</Title>
      <Text size="sm" c="dimmed" mb="md">{description}</Text>
      {children}
    </Card>
  );
}

function Fact({ label, value }: { label: string; value: string }) {
  return (
    <Stack gap={2}>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>{label}</Text>
      <Text size="sm" ff="monospace">{value}</Text>
    </Stack>
  );
}

export function SettingsPage() {
  const { colorScheme, setColorScheme } = useMantineColorScheme();
  const { info } = useLiveData();

  return (
    <Page label="Settings">
      <PageHeader title="Settings" />
      <Stack gap="md">
        <Section title="Appearance" description="Kept in this browser or window.">
          <SegmentedControl
            aria-label="Theme"
            value={colorScheme}
            onChange={(value) => setColorScheme(value as MantineColorScheme)}
            data={[
              { value: 'light', label: 'Light' },
              { value: 'dark', label: 'Dark' },
              { value: 'auto', label: 'Follow the system' },
            ]}
          />
        </Section>
        {window.farmboy && (
          <Section title="Desktop" description="How the desktop app starts.">
            <DesktopSection api={window.farmboy} />
          </Section>
        )}
        <Section title="Enrollment tokens" description="Agents join with one of these tokens; the hub stores only their hashes.">
          <TokensSection />
        </Section>
        <Section title="API keys" description="Scripts call the HTTP API with one of these keys; the hub stores only their hashes.">
          <ApiKeysSection />
        </Section>
        <Section title="Agent certificate" description="Agents pin this certificate's fingerprint and reject a hub that presents another.">
          <CertificateSection />
        </Section>
        <Section title="Retention" description="How much run history the hub keeps.">
          <RetentionSection />
        </Section>
        <Section title="Failure alerts" description="A webhook the hub posts to when a run fails, is lost or times out after its last attempt.">
          <AlertsSection />
        </Section>
        <Section title="Network" description="Ports and remote access. Saved values take effect after the hub restarts; start options such as --ui-port win over them.">
          <NetworkSection />
        </Section>
        <Section title="Hub" description="Addresses of this hub.">
          <SimpleGrid cols={{ base: 1, md: 3 }}>
            <Fact label="Version" value={info?.version ?? '–'} />
            <Fact label="UI and API" value={info?.uiUrl || window.location.origin} />
            <Fact label="Agents connect to" value={info?.agentJoinUrl ?? '–'} />
          </SimpleGrid>
        </Section>
      </Stack>
    </Page>
  );
}
