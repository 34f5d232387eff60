import { z, type ZodObject, type ZodType } from 'zod';

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
  response: { status: number; description: string; schema?: ZodType; contentType?: string };
  /** A creating POST: honours the Idempotency-Key header. */
  creates?: boolean;
  /** The record carries a version: the response has an ETag and writes honour If-Match. */
  versioned?: boolean;
}

export const route = <R extends RouteDefinition>(definition: R) => definition;
export const pageOf = <T extends ZodType>(item: T, id: string) =>
  z
    .object({
      items: z.array(item),
      nextCursor: z
        .string()
        .nullable()
        .meta({ description: 'Pass as `cursor` for the next page; null on the last page' }),
    })
    .meta({ id });
