import { z, type ZodObject, type ZodType } from 'zod';
import {
  apiTokenSchema,
  createdApiTokenSchema,
  createTokenInput,
  listTokensQuery,
  tokenIdParams,
} from '../../domain/auth/tokens.schemas';
import {
  createCustomFieldInput,
  customFieldListSchema,
  customFieldParams,
  customFieldSchema,
  listCustomFieldsQuery,
  updateCustomFieldInput,
} from '../../domain/custom-fields/custom-fields.schemas';
import {
  addChannelInput,
  assignOwnerInput,
  channelIdParams,
  contactIdParams,
  contactSchema,
  contactSummarySchema,
  createContactInput,
  listContactsQuery,
  lookupContactQuery,
  searchContactsQuery,
  suppressInput,
  updateContactInput,
} from '../../domain/contacts/contacts.schemas';
import { pageQuerySchema } from '../../domain/shared/pagination';
import { addUserInput, updateUserInput, userIdParams, userSchema } from '../../domain/users/users.schemas';
import { meSchema, updateWorkspaceInput, workspaceSchema } from '../../domain/workspaces/workspaces.schemas';
import { eventSchema, listEventsQuery } from '../../events/events.schemas';

/**
 * THE route table: the single source for the CDK routes (infra/), the local gateway (local/) and the
 * OpenAPI document. Each route belongs to one handler group, deployed as one Lambda function whose
 * entry is `functions/http/<group>.handler.ts`.
 */
