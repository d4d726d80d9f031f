/**
 * Typed client of the hub's /ui namespace. Every request has a timeout and
 * rejects with a `HubRequestError` carrying the hub's error code; every
 * listener registration returns the function that removes it.
 */
import { io, type Socket } from 'socket.io-client';
import { UI_NAMESPACE, type UiMethod, type UiMethods, type UiReply, type UiServerEvents } from '../../../electron/hub/ui-contract.js';

export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

/** Codes the hub sends, plus the two the client adds when no reply comes. */
export type RequestErrorCode = 'invalid' | 'not_found' | 'conflict' | 'unauthorized' | 'unavailable' | 'internal' | 'timeout' | 'disconnected';

export class HubRequestError extends Error {
  override readonly name = 'HubRequestError';

  constructor(
    readonly code: RequestErrorCode,
    message: string,
    /** Dotted path of the offending input field, for `invalid`. */
    readonly field?: string,
    /** Structured detail, such as compile diagnostics. */
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export type ConnectionStatus = 'connecting' | 'connected' | 'reconnecting' | 'unauthorized';

export type Params<M extends UiMethod> = UiMethods[M]['params'];
export type Result<M extends UiMethod> = UiMethods[M]['result'];

type PushEvent = keyof UiServerEvents;
const PUSH_EVENTS: readonly PushEvent[] = ['changes', 'log', 'records'];

export interface HubClientOptions {
  /** Origin of the hub; the page's own origin when empty. */
  url?: string;
  token: string;
  requestTimeoutMs?: number;
}

export class HubClient {
  private readonly socket: Socket;
  private readonly timeoutMs: number;
  /** The admin token, for the HTTP API's streamed downloads. */
  readonly token: string;
  private status: ConnectionStatus = 'connecting';
  private readonly statusListeners = new Set<(status: ConnectionStatus) => void>();

  constructor(options: HubClientOptions) {
    this.timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.token = options.token;
    this.socket = io(`${options.url ?? ''}${UI_NAMESPACE}`, {
      auth: { token: options.token },
      transports: ['websocket'],
      reconnectionDelay: 500,
      reconnectionDelayMax: 5_000,
    });
    this.socket.on('connect', () => this.setStatus('connected'));
    this.socket.on('disconnect', () => this.setStatus('reconnecting'));
    this.socket.on('connect_error', (error: Error & { data?: { code?: string } }) => {
      if (error.data?.code === 'unauthorized') {
        // A wrong token stays wrong: stop retrying and let the user sign in again.
        this.socket.disconnect();
        this.setStatus('unauthorized');
      } else this.setStatus(this.status === 'connecting' ? 'connecting' : 'reconnecting');
    });
  }

  get connectionStatus(): ConnectionStatus {
    return this.status;
  }

  /** Sends a request and resolves with its data; rejects with `HubRequestError`. */
  async request<M extends UiMethod>(method: M, ...args: Params<M> extends void ? [params?: undefined, timeoutMs?: number] : [params: Params<M>, timeoutMs?: number]): Promise<Result<M>> {
    const [params, timeoutMs] = args;
    if (!this.socket.connected) throw new HubRequestError('disconnected', 'Not connected to the hub; the request was not sent.');
    let reply: UiReply<Result<M>>;
    try {
      reply = (await this.socket.timeout(timeoutMs ?? this.timeoutMs).emitWithAck('request', { method, params: params ?? null })) as UiReply<Result<M>>;
    } catch {
      throw new HubRequestError('timeout', `The hub did not reply to ${method} within ${timeoutMs ?? this.timeoutMs} ms; check the connection and try again.`);
    }
    if (reply.ok) return reply.data;
    const { code, message, field, details } = reply.error;
    throw new HubRequestError(code as RequestErrorCode, message, field, details);
  }

  /** Listens to a push; returns the function that stops listening. */
  on<E extends PushEvent>(event: E, listener: UiServerEvents[E]): () => void {
    const handler = listener as (...args: unknown[]) => void;
    this.socket.on(event as string, handler);
    return () => {
      this.socket.off(event as string, handler);
    };
  }

  onStatus(listener: (status: ConnectionStatus) => void): () => void {
    this.statusListeners.add(listener);
    return () => {
      this.statusListeners.delete(listener);
    };
  }

  /** Listeners registered on pushes and on the connection status, for leak checks. */
  listenerCount(): number {
    const pushes = PUSH_EVENTS.reduce((sum, event) => sum + this.socket.listeners(event).length, 0);
    return pushes + this.statusListeners.size;
  }

  /** Disconnects and drops every listener, including those whose cleanup was never called. */
  close(): void {
    this.socket.close();
    for (const event of PUSH_EVENTS) this.socket.off(event);
    this.statusListeners.clear();
  }

  private setStatus(status: ConnectionStatus): void {
    if (status === this.status) return;
    this.status = status;
    for (const listener of this.statusListeners) listener(status);
  }
}
