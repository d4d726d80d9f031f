/**
 * Entry of the UI: the product name and the state of the connection to the
 * hub, checked every few seconds.
 */
import { StrictMode, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { checkHealth, readAdminToken, type ConnectionState } from './connection.js';
import './styles.css';

const HEALTH_INTERVAL_MS = 5000;

function describe(state: ConnectionState): string {
  switch (state.status) {
    case 'connecting':
      return 'Connecting to the hub…';
    case 'connected':
      return `Connected to hub ${state.version}: ${state.agentsOnline} agents online, ${state.runsActive} runs active.`;
    case 'unauthorized':
      return 'No valid admin token. Open the address that farmboy-hub printed, including its #token= part.';
    case 'unreachable':
      return `Hub unreachable: ${state.reason}.`;
  }
}

function App({ token }: { token: string | null }) {
  const [state, setState] = useState<ConnectionState>({ status: 'connecting' });

  useEffect(() => {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        setState(await checkHealth(token, controller.signal));
        timer = setTimeout(() => void poll(), HEALTH_INTERVAL_MS);
      } catch {
        // Aborted by the cleanup below: the component is gone.
      }
    };
    void poll();
    return () => {
      controller.abort();
      clearTimeout(timer);
    };
  }, [token]);

  return (
    <main className="shell">
      <h1>Farmboy</h1>
      <p className="connection" data-status={state.status} role="status">
        {describe(state)}
      </p>
    </main>
  );
}

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
const token = readAdminToken(window.farmboy, window.location, window.history, window.sessionStorage);
createRoot(root).render(
  <StrictMode>
    <App token={token} />
  </StrictMode>,
);
