import { OpenAPIRegistry, OpenApiGeneratorV31, type ResponseConfig } from '@asteasolutions/zod-to-openapi';
import * as z from 'zod';
import { problemSchema } from '../shared/problem';
import { operationExamples } from './openapi-examples';
import { strippedBodyFields } from './body-fields';
import { honoursIfMatch, type RouteDefinition } from './route-definition';
import { routeList } from './routes';

type Route = (typeof routeList)[number];

/** What every declared refusal means; a route's own `refusals` add what causes it there. */
const problemMeanings: Record<number, string> = {
  400: 'The request is invalid (`validation_failed`: `errors` names each field — path ids, query, body, headers; `invalid_cursor`: a cursor that is not this query’s)',
  401: 'Missing, unknown or revoked token (`unauthenticated`)',
  403: 'The caller’s role or ownership does not allow this (`forbidden`)',
  404: 'No such record in the caller’s workspace (`not_found`)',
  409: 'Conflicts with the current state; `code` says how',
  412: 'If-Match names another version than the current one (`precondition_failed`): read the record again',
  413: 'The body is larger than 1 MiB (`payload_too_large`), or the record it would write is past the 400 KB a record may hold (`record_too_large`): shorten its longest values',
  415: 'The body is not JSON (`unsupported_media_type`): send `Content-Type: application/json`',
  422: 'Understood but refused by a rule; `code` says which',
};

/** A path naming a record (an id, a key, a tag), not a position such as a pin slot. */
export const namesRecordInPath = (route: Pick<RouteDefinition, 'params'>) =>
  Object.keys(route.params?.shape ?? {}).some((name) => /Id$|^key$|^tag$/.test(name));

const isWrite = (route: Pick<RouteDefinition, 'method'>) => route.method !== 'GET';

/**
 * Every refusal a route can answer, with its description: those that follow from its shape (inputs,
 * token, path ids, If-Match, body, Idempotency-Key, writes that lose races) and its own `refusals`.
 * The contract test holds the handlers to exactly this list.
 */
export function declaredRefusals(route: RouteDefinition): Map<number, string> {
  const own = route.refusals ?? {};
  const reasons = new Map<number, string[]>();
  const add = (status: number, reason?: string) => {
    if (!reasons.has(status)) reasons.set(status, []);
    if (reason) reasons.get(status)!.push(reason);
  };
  if (route.params || route.query || route.body || route.creates || honoursIfMatch(route)) add(400);
  if (route.auth) add(401);
  if (own[403]) add(403, own[403]);
  if (namesRecordInPath(route)) add(404, 'the record named in the path');
  if (own[404]) add(404, own[404]);
  if (own[409]) add(409, own[409]);
  if (route.creates) add(409, '`idempotency_in_progress`: a request with this Idempotency-Key is still running (see `Retry-After`)');
  if (isWrite(route) && route.auth) add(409, '`concurrent_change`: the record kept changing under concurrent writes; retry');
  if (honoursIfMatch(route)) add(412);
  if (route.body) {
    add(413);
    add(415);
  }
  if (own[422]) add(422, own[422]);
  if (route.creates) add(422, '`idempotency_key_reused`: the Idempotency-Key was used for a different request');
  return new Map(
    [...reasons.entries()]
      .sort(([a], [b]) => a - b)
      .map(([status, causes]) => [status, [problemMeanings[status], ...causes].join('. ')]),
  );
}

/** The success answers of a route: its main response and any others (e.g. 202 while work goes on). */
export const successStatuses = (route: RouteDefinition) => [route.response.status, ...(route.alsoResponds ?? []).map((r) => r.status)];

const header = (description: string, required = false) => ({ description, required, schema: { type: 'string' as const } });
const requestIdHeader = { 'X-Request-Id': header('The request id: quote it when you report a problem', true) };

