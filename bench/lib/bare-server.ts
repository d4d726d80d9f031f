/**
 * The physical limit of the hub's agent port: a socket.io server over TLS,
 * like the hub's, that does nothing with what it receives. `echo` is
 * acknowledged with its payload, `hello` with an empty object, `load` is
 * dropped. Its CPU time and memory under the same load as the hub show how
 * much of the hub's cost is the transport itself.
 *
 * Bundled by bench/lib/build.ts into out/bench/bare-server.js and started by
 * `startBareServer`.
 */
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { LIMITS } from '../../agent/src/protocol/index.js';
import { createTlsIdentity } from '../../electron/hub/tls.js';

async function main(): Promise<void> {
  const identity = await createTlsIdentity();
  const httpServer = createServer({ key: identity.key, cert: identity.cert, minVersion: 'TLSv1.2' });
  const io = new Server(httpServer, { maxHttpBufferSize: LIMITS.maxMessageBytes, pingInterval: 10_000, pingTimeout: 10_000, serveClient: false, cors: { origin: false } });
  io.of('/agent').on('connection', (socket) => {
    socket.on('hello', (_payload: unknown, ack: unknown) => {
      if (typeof ack === 'function') ack({ cancel: [], acked: {}, draining: false });
    });
    socket.on('echo', (payload: unknown, ack: unknown) => {
      if (typeof ack === 'function') ack(payload);
    });
    socket.on('load', () => undefined);
  });
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  const { port } = httpServer.address() as AddressInfo;
  process.send?.({ type: 'ready', url: `https://127.0.0.1:${port}`, pid: process.pid });
  process.on('disconnect', () => process.exit(0));
}

main().catch((error: unknown) => {
  process.stderr.write(`bare server failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