export const handlerGroups = ['meta', 'workspace', 'users', 'tokens', 'events', 'custom-fields', 'contacts'] as const;
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

  listCustomFields: route({
    method: 'GET',
    path: '/v1/custom-fields',
    group: 'custom-fields',
    tag: 'Custom fields',
    summary: "The workspace's custom fields of one entity type, in creation order",
    description:
      'Every definition of the entity type in one response (there are at most 100). Archived fields are left out unless `includeArchived=true`.',
    auth: true,
    query: listCustomFieldsQuery,
    response: { status: 200, description: 'The definitions', schema: customFieldListSchema },
  }),
  createCustomField: route({
    method: 'POST',
    path: '/v1/custom-fields',
    group: 'custom-fields',
    tag: 'Custom fields',
    summary: 'Define a custom field of contacts or deals (owner/admin)',
    description:
      'The key is the immutable API name, unique per workspace and entity type (archived fields keep theirs). The type never changes. At most 100 fields per entity type, archived ones included.',
    auth: true,
    creates: true,
    versioned: true,
    body: createCustomFieldInput,
    response: { status: 201, description: 'The new definition', schema: customFieldSchema },
  }),
  updateCustomField: route({
    method: 'PATCH',
    path: '/v1/custom-fields/{entityType}/{key}',
    group: 'custom-fields',
    tag: 'Custom fields',
    summary: "Change a custom field's label, required flag, options or archived flag (owner/admin)",
    description:
      'The key and type never change (a type change is refused with 409). `options` is the full new list of a select field: existing options may be relabelled or reordered and new ones added, but none can be removed (409), since records may hold them.',
    auth: true,
    versioned: true,
    params: customFieldParams,
    body: updateCustomFieldInput,
    response: { status: 200, description: 'The updated definition', schema: customFieldSchema },
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

  listContacts: route({
    method: 'GET',
    path: '/v1/contacts',
    group: 'contacts',
    tag: 'Contacts',
    summary: 'List contacts: by name, created or updated; all, one owner’s or the unclaimed pool (`ownerId=none`)',
    description:
      'Archived contacts are left out unless `archived=true`. Each list and sort is served by a key. `suppressed` and a date range on another field than the sort narrow the entries read: a page may then come back short, with a `nextCursor` to go on.',
    auth: true,
    query: listContactsQuery,
    response: { status: 200, description: 'A page of contact summaries', schema: pageOf(contactSummarySchema, 'ContactSummaryPage') },
  }),
  searchContacts: route({
    method: 'GET',
    path: '/v1/contacts/search',
    group: 'contacts',
    tag: 'Contacts',
    summary: 'Find contacts by a prefix of their name, email, phone number or company (case- and accent-insensitive)',
    auth: true,
    query: searchContactsQuery,
    response: { status: 200, description: 'A page of matching contacts', schema: pageOf(contactSummarySchema, 'ContactSearchPage') },
  }),
  lookupContact: route({
    method: 'GET',
    path: '/v1/contacts/lookup',
    group: 'contacts',
    tag: 'Contacts',
    summary: 'The contact holding a channel value (`kind` and `value`, normalised as on write)',
    auth: true,
    versioned: true,
    query: lookupContactQuery,
    response: { status: 200, description: 'The contact', schema: contactSchema },
  }),
  createContact: route({
    method: 'POST',
    path: '/v1/contacts',
    group: 'contacts',
    tag: 'Contacts',
    summary: 'Create a contact (a person) with its channels',
    description:
      'Channel values are normalised (lower-case email, E.164 phone, canonical LinkedIn URL) and unique per workspace: a value another contact holds is a 409 naming that contact.',
    auth: true,
    creates: true,
    versioned: true,
    body: createContactInput,
    response: { status: 201, description: 'The new contact', schema: contactSchema },
  }),
  getContact: route({
    method: 'GET',
    path: '/v1/contacts/{contactId}',
    group: 'contacts',
    tag: 'Contacts',
    summary: 'One contact with its channels',
    auth: true,
    versioned: true,
    params: contactIdParams,
    response: { status: 200, description: 'The contact', schema: contactSchema },
  }),
  updateContact: route({
    method: 'PATCH',
    path: '/v1/contacts/{contactId}',
    group: 'contacts',
    tag: 'Contacts',
    summary: 'Change a contact; null clears a field; `channels` replaces the set',
    auth: true,
    versioned: true,
    params: contactIdParams,
    body: updateContactInput,
    response: { status: 200, description: 'The updated contact', schema: contactSchema },
  }),
  addContactChannel: route({
    method: 'POST',
    path: '/v1/contacts/{contactId}/channels',
    group: 'contacts',
    tag: 'Contacts',
    summary: 'Add a channel to a contact',
    auth: true,
    versioned: true,
    params: contactIdParams,
    body: addChannelInput,
    response: { status: 200, description: 'The contact', schema: contactSchema },
  }),
  removeContactChannel: route({
    method: 'DELETE',
    path: '/v1/contacts/{contactId}/channels/{channelId}',
    group: 'contacts',
    tag: 'Contacts',
    summary: 'Remove a channel from a contact (its value becomes free)',
    auth: true,
    versioned: true,
    params: channelIdParams,
    response: { status: 200, description: 'The contact', schema: contactSchema },
  }),
  archiveContact: route({
    method: 'POST',
    path: '/v1/contacts/{contactId}/archive',
    group: 'contacts',
    tag: 'Contacts',
    summary: 'Archive a contact (the soft hide; contacts are never deleted)',
    auth: true,
    versioned: true,
    params: contactIdParams,
    response: { status: 200, description: 'The contact', schema: contactSchema },
  }),
  unarchiveContact: route({
    method: 'POST',
    path: '/v1/contacts/{contactId}/unarchive',
    group: 'contacts',
    tag: 'Contacts',
    summary: 'Bring an archived contact back',
    auth: true,
    versioned: true,
    params: contactIdParams,
    response: { status: 200, description: 'The contact', schema: contactSchema },
  }),
  suppressContact: route({
    method: 'POST',
    path: '/v1/contacts/{contactId}/suppress',
    group: 'contacts',
    tag: 'Contacts',
    summary: 'Suppress a contact: outbound messages to it are refused',
    auth: true,
    versioned: true,
    params: contactIdParams,
    body: suppressInput,
    response: { status: 200, description: 'The contact', schema: contactSchema },
  }),
  unsuppressContact: route({
    method: 'POST',
    path: '/v1/contacts/{contactId}/unsuppress',
    group: 'contacts',
    tag: 'Contacts',
    summary: 'Lift a suppression',
    auth: true,
    versioned: true,
    params: contactIdParams,
    response: { status: 200, description: 'The contact', schema: contactSchema },
  }),
  claimContact: route({
    method: 'POST',
    path: '/v1/contacts/{contactId}/claim',
    group: 'contacts',
    tag: 'Contacts',
    summary: 'Claim a contact: the caller becomes its owner (a member only claims unclaimed ones)',
    auth: true,
    versioned: true,
    params: contactIdParams,
    response: { status: 200, description: 'The contact', schema: contactSchema },
  }),
  releaseContact: route({
    method: 'POST',
    path: '/v1/contacts/{contactId}/release',
    group: 'contacts',
    tag: 'Contacts',
    summary: 'Release a contact back to the unclaimed pool (its owner, or owner/admin)',
    auth: true,
    versioned: true,
    params: contactIdParams,
    response: { status: 200, description: 'The contact', schema: contactSchema },
  }),
  assignContactOwner: route({
    method: 'POST',
    path: '/v1/contacts/{contactId}/assign',
    group: 'contacts',
    tag: 'Contacts',
    summary: 'Assign a contact to a user (owner/admin)',
    auth: true,
    versioned: true,
    params: contactIdParams,
    body: assignOwnerInput,
    response: { status: 200, description: 'The contact', schema: contactSchema },
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
