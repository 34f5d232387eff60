import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { z, ZodType } from 'zod';
import { authenticate, type Authenticated } from '../../domain/auth/tokens.service';
import {
  abandonIdempotentRequest,
  beginIdempotentRequest,
  completeIdempotentRequest,
  requestFingerprint,
} from '../../domain/idempotency/idempotency.service';
import type { CoreDeps } from '../../domain/shared/deps';
import { DomainError, type FieldIssue } from '../../domain/shared/errors';
import { retryLostRaces } from '../../domain/shared/retry';
import { getCoreDeps } from '../shared/deps';
import { logger } from '../shared/logger';
import { recordRequest } from '../shared/metrics';
import { domainErrorResponse, problemResponse, zodFieldIssues, type ProblemContext } from '../shared/problem';
import { unknownBodyFields } from './body-fields';
import { openListCursor, sealNextCursor } from './list-cursors';
import { honoursIfMatch, routeKey, type HandlerGroup, type RouteDefinition } from './route-definition';
import { isStorableNumber, unstorableNumberMessage } from '../../domain/shared/storable-numbers';
import { asRecordTooLarge } from '../../domain/store/transaction';
// Types only: the handler's bundle never holds the whole route table, only the group's own route files.
import type { OperationId, RouteOf } from './routes';

const maxBodyBytes = 1024 * 1024;

type Part<R, K extends string> = R extends { [P in K]: infer S } ? (S extends ZodType ? z.output<S> : never) : Record<string, never>;

export interface OperationInput<R> {
  caller: Authenticated;
  params: Part<R, 'params'>;
  query: Part<R, 'query'>;
  body: Part<R, 'body'>;
  /** From If-Match: the version the client last read, when it sent one. */
  expectedVersion?: number;
  requestId: string;
}

/** A response an operation builds itself (another status, content type or headers). */
export class RawResponse {
  constructor(
    readonly statusCode: number,
    /** Text, or bytes (sent base64-encoded, as API Gateway expects of a binary body). */
    readonly body: string | Uint8Array,
    readonly headers: Record<string, string> = {},
  ) {}
}

/** Every route of the group, as its route files declare it (the handler passes those files' objects). */
export type GroupRoutes<G extends HandlerGroup> = {
  [K in OperationId as RouteOf<K>['group'] extends G ? K : never]: RouteOf<K>;
};

export type GroupOperations<G extends HandlerGroup> = {
  [K in OperationId as RouteOf<K>['group'] extends G ? K : never]: (
    input: OperationInput<RouteOf<K>>,
    deps: CoreDeps,
  ) => Promise<unknown>;
};

/**
 * Builds the Lambda handler of one route group from its own route files (routes of another group in
 * them are left out): it finds the route by API Gateway's route key and checks the path fits it,
 * authenticates, parses params, query and body with the route's zod schemas, opens a sealed cursor,
 * honours If-Match and Idempotency-Key, runs the operation (again, from its read, when it lost a
 * race), seals the next cursor, and maps the result or error to JSON or problem+json. What it can
 * answer is what `openapi.ts` declares for the route.
 */
