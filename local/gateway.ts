import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { APIGatewayProxyStructuredResultV2, LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';
import { webhooks as webhookDefinitions, type WebhookDefinition } from '../functions/webhooks/webhooks';
import { loadHandler } from './handlers';
import { dispatch } from './http-invoke';
import { lambdaContext } from './http-routing';

/** API Gateway's payload limit. */
const maxBodyBytes = 10 * 1024 * 1024;

export interface GatewayOptions {
  port: number;
  host?: string;
  webhooks?: WebhookDefinition[];
  log?: (line: string) => void;
}

/**
 * The local API gateway: turns each HTTP request into the event AWS would build (API Gateway HTTP API
 * payload 2.0 for routes of the route table, Lambda Function URL events for `/hooks/<name>`) and
 * calls the same handler module the CDK app deploys.
 */
export async function startGateway(options: GatewayOptions): Promise<{ server: Server; url: string; stop(): Promise<void> }> {
  const hooks = options.webhooks ?? webhookDefinitions;
  const server = createServer((req, res) => {
    const started = process.hrtime.bigint();
    const requestId = randomUUID();
    handle(req, requestId, hooks)
      .catch((error: unknown) => {
        options.log?.(`gateway error: ${(error as Error).stack ?? String(error)}`);
        return badGateway;
      })
      .then((result) => {
        try {
          writeResult(res, result, requestId);
        } catch (error) {
          // A header Node refuses (API Gateway would answer 502 too): one bad answer, never the whole stack down.
          options.log?.(`gateway error: ${(error as Error).stack ?? String(error)}`);
          if (!res.headersSent) writeResult(res, badGateway, requestId);
          else res.destroy();
        }
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        options.log?.(`${req.method} ${req.url} -> ${result.statusCode ?? 200} ${ms.toFixed(1)} ms`);
      });
  });
  // What Node refuses before any handler runs (a request line or headers past its limit, bad syntax)
  // is answered as API Gateway would, in problem+json, rather than with Node's bare status line.
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return;
    const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
    const status = tooLarge ? 431 : 400;
    const body = JSON.stringify({
      type: 'about:blank',
      title: tooLarge ? 'Request Header Fields Too Large' : 'Bad Request',
      status,
      detail: tooLarge ? 'The URL and headers together are too long' : 'The request is not valid HTTP',
    });
    socket.end(
      `HTTP/1.1 ${status} ${tooLarge ? 'Request Header Fields Too Large' : 'Bad Request'}\r\ncontent-type: application/problem+json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return {
    server,
    url: `http://${host}:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function handle(
  req: IncomingMessage,
  requestId: string,
  hooks: WebhookDefinition[],
): Promise<APIGatewayProxyStructuredResultV2> {
  // Not `new URL()`: it resolves `..` and `%2E%2E` segments, which would route a request elsewhere.
  const url = splitRequestTarget(req.url ?? '/');
  const body = await readBody(req);
  if (body === undefined) {
    return { statusCode: 413, headers: { 'content-type': 'application/json' }, body: '{"message":"Request Entity Too Large"}' };
  }
  const headers = Object.fromEntries(
    Object.entries(req.headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(',') : value]),
  ) as Record<string, string | undefined>;
  const hook = webhookFor(hooks, url.pathname);
  if (hook) return invokeWebhook(hook, req, url, headers, body, requestId);
  return dispatch(
    {
      method: req.method ?? 'GET',
      path: url.pathname,
      rawQueryString: url.search.replace(/^\?/, ''),
      headers,
      body: body.length ? body : undefined,
      sourceIp: req.socket.remoteAddress,
    },
    requestId,
  );
}

/** The webhook a path goes to: `/hooks/<name>` exactly, else the one whose `pathPrefix` it starts with. */
export function webhookFor(hooks: readonly WebhookDefinition[], pathname: string): WebhookDefinition | undefined {
  return (
    hooks.find((hook) => !hook.pathPrefix && pathname === `/hooks/${hook.name}`) ??
    hooks.find((hook) => hook.pathPrefix !== undefined && pathname.startsWith(hook.pathPrefix))
  );
}

async function invokeWebhook(
  hook: WebhookDefinition,
  req: IncomingMessage,
  url: RequestTarget,
  headers: Record<string, string | undefined>,
  body: Buffer,
  requestId: string,
): Promise<APIGatewayProxyStructuredResultV2> {
  const handler = await loadHandler<(event: LambdaFunctionURLEvent, context: unknown) => Promise<LambdaFunctionURLResult>>(hook.entry);
  const event = functionUrlEvent({
    name: hook.name,
    method: req.method ?? 'POST',
    target: url,
    headers,
    body,
    sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
    requestId,
  });
  const result = await handler(event, lambdaContext(`crm-hook-${hook.name}`, requestId));
  return typeof result === 'string' ? { statusCode: 200, body: result } : (result as APIGatewayProxyStructuredResultV2);
}

/**
 * The event a Lambda Function URL hands its function (payload 2.0): the raw path and query as sent,
 * lower-case headers, and the body's exact bytes (base64, as Function URLs deliver non-text bodies).
 */
export function functionUrlEvent(input: {
  name: string;
  method: string;
  target: RequestTarget;
  headers: Readonly<Record<string, string | undefined>>;
  body: Uint8Array;
  sourceIp?: string;
  requestId?: string;
}): LambdaFunctionURLEvent {
  const now = new Date();
  const { target } = input;
  const headers = Object.fromEntries(
    Object.entries(input.headers)
      .filter((entry): entry is [string, string] => entry[1] !== undefined)
      .map(([name, value]) => [name.toLowerCase(), value]),
  );
  const query = Object.fromEntries(new URLSearchParams(target.search));
  const body = Buffer.from(input.body);
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: target.pathname,
    rawQueryString: target.search.replace(/^\?/, ''),
    headers,
    ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: 'anonymous',
      apiId: input.name,
      domainName: headers.host ?? 'localhost',
      domainPrefix: input.name,
      http: {
        method: input.method,
        path: target.pathname,
        protocol: 'HTTP/1.1',
        sourceIp: input.sourceIp ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: input.requestId ?? randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    // Function URLs deliver bodies base64-encoded unless they are text; keep them exact.
    ...(body.length ? { body: body.toString('base64'), isBase64Encoded: true } : { isBase64Encoded: false }),
  };
}

export interface RequestTarget {
  pathname: string;
  /** The query string with its `?`, or empty. */
  search: string;
}

/** The request target as sent: the path and query, split at the first `?`, nothing resolved. */
export function splitRequestTarget(target: string): RequestTarget {
  const withoutFragment = target.split('#')[0]!;
  const queryAt = withoutFragment.indexOf('?');
  return queryAt === -1
    ? { pathname: withoutFragment, search: '' }
    : { pathname: withoutFragment.slice(0, queryAt), search: withoutFragment.slice(queryAt) };
}

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBodyBytes) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > maxBodyBytes ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

const badGateway: APIGatewayProxyStructuredResultV2 = {
  statusCode: 502,
  headers: { 'content-type': 'application/json' },
  body: '{"message":"Internal Server Error"}',
};

function writeResult(res: ServerResponse, result: APIGatewayProxyStructuredResultV2, requestId: string) {
  const headers: Record<string, string> = { 'x-request-id': requestId };
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name.toLowerCase()] = String(value);
  const body = result.body === undefined ? Buffer.alloc(0) : Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8');
  headers['content-length'] = String(body.length);
  res.writeHead(result.statusCode ?? 200, headers);
  res.end(body);
}
