/**
 * A loopback TCP proxy that a test controls, standing in for the network
 * between an agent and the hub. `cut('reset')` breaks every connection at
 * once and refuses new ones, as an unplugged cable noticed by both ends;
 * `cut('drop')` keeps connections open but moves no byte, as a firewall that
 * drops packets, so only heartbeats can tell. `restore()` lets traffic through
 * again, breaking the connections held during a drop, as their TCP state
 * would be lost after a long outage.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

type Mode = 'open' | 'reset' | 'drop';

interface Pair {
  client: Socket;
  upstream: Socket | null;
}

export class TcpProxy {
  private mode: Mode = 'open';
  private readonly pairs = new Set<Pair>();
  /** Connections accepted since the proxy started, for tests that count reconnects. */
  connections = 0;

  private constructor(
    private readonly server: Server,
    private targetPort: number,
  ) {}

  /** Listens on 127.0.0.1 with an ephemeral port and forwards to `targetPort`. */
  static async start(targetPort: number): Promise<TcpProxy> {
    const server = createServer();
    const proxy = new TcpProxy(server, targetPort);
    server.on('connection', (client) => proxy.accept(client));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Sends new connections to another port, for a hub restarted on a new one. */
  setTarget(port: number): void {
    this.targetPort = port;
  }

  cut(mode: 'reset' | 'drop'): void {
    this.mode = mode;
    if (mode === 'reset') this.destroyAll();
    else for (const pair of this.pairs) this.hold(pair);
  }

  restore(): void {
    if (this.mode === 'drop') this.destroyAll();
    this.mode = 'open';
  }

  async close(): Promise<void> {
    this.destroyAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    this.connections += 1;
    if (this.mode === 'reset') {
      client.destroy();
      return;
    }
    const pair: Pair = { client, upstream: null };
    this.pairs.add(pair);
    client.on('error', () => this.drop(pair));
    client.on('close', () => this.drop(pair));
    if (this.mode === 'drop') {
      client.pause();
      return;
    }
    const upstream = connect(this.targetPort, '127.0.0.1');
    pair.upstream = upstream;
    upstream.on('error', () => this.drop(pair));
    upstream.on('close', () => this.drop(pair));
    client.pipe(upstream);
    upstream.pipe(client);
  }

  /** Stops moving bytes in both directions; whatever the ends write stays in their buffers. */
  private hold(pair: Pair): void {
    pair.client.unpipe();
    pair.upstream?.unpipe();
    pair.client.pause();
    pair.upstream?.pause();
  }

  private drop(pair: Pair): void {
    if (!this.pairs.delete(pair)) return;
    pair.client.destroy();
    pair.upstream?.destroy();
  }

  private destroyAll(): void {
    for (const pair of [...this.pairs]) this.drop(pair);
  }
}