export function createHttpHandler<G extends HandlerGroup>(
  group: G,
  groupRoutes: GroupRoutes<G>,
  operations: GroupOperations<G>,
  getDeps: () => CoreDeps = getCoreDeps,
) {
  const routesByKey = new Map(
    Object.entries(groupRoutes as Record<string, RouteDefinition>)
      .filter(([, definition]) => definition.group === group)
      .map(([operationId, definition]) => [routeKey(definition), { operationId, ...definition }]),
  );
  const run = async (event: APIGatewayProxyEventV2, context: Context): Promise<APIGatewayProxyStructuredResultV2> => {
    const requestId = event.requestContext?.requestId ?? context.awsRequestId;
    const problemContext: ProblemContext = { requestId, path: event.rawPath };
    logger.appendKeys({ requestId, route: event.routeKey });
    let idempotency: { caller: Authenticated; key: string } | undefined;
    const deps = getDeps();
    try {
      const route = routesByKey.get(event.routeKey);
      // The path must be this route's own: an encoded dot segment or an empty id never reaches another route.
      if (!route || !pathFitsRoute(event.rawPath, route.path)) {
        return problemResponse(404, 'route_not_found', `No route for ${event.rawPath}`, problemContext);
      }
      const headers = event.headers ?? {};
      const token = bearerToken(headers.authorization);
      const caller = route.auth ? await authenticate(deps, token).catch(challenge(token)) : undefined;
      if (caller) logger.appendKeys({ workspaceId: caller.workspaceId, userId: caller.userId });

      const rawBody = route.body ? decodeBody(event) : '';
      const input = {
        caller: caller as Authenticated,
        params: parsePart(route.params, 'params', event.pathParameters ?? {}),
        query: parsePart(route.query, 'query', event.queryStringParameters ?? {}),
        body: route.body ? parseBody(route.body, parseJsonBody(rawBody, headers['content-type'])) : {},
        expectedVersion: honoursIfMatch(route) ? parseIfMatch(headers['if-match']) : undefined,
        requestId,
      };
      await openListCursor(route, input);

      const idempotencyKey = headers['idempotency-key'];
      if (route.creates && caller && idempotencyKey !== undefined) {
        if (!/^[\x21-\x7e]{1,255}$/.test(idempotencyKey)) {
          throw validation([{ field: 'headers.idempotency-key', message: 'Use 1 to 255 printable ASCII characters' }]);
        }
        const fingerprint = requestFingerprint(event.requestContext.http.method, event.rawPath, rawBody);
        const start = await beginIdempotentRequest(deps, caller, idempotencyKey, fingerprint);
        if (start.outcome === 'replay') {
          const { statusCode, body, headers: stored } = start.response;
          if (route.secretShownOnce && statusCode < 300) throw secretShownOnce(body);
          return { statusCode, body, headers: { ...stored, 'x-request-id': requestId, 'idempotent-replayed': 'true' } };
        }
        idempotency = { caller, key: idempotencyKey };
      }

      const operation = (operations as Record<string, (i: unknown, d: CoreDeps) => Promise<unknown>>)[route.operationId];
      if (!operation) throw new Error(`No operation ${route.operationId} in group ${group}`);
      // One conflict rule: a write that lost a race runs again from its read (bounded, with jitter).
      const result = await sealNextCursor(
        route,
        input,
        await retryLostRaces(() => operation(input, deps), {
          onRetry: (attempt) => logger.appendKeys({ attempts: attempt }), // on the request's log lines
        }),
      );
      const response = toResponse(route, event, result, requestId);
      if (idempotency) {
        const { 'x-request-id': _ignored, ...stored } = (response.headers ?? {}) as Record<string, string>;
        await completeIdempotentRequest(deps, idempotency.caller, idempotency.key, {
          statusCode: response.statusCode ?? 200,
          body: route.secretShownOnce ? withoutField(response.body ?? '', route.secretShownOnce) : (response.body ?? ''),
          headers: stored,
        });
      }
      return response;
    } catch (error) {
      if (idempotency) {
        await abandonIdempotentRequest(deps, idempotency.caller, idempotency.key).catch((cleanupError) =>
          logger.warn('Could not release an idempotency key', { error: cleanupError as Error }),
        );
      }
      if (error instanceof AuthChallenge) {
        logger.info('Request refused', { code: error.refusal.code });
        return domainErrorResponse(error.refusal, problemContext, { 'www-authenticate': error.header });
      }
      const refusal = error instanceof DomainError ? error : asRecordTooLarge(error);
      if (refusal) {
        logger.info('Request refused', { code: refusal.code });
        return domainErrorResponse(refusal, problemContext);
      }
      logger.error('Unhandled error', error as Error);
      return problemResponse(
        500,
        'internal_error',
        'Something went wrong on our side; quote the request id when you report it',
        problemContext,
      );
    }
  };
  const runLogged = async (event: APIGatewayProxyEventV2, context: Context) => {
    const started = performance.now();
    const response = await answeredInTime(run(event, context), context, () => {
      logger.error('Request timed out', { method: event.requestContext?.http?.method, path: event.rawPath });
      return problemResponse(
        503,
        'timeout',
        'The request ran out of time and may or may not have taken effect; repeat it (with the same Idempotency-Key, if it sent one)',
        { requestId: event.requestContext?.requestId ?? context.awsRequestId, path: event.rawPath },
        { headers: { 'retry-after': '1' } },
      );
    });
    const durationMs = Math.round((performance.now() - started) * 10) / 10;
    const status = response.statusCode ?? 200;
    logger.info('Request handled', { method: event.requestContext?.http?.method, path: event.rawPath, status, durationMs });
    recordRequest(group, event.routeKey, status, durationMs);
    return response;
  };
  // The deadline is answered above (a problem+json 503 with the request id), not by middy's bare TimeoutError.
  return middy(runLogged, { timeoutEarlyInMillis: 0 }).use(injectLambdaContext(logger, { resetKeys: true }));
}

