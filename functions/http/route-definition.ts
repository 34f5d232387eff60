import * as z from 'zod';
import type { ZodObject, ZodType } from 'zod';
import { responseSchema, type ResponseSchema } from '../../domain/shared/response-schema';

/** The route groups: each is deployed as one Lambda function, `functions/http/<group>.handler.ts`. */
export const handlerGroups = [
  'meta',
  'workspace',
  'users',
  'tokens',
  'events',
  'custom-fields',
  'contacts',
  'pins',
  'companies',
  'notes',
  'tasks',
  'pipelines',
  'deals',
  'tags',
  'metrics',
  'inbox',
  'calls',
  'attachments',
  'jobs',
  'imports',
  'channels',
  'segments',
  'leads',
  'assignment-rules',
  'bot',
] as const;
export type HandlerGroup = (typeof handlerGroups)[number];

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RouteDefinition {
  method: HttpMethod;
  /** API Gateway path syntax: `/v1/users/{userId}`. */
  path: string;
  group: HandlerGroup;
  tag: string;
  summary: string;
  description?: string;
  /** false only for the public document routes; everything else needs a bearer token. */
  auth: boolean;
  params?: ZodObject;
  query?: ZodObject;
  body?: ZodType;
  /** `contentType`: one, or the several a client may get (e.g. by a `format` query); JSON when absent. */
  response: {
    status: number;
    description: string;
    schema?: ResponseSchema;
    contentType?: string | readonly string[];
  };
  /** Further success answers, e.g. 202 while bounded work goes on (the client repeats the request). */
  alsoResponds?: readonly { status: 200 | 202 | 204; description: string; schema?: ResponseSchema }[];
  /**
   * The refusals particular to this route, each with what causes it. The ones that follow from the
   * route's shape are declared without being listed here (functions/http/openapi.ts): 400 for its
   * inputs, 401 for its token, 404 for its path ids, 412 for If-Match, 413/415 for its body, 422 for a
   * reused Idempotency-Key and 409 for a write that keeps losing races.
   */
  refusals?: Partial<Record<RefusalStatus, string>>;
  /**
   * A creating POST: honours the Idempotency-Key header. One that makes a record and answers it (201)
   * takes no If-Match (there is no version yet); one that adds to a versioned record and answers that
   * record (200: a stage to a pipeline, a channel to a contact) honours If-Match too.
   */
  creates?: boolean;
  /**
   * The response's field holding a secret shown once (a token, a signing secret). An Idempotency-Key
   * replay does not show it again: the stored answer is kept without it, and a repeat is a 409
   * `secret_shown_once` naming the record made, so no secret is kept at rest outside its hash or seal.
   */
  secretShownOnce?: string;
  /**
   * Where a 201's `Location` points. By default the new record under the request's own path (its id,
   * a tag's `ref`); `false` for a record with no URL of its own (no GET reads it alone); or a function
   * of the answer for one that lives elsewhere (a job under /v1/jobs). Every Location GETs 200.
   */
  location?: false | ((record: Record<string, unknown>) => string | undefined);
  /** The record carries a version: the response has an ETag and writes honour If-Match. */
  versioned?: boolean;
}

/** Statuses a route declares for itself: role or ownership (403), a missing referenced record (404), a state or uniqueness conflict (409), a cap or rule (422). */
export type RefusalStatus = 403 | 404 | 409 | 422;

/** A write that carries If-Match: a versioned record changed by anything but the create of that record (a 201). */
export const honoursIfMatch = (route: Pick<RouteDefinition, 'method' | 'versioned' | 'creates' | 'response'>) =>
  Boolean(route.versioned) && route.method !== 'GET' && !(route.creates && route.response.status === 201);

/** `GET /v1/users/{userId}`: the API Gateway route key, also used by the local gateway. */
export const routeKey = (definition: Pick<RouteDefinition, 'method' | 'path'>) =>
  `${definition.method} ${definition.path}`;

/** List routes: GETs whose query takes a `cursor`. Their cursors are sealed at the boundary (http-handler). */
export const takesCursor = (route: Pick<RouteDefinition, 'method' | 'query'>) =>
  route.method === 'GET' && route.query !== undefined && 'cursor' in route.query.shape;

export const route = <R extends RouteDefinition>(definition: R) => definition;
export const pageOf = <T extends ZodType>(item: ResponseSchema<T>, id: string) =>
  responseSchema(() =>
    z
      .object({
        items: z.array(item()),
        nextCursor: z
          .string()
          .nullable()
          .meta({ description: 'Pass as `cursor` for the next page; null on the last page' }),
      })
      .meta({ id }),
  );

/** The 202 of a request that did a bounded part of its work: repeat the same request to go on. */
export const inProgressSchema = responseSchema(() =>
  z
    .object({
      status: z.literal('in_progress'),
      detail: z.string(),
      moved: z.number().int().optional().meta({ description: 'Notes and tasks moved by this request' }),
      dealsMoved: z.number().int().optional().meta({ description: 'Deals moved by this request' }),
      conversationsMoved: z
        .number()
        .int()
        .optional()
        .meta({ description: 'Conversations moved by this request' }),
      messagesRepointed: z
        .number()
        .int()
        .optional()
        .meta({ description: 'Messages whose author this request re-pointed to the merge target' }),
    })
    .meta({ id: 'InProgress', description: 'Work is left: repeat the same request until it answers 200' }),
);

/** A job an operation queued: read at /v1/jobs/{id}. (Declarations, not consts: the route files import this module in a cycle.) */
export function jobLocation(record: Record<string, unknown>): string | undefined {
  return typeof record.id === 'string' ? `/v1/jobs/${encodeURIComponent(record.id)}` : undefined;
}

/** A message or call made through another route, read under its conversation. */
export function conversationItemLocation(collection: 'messages' | 'calls') {
  return (record: Record<string, unknown>): string | undefined =>
    typeof record.id === 'string' && typeof record.conversationId === 'string'
      ? `/v1/conversations/${encodeURIComponent(record.conversationId)}/${collection}/${encodeURIComponent(record.id)}`
      : undefined;
}
