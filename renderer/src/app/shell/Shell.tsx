/**
 * The application frame: navigation on the left, the page, a banner while
 * the hub is unreachable, and the status bar.
 */
import { Alert, AppShell, Loader } from '@mantine/core';
import { IconPlugConnectedX } from '@tabler/icons-react';
import { Suspense, type ReactNode } from 'react';
import { useConnectionStatus } from '../../api/hub-context.js';
import { Navigation } from './Navigation.js';
import { StatusBar } from './StatusBar.js';
import classes from './shell.module.css';

export function Shell({ children }: { children: ReactNode }) {
  const status = useConnectionStatus();

  return (
    <AppShell navbar={{ width: 220, breakpoint: 0 }} footer={{ height: 30 }} padding={0}>
      <AppShell.Navbar>
        <Navigation />
      </AppShell.Navbar>
      <AppShell.Main>
        {status !== 'connected' && (
          <Alert role="alert" color="red" radius={0} icon={<IconPlugConnectedX size={18} />} title="Disconnected from the hub" className={classes.banner} data-testid="disconnected-banner">
            Changes cannot be saved until the connection is back. Reconnecting automatically…
          </Alert>
        )}
        <Suspense fallback={<Loader m="xl" />}>{children}</Suspense>
      </AppShell.Main>
      <AppShell.Footer>
        <StatusBar />
      </AppShell.Footer>
    </AppShell>
  );
}
