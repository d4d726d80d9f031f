/**
 * The left navigation: the product mark, one link per page with live
 * counts, and the colour scheme switch.
 */
import { ActionIcon, Badge, Group, NavLink, Stack, Text, Tooltip, useComputedColorScheme, useMantineColorScheme } from '@mantine/core';
import { IconCalendarTime, IconCode, IconHistory, IconMoon, IconServer2, IconSettings, IconSun, IconTerminal2 } from '@tabler/icons-react';
import type { ReactNode } from 'react';
import { NavLink as RouterLink, useLocation } from 'react-router';
import { useLiveData } from '../../api/live-data.js';
import logo from '../../../../resources/icon.png';
import classes from './shell.module.css';

interface Item {
  to: string;
  label: string;
  icon: ReactNode;
  badge?: ReactNode;
}

export function Navigation() {
  const { agents, jobs, summary } = useLiveData();
  const location = useLocation();
  const { setColorScheme } = useMantineColorScheme();
  const scheme = useComputedColorScheme('light');
  const online = agents.filter((agent) => agent.status !== 'offline').length;
  const items: Item[] = [
    { to: '/fleet', label: 'Fleet', icon: <IconServer2 size={18} />, badge: agents.length > 0 ? `${online}/${agents.length}` : undefined },
    { to: '/jobs', label: 'Jobs', icon: <IconCalendarTime size={18} />, badge: jobs.length || undefined },
    { to: '/tasks', label: 'Tasks', icon: <IconCode size={18} /> },
    { to: '/runs', label: 'Runs', icon: <IconHistory size={18} />, badge: summary && summary.running > 0 ? summary.running : undefined },
    { to: '/logs', label: 'Live logs', icon: <IconTerminal2 size={18} /> },
    { to: '/settings', label: 'Settings', icon: <IconSettings size={18} /> },
  ];

  return (
    <Stack h="100%" justify="space-between" gap={0}>
      <div>
        <Group gap="xs" px="md" py="md" className={classes.brand}>
          <img src={logo} alt="" width={28} height={28} />
          <Text fw={700} size="lg">
            Farmboy
          </Text>
        </Group>
        <nav aria-label="Pages">
          <Stack gap={2} px="xs">
            {items.map((item) => (
              <NavLink
                key={item.to}
                component={RouterLink}
                to={item.to}
                label={item.label}
                leftSection={item.icon}
                rightSection={item.badge !== undefined ? <Badge size="sm" variant="light" radius="sm">{item.badge}</Badge> : null}
                active={location.pathname === item.to || location.pathname.startsWith(`${item.to}/`)}
                className={classes.navLink}
              />
            ))}
          </Stack>
        </nav>
      </div>
      <Group px="md" py="sm" justify="space-between">
        <Text size="xs" c="dimmed">
          Theme
        </Text>
        <Tooltip label={scheme === 'dark' ? 'Switch to light' : 'Switch to dark'}>
          <ActionIcon variant="default" aria-label="Toggle colour scheme" onClick={() => setColorScheme(scheme === 'dark' ? 'light' : 'dark')}>
            {scheme === 'dark' ? <IconSun size={16} /> : <IconMoon size={16} />}
          </ActionIcon>
        </Tooltip>
      </Group>
    </Stack>
  );
}
