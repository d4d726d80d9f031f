/**
 * Port of the hub's UI server under `npm run dev`. Vite serves the renderer
 * with hot reload and forwards /api and /socket.io to this port, so the page
 * and the hub share one origin, as they do in production.
 */
export const DEFAULT_DEV_HUB_PORT = 7431;

export class DevHubPortError extends Error {
  readonly code = 'INVALID_DEV_HUB_PORT';
}

/** Reads FARMBOY_DEV_HUB_PORT, falling back to 7431. */
export function devHubPort(env: Record<string, string | undefined> = process.env): number {
  const raw = env['FARMBOY_DEV_HUB_PORT'];
  if (raw === undefined || raw === '') return DEFAULT_DEV_HUB_PORT;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new DevHubPortError(`FARMBOY_DEV_HUB_PORT must be a TCP port from 1 to 65535, got '${raw}'`);
  }
  return port;
}
