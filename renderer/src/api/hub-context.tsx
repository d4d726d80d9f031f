/**
 * Makes one `HubClient` and its connection status available to the tree.
 */
import { createContext, useContext, useEffect, useRef, useState, type ReactNode } from 'react';
import { HubClient, type ConnectionStatus } from './client.js';

interface HubContextValue {
  client: HubClient;
  status: ConnectionStatus;
}

const HubContext = createContext<HubContextValue | null>(null);

export function HubProvider({ token, children }: { token: string; children: ReactNode }) {
  const [client, setClient] = useState<HubClient | null>(null);
  const [status, setStatus] = useState<ConnectionStatus>('connecting');

  useEffect(() => {
    const created = new HubClient({ token });
    setClient(created);
    setStatus(created.connectionStatus);
    const stop = created.onStatus(setStatus);
    return () => {
      stop();
      created.close();
    };
  }, [token]);

  if (!client) return null;
  return <HubContext.Provider value={{ client, status }}>{children}</HubContext.Provider>;
}

function useHubContext(): HubContextValue {
  const value = useContext(HubContext);
  if (!value) throw new Error('useHub must be used inside <HubProvider>');
  return value;
}

export function useHub(): HubClient {
  return useHubContext().client;
}

export function useConnectionStatus(): ConnectionStatus {
  return useHubContext().status;
}

/** Calls `effect` each time the connection is (re)established, and its cleanup when it drops. */
export function useWhenConnected(effect: (client: HubClient) => void | (() => void), deps: readonly unknown[]): void {
  const { client, status } = useHubContext();
  const latest = useRef(effect);
  latest.current = effect;
  useEffect(() => {
    if (status !== 'connected') return undefined;
    return latest.current(client);
  }, [client, status, ...deps]);
}
