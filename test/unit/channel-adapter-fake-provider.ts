/**
 * A provider played at loopback for the channel adapter tests: records every request exactly as it
 * arrived (method, path, headers, raw body) and answers what the test tells it to.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { OpenedConnection, OutboundMessage } from '../../domain/channels/outbound';

export interface RecordedRequest {
  method: string;
  /** Path and query, as sent. */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
  /** The body parsed as JSON, when it is JSON. */
  json: unknown;
  /** The body parsed as a form, when it is one. */
  form: URLSearchParams | null;
}

export interface FakeReply {
  status?: number;
  json?: unknown;
  body?: string | Buffer;
  headers?: Record<string, string | undefined>;
  /** Never answer (a timeout). */
  hang?: boolean;
  /** Drop the connection once the request has arrived (the provider may have acted on it). */
  reset?: boolean;
  /** Send the body in chunks without a Content-Length. */
  chunked?: Buffer[];
}

export type FakeHandler = (request: RecordedRequest) => FakeReply;

export interface FakeProvider {
  baseUrl: string;
  requests: RecordedRequest[];
  answer(handler: FakeHandler): void;
  close(): Promise<void>;
}

export async function startFakeProvider(handler: FakeHandler = () => ({ status: 404 })): Promise<FakeProvider> {
  let current = handler;
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const text = body.toString('utf8');
      let json: unknown = null;
      try {
        json = text ? JSON.parse(text) : null;
      } catch {
        json = null;
      }
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body,
        text,
        json,
        form: req.headers['content-type']?.startsWith('application/x-www-form-urlencoded') ? new URLSearchParams(text) : null,
      };
      requests.push(recorded);
      const reply = current(recorded);
      if (reply.hang) return;
      if (reply.reset) {
        req.socket.destroy();
        return;
      }
      if (reply.chunked) {
        res.writeHead(reply.status ?? 200, reply.headers ?? {});
        for (const chunk of reply.chunked) res.write(chunk);
        res.end();
        return;
      }
      const payload = reply.json !== undefined ? JSON.stringify(reply.json) : (reply.body ?? '');
      res.writeHead(reply.status ?? 200, {
        ...(reply.json !== undefined ? { 'content-type': 'application/json' } : {}),
        ...reply.headers,
      });
      res.end(payload);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    answer(next) {
      current = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Runs `action`, expecting it to throw; returns what it threw. */
export async function thrown(action: () => Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await action();
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error('expected a throw');
}

/** An outbound message on `connection` with ordinary defaults. */
export const outbound = (connection: OpenedConnection, overrides: Partial<OutboundMessage> = {}): OutboundMessage => ({
  connection,
  to: '+15551234567',
  text: 'Hello',
  attachments: [],
  replyToProviderMessageId: null,
  email: null,
  reference: { workspaceId: 'ws_01', conversationId: 'cnv_01', messageId: 'msg_01', deliveryId: 'dlv_01', attempt: 1 },
  statusCallbackUrl: null,
  partsSent: [],
  ...overrides,
});