function successResponses(route: Route): Record<number, ResponseConfig> {
  const responses: Record<number, ResponseConfig> = {};
  const all = [{ ...route.response }, ...(route.alsoResponds ?? [])];
  for (const answer of all) {
    const headers: Record<string, ReturnType<typeof header>> = { ...requestIdHeader };
    const hasRecord = answer.schema !== undefined && (answer.status === 200 || answer.status === 201);
    // The handler sends an ETag with any answer that is a versioned record: the other answers' when theirs is one.
    if (route.versioned && hasRecord) headers.ETag = header('The record’s version, for If-Match', answer === all[0]);
    if (answer.status === 201 && route.location !== false) headers.Location = header('Where the new record is read (GET)');
    if (route.creates) headers['Idempotent-Replayed'] = header('`true` when this is the stored answer to an earlier request with the same Idempotency-Key');
    const declared = 'contentType' in answer && answer.contentType ? answer.contentType : 'application/json';
    const contentTypes = Array.isArray(declared) ? declared : [declared];
    // A file to download (not JSON, not a page) comes with the name to save it under.
    if (contentTypes.some((type) => !/json|html/.test(type))) headers['Content-Disposition'] = header('`attachment; filename="…"`: the name to save the file under');
    const schema = answer.schema?.();
    responses[answer.status] = {
      description: answer.description,
      headers,
      ...(schema ? { content: Object.fromEntries(contentTypes.map((type) => [type, { schema }])) } : {}),
    };
  }
  return responses;
}

const throttledSchema = z
  .object({ message: z.string() })
  .meta({ id: 'Throttled', description: 'API Gateway’s own answer when the stage’s rate limit is exceeded' });

function refusalResponses(route: Route): Record<number, ResponseConfig | { $ref: string }> {
  const problem = { 'application/problem+json': { schema: problemSchema() } };
  const responses: Record<number, ResponseConfig | { $ref: string }> = {};
  for (const [status, description] of declaredRefusals(route)) {
    const headers: Record<string, ReturnType<typeof header>> = { ...requestIdHeader };
    if (status === 401) headers['WWW-Authenticate'] = header('`Bearer`, with the error when a token was sent (RFC 6750)', true);
    if (status === 409 && route.creates) headers['Retry-After'] = header('Seconds to wait before repeating a request whose Idempotency-Key is still in use');
    responses[status] = { description, headers, content: problem };
  }
  if (route.path.startsWith('/v1/')) {
    responses[429] = {
      description: 'Too many requests: the deployed API’s rate limit (API Gateway throttling); wait and retry',
      content: { 'application/json': { schema: throttledSchema } },
    };
    responses[503] = { $ref: '#/components/responses/Timeout' };
  }
  return responses;
}

function requestHeaders(route: Route): z.ZodType[] {
  const headers: z.ZodType[] = [];
  if (route.creates) {
    headers.push(
      z
        .string()
        .regex(/^[\x21-\x7e]{1,255}$/)
        .optional()
        .meta({
          param: { name: 'Idempotency-Key', in: 'header' },
          description:
            'Repeat a create safely: the same key and body replay the first answer for 24 hours; while the first request runs, a repeat waits for it',
          example: 'c1a9e0c2-4f55-4a31-9d2e-1b8f5f0f2a7e',
        }),
    );
  }
  if (honoursIfMatch(route)) {
    headers.push(
      z
        .string()
        .optional()
        .meta({
          param: { name: 'If-Match', in: 'header' },
          description: 'The ETag you read (e.g. `"3"`): the change applies only to that version, else 412. Without it, the change applies to the current version.',
          example: '"3"',
        }),
    );
  }
  return headers;
}

/**
 * OpenAPI 3.1 writes a nullable reference as `anyOf: [ref, {type: null}]`; zod-to-openapi emits
 * `allOf: [ref, {type: [..., 'null']}]`, which no null can satisfy. Rewritten in place.
 */
function fixNullableRefs(node: unknown): void {
  if (Array.isArray(node)) {
    node.forEach(fixNullableRefs);
    return;
  }
  if (!node || typeof node !== 'object') return;
  const record = node as Record<string, unknown>;
  const allOf = record.allOf;
  if (Array.isArray(allOf) && allOf.length === 2) {
    const [ref, nullable] = allOf as Record<string, unknown>[];
    const type = nullable?.type;
    if (ref?.$ref && Array.isArray(type) && type.includes('null') && Object.keys(nullable!).length === 1) {
      delete record.allOf;
      record.anyOf = [ref, { type: 'null' }];
    }
  }
  Object.values(record).forEach(fixNullableRefs);
}

let cached: ReturnType<OpenApiGeneratorV31['generateDocument']> | undefined;