/** Kept back from the function's timeout to answer before Lambda cuts the request off (its bare 500). */
const answerBeforeTimeoutMs = 300;

/** The request's own answer, or `onTimeout`'s just before the function's time runs out. */
async function answeredInTime<T>(work: Promise<T>, context: Context, onTimeout: () => T): Promise<T> {
  const remainingMs = context.getRemainingTimeInMillis?.();
  if (remainingMs === undefined) return work;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(onTimeout()), Math.max(0, remainingMs - answerBeforeTimeoutMs));
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

function toResponse(
  route: RouteDefinition,
  event: APIGatewayProxyEventV2,
  result: unknown,
  requestId: string,
): APIGatewayProxyStructuredResultV2 {
  if (result instanceof RawResponse) {
    const headers = { ...result.headers, 'x-request-id': requestId };
    if (typeof result.body === 'string') return { statusCode: result.statusCode, body: result.body, headers };
    return { statusCode: result.statusCode, body: Buffer.from(result.body).toString('base64'), isBase64Encoded: true, headers };
  }
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-request-id': requestId };
  const record = result as { version?: unknown } | undefined;
  if (route.versioned && typeof record?.version === 'number') headers.etag = `"${record.version}"`;
  if (route.response.status === 201 && route.location !== false) {
    const location = route.location ? route.location((result ?? {}) as Record<string, unknown>) : selfLocation(event, result);
    if (location) headers.location = location;
  }
  return { statusCode: route.response.status, headers, body: JSON.stringify(result) };
}

/**
 * A created record under the request's own path, by its id (a tag: its `ref`). A tag's ref may hold
 * spaces or emoji: a header carries only a URI, percent-encoded (RFC 9110 §10.2.2).
 */
function selfLocation(event: APIGatewayProxyEventV2, result: unknown): string | undefined {
  const record = (result ?? {}) as { id?: unknown; ref?: unknown };
  const address = typeof record.id === 'string' ? record.id : typeof record.ref === 'string' ? record.ref : undefined;
  return address === undefined ? undefined : `${event.rawPath.replace(/\/$/, '')}/${encodeURIComponent(address)}`;
}

const validation = (fields: FieldIssue[]) => new DomainError('validation_failed', 'The request is invalid', { fields });

/** A JSON response body without one top-level field (the secret an idempotent replay does not show again). */
function withoutField(body: string, field: string): string {
  const { [field]: _secret, ...rest } = JSON.parse(body) as Record<string, unknown>;
  return JSON.stringify(rest);
}

/** The 409 of a repeated request whose first answer held a secret: it names the record that was made. */
function secretShownOnce(storedBody: string): DomainError {
  const { id } = JSON.parse(storedBody) as { id?: string };
  return new DomainError(
    'secret_shown_once',
    `This Idempotency-Key already made ${id ?? 'the record'}, whose secret was shown once, in the first answer: if that answer was lost, revoke or rotate it and make another`,
    { id: id ?? null },
  );
}

/** The body by its schema; a top-level field the schema does not name is refused, not dropped (body-fields.ts). */
function parseBody(schema: ZodType, value: unknown) {
  const unknown = unknownBodyFields(schema, value).map((field) => ({ field: `body.${field}`, message: 'Not a field of this request: check its name' }));
  const result = schema.safeParse(value);
  if (!result.success || unknown.length > 0) throw validation([...(result.success ? [] : zodFieldIssues('body', result.error)), ...unknown]);
  return result.data;
}

function parsePart(schema: ZodType | undefined, part: string, value: unknown) {
  if (!schema) return {};
  const result = schema.safeParse(value);
  if (!result.success) throw validation(zodFieldIssues(part, result.error));
  return result.data;
}

function bearerToken(header: string | undefined): string | undefined {
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
  return match?.[1];
}

/** RFC 6750: a 401 names the scheme, and the error when a token was sent but refused. */
class AuthChallenge extends Error {
  constructor(
    readonly refusal: DomainError,
    readonly header: string,
  ) {
    super(refusal.message);
  }
}

const challenge = (token: string | undefined) => (error: unknown) => {
  if (!(error instanceof DomainError) || error.code !== 'unauthenticated') throw error;
  throw new AuthChallenge(
    error,
    token === undefined
      ? 'Bearer realm="crm"'
      : 'Bearer realm="crm", error="invalid_token", error_description="The token is unknown, revoked or expired"',
  );
};

