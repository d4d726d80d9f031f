/**
 * The root: theme, sign-in, the hub connection and the pages.
 */
import { Center, Loader, MantineProvider, Stack, Text } from '@mantine/core';
import { Notifications } from '@mantine/notifications';
import { lazy, useEffect, useState } from 'react';
import { HashRouter, Navigate, Route, Routes } from 'react-router';
import { HubProvider, useConnectionStatus } from '../api/hub-context.js';
import { LiveDataProvider } from '../api/live-data.js';
import { SignIn } from '../auth/SignIn.js';
import { forgetAdminToken, saveAdminToken } from '../auth/token.js';
import { FleetPage } from '../pages/fleet/FleetPage.js';
import { JobEditorPage } from '../pages/job-editor/JobEditorPage.js';
import { JobsPage } from '../pages/jobs/JobsPage.js';
import { LogsPage } from '../pages/logs/LogsPage.js';
import { RunPage } from '../pages/run/RunPage.js';
import { RunsPage } from '../pages/runs/RunsPage.js';
import { SettingsPage } from '../pages/settings/SettingsPage.js';
import { TasksPage } from '../pages/tasks/TasksPage.js';
import { Shell } from './shell/Shell.js';
import { theme } from './theme.js';

// Monaco is large, so the editor's chunk loads only when a task is opened.
const TaskEditorPage = lazy(() => import('../pages/task-editor/TaskEditorPage.js').then((module) => ({ default: module.TaskEditorPage })));

function Pages() {
  return (
    <Routes>
      <Route path="/" element={<Navigate to="/jobs" replace />} />
      <Route path="/fleet" element={<FleetPage />} />
      <Route path="/jobs" element={<JobsPage />} />
      <Route path="/jobs/new" element={<JobEditorPage />} />
      <Route path="/jobs/:id" element={<JobEditorPage />} />
      <Route path="/tasks" element={<TasksPage />} />
      <Route path="/tasks/new" element={<TaskEditorPage />} />
      <Route path="/tasks/:id" element={<TaskEditorPage />} />
      <Route path="/runs" element={<RunsPage />} />
      <Route path="/runs/:id" element={<RunPage />} />
      <Route path="/logs" element={<LogsPage />} />
      <Route path="/settings" element={<SettingsPage />} />
      <Route path="*" element={<Navigate to="/jobs" replace />} />
    </Routes>
  );
}

/** Waits for the first connection; a rejected token goes back to sign-in. */
function Connected({ onRejected }: { onRejected(): void }) {
  const status = useConnectionStatus();
  const [everConnected, setEverConnected] = useState(false);
  useEffect(() => {
    if (status === 'connected') setEverConnected(true);
    if (status === 'unauthorized') onRejected();
  }, [status, onRejected]);

  if (!everConnected) {
    return (
      <Center mih="100vh">
        <Stack align="center" gap="xs">
          <Loader />
          <Text c="dimmed" size="sm" role="status">
            {status === 'reconnecting' ? 'The hub is not answering; retrying…' : 'Connecting to the hub…'}
          </Text>
        </Stack>
      </Center>
    );
  }
  return (
    <LiveDataProvider>
      <HashRouter>
        <Shell>
          <Pages />
        </Shell>
      </HashRouter>
    </LiveDataProvider>
  );
}

export function App({ initialToken }: { initialToken: string | null }) {
  const [token, setToken] = useState(initialToken);
  const [rejected, setRejected] = useState(false);
  const storage = window.sessionStorage;

  return (
    <MantineProvider theme={theme} defaultColorScheme="auto">
      <Notifications position="bottom-right" />
      {token ? (
        <HubProvider token={token}>
          <Connected
            onRejected={() => {
              forgetAdminToken(storage);
              setRejected(true);
              setToken(null);
            }}
          />
        </HubProvider>
      ) : (
        <SignIn
          rejected={rejected}
          onSubmit={(next) => {
            saveAdminToken(storage, next);
            setRejected(false);
            setToken(next);
          }}
        />
      )}
    </MantineProvider>
  );
}
