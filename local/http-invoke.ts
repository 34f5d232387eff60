import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { handlerEntry, type HandlerGroup } from '../functions/http/routes';
import { loadHandler } from './handlers';
import { lambdaContext, matchRoute, toApiGatewayEvent } from './http-routing';

type HttpHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

/** Loads the same module the CDK app bundles for a group's Lambda function. */
export const loadHttpHandler = (group: HandlerGroup) => loadHandler<HttpHandler>(handlerEntry(group));

export interface InvokeOptions {
  token?: string;
  headers?: Record<string, string>;
  query?: Record<string, string | number | boolean | undefined>;
  /** An object is sent as JSON; a string or bytes as they are. */
  body?: unknown;
  /** The handler's time before it answers 503 `timeout` (the local gateway's 30 s when not given). */
  timeoutMs?: number;
}

/** Routes a request as API Gateway would and invokes the route's handler with a payload-2.0 event. */
export async function invokeHttp(
  method: string,
  path: string,
  options: InvokeOptions = {},
): Promise<APIGatewayProxyStructuredResultV2> {
  const [pathOnly, inlineQuery = ''] = path.split('?');
  const query = new URLSearchParams(inlineQuery);
  for (const [name, value] of Object.entries(options.query ?? {})) {
    if (value !== undefined) query.set(name, String(value));
  }
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | Buffer | undefined;
  if (typeof options.body === 'string' || Buffer.isBuffer(options.body)) body = options.body;
  else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const requestId = randomUUID();
  const request = { method, path: pathOnly!, rawQueryString: query.toString(), headers, body };
  return dispatch(request, requestId, options.timeoutMs);
}

/** The gateway's dispatch, shared by the HTTP server (local/gateway.ts) and the tests. */
export async function dispatch(
  request: Parameters<typeof toApiGatewayEvent>[0],
  requestId: string,
  timeoutMs?: number,
): Promise<APIGatewayProxyStructuredResultV2> {
  const match = matchRoute(request.method, request.path);
  if (match.kind !== 'matched') {
    const status = match.kind === 'not_found' ? 404 : 405;
    return {
      statusCode: status,
      headers: {
        'content-type': 'application/problem+json',
        'x-request-id': requestId,
        ...(match.kind === 'method_not_allowed' ? { allow: match.allowed.join(', ') } : {}),
      },
      body: JSON.stringify({
        type: `https://crm.dev/problems/${status === 404 ? 'route-not-found' : 'method-not-allowed'}`,
        title: status === 404 ? 'Not Found' : 'Method Not Allowed',
        status,
        detail: status === 404 ? `No route for ${request.path}` : `${request.method} is not allowed on ${request.path}`,
        code: status === 404 ? 'route_not_found' : 'method_not_allowed',
        instance: request.path,
        requestId,
      }),
    };
  }
  const event = toApiGatewayEvent(request, match.route, match.pathParameters, requestId);
  const handler = await loadHttpHandler(match.route.group);
  return handler(event, lambdaContext(`crm-http-${match.route.group}`, requestId, timeoutMs));
}