/**
 * True when the path has exactly the route's segments: its literals, and one non-empty segment that is
 * not `.` or `..` for each parameter. A deployed HTTP API hands over the path decoded (`rawPath`), so
 * an encoded slash or dot segment shows here whatever the gateway routed it as.
 */
export function pathFitsRoute(path: string, template: string): boolean {
  const segments = path.split('/');
  const expected = template.split('/');
  if (segments.length !== expected.length) return false;
  return expected.every((part, index) => {
    const segment = segments[index]!;
    if (!/^\{\w+\}$/.test(part)) return segment === part;
    return segment !== '' && segment !== '.' && segment !== '..';
  });
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The body as text: bounded, and refused unless it is well-formed UTF-8. */
function decodeBody(event: APIGatewayProxyEventV2): string {
  if (!event.body) return '';
  const bytes = event.isBase64Encoded ? Buffer.from(event.body, 'base64') : undefined;
  if ((bytes?.length ?? Buffer.byteLength(event.body)) > maxBodyBytes) {
    throw new DomainError('payload_too_large', `The request body is larger than ${maxBodyBytes} bytes`, {
      fields: [{ field: 'body', message: `At most ${maxBodyBytes} bytes` }],
    });
  }
  try {
    return bytes ? strictUtf8.decode(bytes) : event.body;
  } catch {
    throw validation([{ field: 'body', message: 'The body is not valid UTF-8' }]);
  }
}

function parseJsonBody(body: string, contentType: string | undefined): unknown {
  if (body.trim() === '') return {};
  if (contentType && !/^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(contentType)) {
    throw new DomainError('unsupported_media_type', 'Send the body as JSON with Content-Type: application/json', {
      fields: [{ field: 'headers.content-type', message: `${contentType.slice(0, 100)} is not JSON` }],
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw validation([{ field: 'body', message: 'The body is not valid JSON' }]);
  }
  const unstorable = firstUnstorableValue(parsed, 'body');
  if (unstorable) throw validation([unstorable]);
  return parsed;
}

const loneSurrogate = 'Holds a lone UTF-16 surrogate (\\uD800–\\uDFFF), which is not text';

/** DynamoDB holds documents nested at most 32 levels deep; a body deeper than that cannot be kept. */
const maxBodyDepth = 32;

/**
 * The first value no store keeps intact: a string (key or value) holding a lone surrogate, a number
 * beyond ±2^53 − 1 (JSON numbers are doubles; past that they are no longer exact, and DynamoDB's
 * document client refuses them), a non-zero number nearer 0 than DynamoDB stores (1e-130), or an
 * object or array nested deeper than `maxBodyDepth` (the body itself is level 1).
 */
function firstUnstorableValue(value: unknown, path: string, depth = 1): { field: string; message: string } | undefined {
  if (typeof value === 'string') {
    return value.isWellFormed() ? undefined : { field: path, message: loneSurrogate };
  }
  if (typeof value === 'number') {
    if (Math.abs(value) > Number.MAX_SAFE_INTEGER) {
      return { field: path, message: `Numbers are kept exactly between ${-Number.MAX_SAFE_INTEGER} and ${Number.MAX_SAFE_INTEGER}` };
    }
    return isStorableNumber(value) ? undefined : { field: path, message: unstorableNumberMessage };
  }
  if (!value || typeof value !== 'object') return undefined;
  if (depth > maxBodyDepth) {
    return { field: path, message: `Nested more than ${maxBodyDepth} levels deep (objects and arrays), deeper than a record holds` };
  }
  for (const [key, item] of Object.entries(value)) {
    const at = `${path}.${key}`;
    if (!key.isWellFormed()) return { field: at, message: loneSurrogate };
    const found = firstUnstorableValue(item, at, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/**
 * If-Match carries the ETag the client read: `"3"`; `*` means any version. If-Match compares strongly
 * (RFC 9110 §13.1.1) and this API's ETags are strong, so a weak one (`W/"3"`) never matches: a version
 * no record has, hence 412.
 */
function parseIfMatch(header: string | undefined): number | undefined {
  if (header === undefined || header.trim() === '*') return undefined;
  const match = header.trim().match(/^(W\/)?"?(\d{1,12})"?$/);
  if (!match) throw validation([{ field: 'headers.if-match', message: 'Use the ETag of the record, e.g. "3" (one ETag)' }]);
  return match[1] ? noVersion : Number(match[2]);
}
const noVersion = -1;
