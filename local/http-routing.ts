import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { routeKey, routeList, type RouteDefinition } from '../functions/http/routes';

type Route = (typeof routeList)[number];

interface CompiledRoute {
  route: Route;
  pattern: RegExp;
  names: string[];
}

const compiled: CompiledRoute[] = routeList.map((route) => {
  const names: string[] = [];
  const source = route.path
    .split('/')
    .map((segment) => {
      const param = segment.match(/^\{(\w+)\}$/);
      if (!param) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(param[1]!);
      return '([^/]+)';
    })
    .join('/');
  return { route, pattern: new RegExp(`^${source}$`), names };
});

export type RouteMatch =
  | { kind: 'matched'; route: Route; pathParameters: Record<string, string> }
  | { kind: 'method_not_allowed'; allowed: string[] }
  | { kind: 'not_found' };

/**
 * The path as a deployed HTTP API routes it: percent-decoded once, then cut at a decoded `?` or `#`
 * (seen on live HTTP APIs: `rawPath` arrives decoded). So `%2F` in a parameter separates segments
 * here as it does there, and what works locally works deployed. Undecodable input stays as it came.
 */
export function gatewayPath(path: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return path;
  }
  const cut = decoded.search(/[?#]/u);
  return cut === -1 ? decoded : decoded.slice(0, cut);
}

/** Matches a request the way API Gateway does: on the decoded path, literal segments, `{name}` for one segment. */
export function matchRoute(method: string, rawPath: string): RouteMatch {
  const path = gatewayPath(rawPath);
  const allowed: string[] = [];
  let best: { route: Route; pathParameters: Record<string, string>; params: number } | undefined;
  for (const { route, pattern, names } of compiled) {
    const found = path.match(pattern);
    if (!found) continue;
    if (route.method !== method) {
      allowed.push(route.method);
      continue;
    }
    // As API Gateway does: a literal segment wins over a {parameter} (`/contacts/search` over `/contacts/{id}`).
    if (best && best.params <= names.length) continue;
    const pathParameters = Object.fromEntries(names.map((name, index) => [name, found[index + 1]!]));
    best = { route, pathParameters, params: names.length };
  }
  if (best) return { kind: 'matched', route: best.route, pathParameters: best.pathParameters };
  return allowed.length > 0 ? { kind: 'method_not_allowed', allowed: [...new Set(allowed)] } : { kind: 'not_found' };
}

export interface HttpRequestLike {
  method: string;
  path: string;
  /** Raw query string without `?`. */
  rawQueryString?: string;
  headers?: Record<string, string | undefined>;
  /** Bytes as they came, or text. */
  body?: string | Buffer;
  sourceIp?: string;
}

/** An API Gateway HTTP API payload-2.0 event, as AWS builds it for a matched route. */
export function toApiGatewayEvent(
  request: HttpRequestLike,
  route: Pick<RouteDefinition, 'method' | 'path'>,
  pathParameters: Record<string, string>,
  requestId: string,
): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers ?? {})) {
    if (value !== undefined) headers[name.toLowerCase()] = value;
  }
  const rawQueryString = request.rawQueryString ?? '';
  const query: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(rawQueryString)) {
    // API Gateway joins repeated parameters with commas.
    query[name] = name in query ? `${query[name]},${value}` : value;
  }
  const now = new Date();
  return {
    version: '2.0',
    routeKey: routeKey(route),
    rawPath: gatewayPath(request.path),
    rawQueryString,
    headers,
    ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
    ...(Object.keys(pathParameters).length ? { pathParameters } : {}),
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'localhost',
      http: {
        method: request.method,
        path: gatewayPath(request.path),
        protocol: 'HTTP/1.1',
        sourceIp: request.sourceIp ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey: routeKey(route),
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...eventBody(request.body),
  };
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** As an HTTP API hands a body over: text when it is UTF-8, else base64-encoded bytes. */
function eventBody(body: string | Buffer | undefined): { body?: string; isBase64Encoded: boolean } {
  if (body === undefined || body.length === 0) return { isBase64Encoded: false };
  if (typeof body === 'string') return { body, isBase64Encoded: false };
  try {
    return { body: strictUtf8.decode(body), isBase64Encoded: false };
  } catch {
    return { body: body.toString('base64'), isBase64Encoded: true };
  }
}

/**
 * A Lambda context good enough for handlers run locally. Its remaining time counts down from
 * `timeoutMs`: 30 s by default, API Gateway's longest wait for an integration.
 */
export function lambdaContext(functionName: string, requestId: string, timeoutMs = 30_000): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
