import { z, type ZodObject, type ZodType } from 'zod';
import {
  apiTokenSchema,
  createdApiTokenSchema,
  createTokenInput,
  listTokensQuery,
  tokenIdParams,
} from '../../domain/auth/tokens.schemas';
import { pageQuerySchema } from '../../domain/shared/pagination';
import { addUserInput, updateUserInput, userIdParams, userSchema } from '../../domain/users/users.schemas';
import { meSchema, updateWorkspaceInput, workspaceSchema } from '../../domain/workspaces/workspaces.schemas';
import { eventSchema, listEventsQuery } from '../../events/events.schemas';

/**
 * THE route table: the single source for the CDK routes (infra/), the local gateway (local/) and the
 * OpenAPI document. Each route belongs to one handler group, deployed as one Lambda function whose
 * entry is `functions/http/<group>.handler.ts`.
 */
export const handlerGroups = ['meta', 'workspace', 'users', 'tokens', 'events'] as const;
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

const route = <R extends RouteDefinition>(definition: R) => definition;
const pageOf = <T extends ZodType>(item: T, id: string) =>
  z
    .object({ items: z.array(item), nextCursor: z.string().nullable().meta({ description: 'Pass as `cursor` for the next page; null on the last page' }) })
    .meta({ id });

export const routes = {
  getOpenApi: route({
    method: 'GET',
    path: '/openapi.json',
    group: 'meta',
    tag: 'Meta',
    summary: 'The OpenAPI 3.1 document of this API',
    auth: false,
    response: { status: 200, description: 'OpenAPI document', contentType: 'application/json' },
  }),
  getDocs: route({
    method: 'GET',
    path: '/docs',
    group: 'meta',
    tag: 'Meta',
    summary: 'A readable reference page of this API',
    auth: false,
    response: { status: 200, description: 'HTML page', contentType: 'text/html' },
  }),

  getMe: route({
    method: 'GET',
    path: '/v1/me',
    group: 'workspace',
    tag: 'Workspace',
    summary: 'The caller: their user record and workspace',
    auth: true,
    response: { status: 200, description: 'The caller', schema: meSchema },
  }),
  getWorkspace: route({
    method: 'GET',
    path: '/v1/workspace',
    group: 'workspace',
    tag: 'Workspace',
    summary: "The caller's workspace",
    auth: true,
    versioned: true,
    response: { status: 200, description: 'The workspace', schema: workspaceSchema },
  }),
  updateWorkspace: route({
    method: 'PATCH',
    path: '/v1/workspace',
    group: 'workspace',
    tag: 'Workspace',
    summary: 'Rename the workspace (owner/admin)',
    auth: true,
    versioned: true,
    body: updateWorkspaceInput,
    response: { status: 200, description: 'The updated workspace', schema: workspaceSchema },
  }),

  listUsers: route({
    method: 'GET',
    path: '/v1/users',
    group: 'users',
    tag: 'Users',
    summary: "The workspace's users, oldest first",
    auth: true,
    query: pageQuerySchema,
    response: { status: 200, description: 'A page of users', schema: pageOf(userSchema, 'UserPage') },
  }),
  addUser: route({
    method: 'POST',
    path: '/v1/users',
    group: 'users',
    tag: 'Users',
    summary: 'Add a user (owner/admin; only an owner adds an owner)',
    auth: true,
    creates: true,
    versioned: true,
    body: addUserInput,
    response: { status: 201, description: 'The new user', schema: userSchema },
  }),
  getUser: route({
    method: 'GET',
    path: '/v1/users/{userId}',
    group: 'users',
    tag: 'Users',
    summary: 'One user',
    auth: true,
    versioned: true,
    params: userIdParams,
    response: { status: 200, description: 'The user', schema: userSchema },
  }),
  updateUser: route({
    method: 'PATCH',
    path: '/v1/users/{userId}',
    group: 'users',
    tag: 'Users',
    summary: "Change a user's name, role or status",
    description:
      'A member may change only their own name. An admin manages admins and members; only an owner changes an owner or grants the owner role. The workspace always keeps one active owner. Deactivating a user disables their tokens.',
    auth: true,
    versioned: true,
    params: userIdParams,
    body: updateUserInput,
    response: { status: 200, description: 'The updated user', schema: userSchema },
  }),

  listTokens: route({
    method: 'GET',
    path: '/v1/tokens',
    group: 'tokens',
    tag: 'API tokens',
    summary: "The caller's API tokens (owner/admin: anyone's, or all)",
    auth: true,
    query: pageQuerySchema.extend(listTokensQuery.shape),
    response: { status: 200, description: 'A page of tokens (never their secrets)', schema: pageOf(apiTokenSchema, 'ApiTokenPage') },
  }),
  createToken: route({
    method: 'POST',
    path: '/v1/tokens',
    group: 'tokens',
    tag: 'API tokens',
    summary: 'Create an API token; its secret is shown once',
    auth: true,
    creates: true,
    body: createTokenInput,
    response: { status: 201, description: 'The token with its secret', schema: createdApiTokenSchema },
  }),
  revokeToken: route({
    method: 'DELETE',
    path: '/v1/tokens/{tokenId}',
    group: 'tokens',
    tag: 'API tokens',
    summary: 'Revoke an API token (your own; owner/admin: any)',
    auth: true,
    params: tokenIdParams,
    response: { status: 200, description: 'The revoked token', schema: apiTokenSchema },
  }),

  listEvents: route({
    method: 'GET',
    path: '/v1/events',
    group: 'events',
    tag: 'Events',
    summary: 'The event log of one record, newest first',
    auth: true,
    query: listEventsQuery,
    response: { status: 200, description: 'A page of events', schema: pageOf(eventSchema, 'EventPage') },
  }),
} as const satisfies Record<string, RouteDefinition>;

export type OperationId = keyof typeof routes;
export type RouteOf<K extends OperationId> = (typeof routes)[K];

/** `GET /v1/users/{userId}`: the API Gateway route key, also used by the local gateway. */
export const routeKey = (definition: Pick<RouteDefinition, 'method' | 'path'>) =>
  `${definition.method} ${definition.path}`;

export const routeList = Object.entries(routes).map(([operationId, definition]) => ({
  operationId: operationId as OperationId,
  ...(definition as RouteDefinition),
}));

export const handlerEntry = (group: HandlerGroup) => `functions/http/${group}.handler.ts`;