/** The OpenAPI 3.1 document, generated from the route table: its zod schemas and declared answers. */
export function openApiDocument() {
  if (cached) return cached;
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'bearerToken', {
    type: 'http',
    scheme: 'bearer',
    description: 'A workspace API token (`crm_…`), created with `POST /v1/tokens` or printed by `npm start`.',
  });
  // Any request can run out of its function's time: one shared answer, not one copy per operation.
  registry.registerComponent('responses', 'Timeout', {
    description:
      '`timeout`: the request ran out of its function’s time and may or may not have taken effect; repeat it after `Retry-After` (a create with the same Idempotency-Key)',
    headers: {
      'X-Request-Id': { description: 'The request id: quote it when you report a problem', required: true, schema: { type: 'string' } },
      'Retry-After': { description: 'Seconds to wait before repeating the request', required: true, schema: { type: 'string' } },
    },
    content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
  });
  for (const route of routeList) {
    if (!route.path.startsWith('/v1/')) continue;
    const headers = requestHeaders(route);
    const examples = operationExamples[route.operationId];
    registry.registerPath({
      method: route.method.toLowerCase() as 'get',
      path: route.path,
      operationId: route.operationId,
      tags: [route.tag],
      summary: route.summary,
      ...(route.description ? { description: route.description } : {}),
      security: route.auth ? [{ bearerToken: [] }] : [],
      request: {
        ...(route.params ? { params: route.params } : {}),
        ...(route.query ? { query: route.query } : {}),
        ...(headers.length ? { headers } : {}),
        ...(route.body
          ? {
              body: {
                required: true,
                content: { 'application/json': { schema: route.body, ...(examples?.request ? { example: examples.request } : {}) } },
              },
            }
          : {}),
      },
      responses: { ...successResponses(route), ...refusalResponses(route) },
    });
  }
  const document = new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'CRM API',
      version: '1.0.0',
      description: [
        'Multi-tenant CRM with an omnichannel inbox. JSON over HTTPS; bearer API tokens; errors are RFC 9457 problem+json with a machine-readable `code`.',
        'Lists are cursor-paginated (`limit`, `cursor`, `nextCursor`): a cursor is opaque, sealed, and valid only for the workspace, route, record and filters it came from (else 400 `invalid_cursor`).',
        'Writes: without If-Match a change that races another re-reads and applies itself to the current version; with If-Match a stale version is a 412. Creates honour `Idempotency-Key`.',
      ].join('\n\n'),
    },
    servers: [{ url: '/' }],
  });
  fixNullableRefs(document);
  closeBodies(document, routeList);
  attachResponseExamples(document);
  cached = document;
  return cached;
}

/**
 * A body whose top-level fields the handler holds to its schema's (body-fields.ts) says so:
 * `additionalProperties: false` on its schema (a component, or inline).
 */
function closeBodies(document: ReturnType<OpenApiGeneratorV31['generateDocument']>, routes: readonly Route[]) {
  const components = (document.components?.schemas ?? {}) as Record<string, Record<string, unknown>>;
  for (const route of routes) {
    if (!route.body || !strippedBodyFields(route.body)) continue;
    const operation = (document.paths?.[route.path] as Record<string, { requestBody?: { content?: Record<string, { schema?: Record<string, unknown> }> } }> | undefined)?.[
      route.method.toLowerCase()
    ];
    const schema = operation?.requestBody?.content?.['application/json']?.schema;
    const ref = typeof schema?.$ref === 'string' ? schema.$ref.replace('#/components/schemas/', '') : undefined;
    const target = ref ? components[ref] : schema;
    if (target && target.type === 'object' && target.additionalProperties === undefined) target.additionalProperties = false;
  }
}

/** Puts each operation's recorded success example on its success response. */
function attachResponseExamples(document: ReturnType<OpenApiGeneratorV31['generateDocument']>) {
  for (const pathItem of Object.values(document.paths ?? {})) {
    for (const operation of Object.values(pathItem as Record<string, { operationId?: string; responses?: Record<string, { content?: Record<string, { example?: unknown }> }> }>)) {
      const examples = operation.operationId ? operationExamples[operation.operationId] : undefined;
      if (!examples?.response) continue;
      const content = operation.responses?.[String(examples.response.status)]?.content?.['application/json'];
      if (content) content.example = examples.response.body;
    }
  }
}
