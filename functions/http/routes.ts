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
  contactSearchHitSchema,
  contactSummarySchema,
  createContactInput,
  listContactsQuery,
  lookupContactQuery,
  searchContactsQuery,
  suppressInput,
  updateContactInput,
} from '../../domain/contacts/contacts.schemas';
import { bulkContactsInput, bulkContactsResult } from '../../domain/contacts/bulk.schemas';
import { addTagsInput, tagParams } from '../../domain/contacts/contact-tags.schemas';
import { mergeContactsInput } from '../../domain/contacts/contact-merge.schemas';
import {
  addScoreInput,
  contactScoreSchema,
  qualificationQuery,
  qualificationViewSchema,
  qualifiedContactSchema,
  scoredContactSchema,
  setQualificationInput,
} from '../../domain/contacts/scoring.schemas';
import { pinListSchema, pinSchema, pinSlotParams, setPinInput } from '../../domain/pins/pins.schemas';
import {
  companyIdParams,
  companySchema,
  createCompanyInput,
  listCompaniesQuery,
  listCompanyContactsQuery,
  mergeCompaniesInput,
  mergeResultSchema,
  updateCompanyInput,
} from '../../domain/companies/companies.schemas';
import { pageQuerySchema } from '../../domain/shared/pagination';
import {
  createTagInput,
  listTagsQuery,
  tagKeyParams,
  tagSchema,
  updateTagInput,
} from '../../domain/tags/tags.schemas';
import { addUserInput, updateUserInput, userIdParams, userSchema } from '../../domain/users/users.schemas';
import { meSchema, updateWorkspaceInput, workspaceSchema } from '../../domain/workspaces/workspaces.schemas';
import { eventSchema, listEventsQuery } from '../../events/events.schemas';

/**
 * THE route table: the single source for the CDK routes (infra/), the local gateway (local/) and the
 * OpenAPI document. Each route belongs to one handler group, deployed as one Lambda function whose
 * entry is `functions/http/<group>.handler.ts`.
 */
export const handlerGroups = ['meta', 'workspace', 'users', 'tokens', 'events', 'custom-fields', 'contacts', 'pins', 'companies', 'tags'] as const;
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
      'Archived contacts are left out unless `archived=true`. Each list (all, an owner’s, a company’s, a tag’s, the suppressed ones) and sort is served by a key: a page is one read. A filter the chosen list does not serve (`ownerId` or `suppressed=false` with another list, a date range on another field than the sort) narrows the entries read: such a page may come back short, with a `nextCursor` to go on.',
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
    description:
      'A contact is found when the query is a prefix of its name from any word on, its company name likewise, an email address or domain, or its phone digits (with or without the country code or trunk zero). Hits come in the order of the matched words; a contact matched by two words is listed once per page. Hits carry the summary without `updatedAt`: GET the contact for the rest. A page is one read; `ownerId`, `suppressed` and `archived` filter the hits, so such a page may come back short with a `nextCursor`.',
    auth: true,
    query: searchContactsQuery,
    response: { status: 200, description: 'A page of matching contacts', schema: pageOf(contactSearchHitSchema, 'ContactSearchPage') },
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
  addContactScore: route({
    method: 'POST',
    path: '/v1/contacts/{contactId}/scores',
    group: 'contacts',
    tag: 'Contacts',
    summary: 'Score a contact from 1 to 5; the score becomes its current one (history kept)',
    description:
      '`source` is `manual` (default), `ai` or a custom key. Writes a score record, sets the contact’s `score` (its version goes up) and appends `profile.scored`, all in one transaction. Same write rules as changing the contact.',
    auth: true,
    creates: true,
    params: contactIdParams,
    body: addScoreInput,
    response: { status: 201, description: 'The score and the contact', schema: scoredContactSchema },
  }),
  listContactScores: route({
    method: 'GET',
    path: '/v1/contacts/{contactId}/scores',
    group: 'contacts',
    tag: 'Contacts',
    summary: 'The score history of a contact, newest first',
    auth: true,
    params: contactIdParams,
    query: pageQuerySchema,
    response: { status: 200, description: 'A page of scores', schema: pageOf(contactScoreSchema, 'ContactScorePage') },
  }),
  setContactQualification: route({
    method: 'PUT',
    path: '/v1/contacts/{contactId}/qualification',
    group: 'contacts',
    tag: 'Contacts',
    summary: 'Qualify a contact (lead, prospect, customer, not_a_fit or a custom kind); it becomes the latest',
    description:
      'The last write wins whatever its source: a user’s `manual` qualification overrides the AI classifier’s latest `ai` one. History is kept; `qualification.set` is appended. Repeating the same qualification changes nothing.',
    auth: true,
    params: contactIdParams,
    body: setQualificationInput,
    response: { status: 200, description: 'The latest qualification and the contact', schema: qualifiedContactSchema },
  }),
  getContactQualification: route({
    method: 'GET',
    path: '/v1/contacts/{contactId}/qualification',
    group: 'contacts',
    tag: 'Contacts',
    summary: 'The current qualification of a contact and its history, newest first',
    auth: true,
    params: contactIdParams,
    query: qualificationQuery,
    response: { status: 200, description: 'Current and history', schema: qualificationViewSchema },
  }),

  listPins: route({
    method: 'GET',
    path: '/v1/pins',
    group: 'pins',
    tag: 'Pins',
    summary: 'The caller’s pinned contacts (at most 5), in slot order, with their summaries',
    description: 'Pins are private to their user. An archived contact stays pinned and shows `status: archived`.',
    auth: true,
    response: { status: 200, description: 'The pins', schema: pinListSchema },
  }),
  setPin: route({
    method: 'PUT',
    path: '/v1/pins/{slot}',
    group: 'pins',
    tag: 'Pins',
    summary: 'Pin a contact in slot 1–5',
    description:
      'A contact already pinned in another of your slots moves here (that slot is cleared); a contact already in this slot is replaced. A contact is never in two of your slots, even under concurrent requests.',
    auth: true,
    params: pinSlotParams,
    body: setPinInput,
    response: { status: 200, description: 'The pin', schema: pinSchema },
  }),
  clearPin: route({
    method: 'DELETE',
    path: '/v1/pins/{slot}',
    group: 'pins',
    tag: 'Pins',
    summary: 'Clear a pin slot (clearing an empty slot is fine)',
    auth: true,
    params: pinSlotParams,
    response: { status: 204, description: 'The slot is empty' },
  }),
  addContactTags: route({
    method: 'POST',
    path: '/v1/contacts/{contactId}/tags',
    group: 'contacts',
    tag: 'Contacts',
    summary: 'Add tags to a contact; tags it already has (in any case) change nothing',
    description:
      'Tags match case- and accent-insensitively; the contact keeps the spelling first used. At most 20 tags per contact (422 beyond). Tags starting with `bot:` are system tags (autoreply control): only an owner or admin adds them (403). Appends one `tag.added` per tag added.',
    auth: true,
    versioned: true,
    params: contactIdParams,
    body: addTagsInput,
    response: { status: 200, description: 'The contact', schema: contactSchema },
  }),
  removeContactTag: route({
    method: 'DELETE',
    path: '/v1/contacts/{contactId}/tags/{tag}',
    group: 'contacts',
    tag: 'Contacts',
    summary: 'Remove a tag (URL-encoded name) from a contact; removing one it lacks changes nothing',
    description: 'Only an owner or admin removes a `bot:` system tag (403). Appends `tag.removed`.',
    auth: true,
    versioned: true,
    params: tagParams,
    response: { status: 200, description: 'The contact', schema: contactSchema },
  }),
  bulkChangeContacts: route({
    method: 'POST',
    path: '/v1/contacts/bulk',
    group: 'contacts',
    tag: 'Contacts',
    summary: 'One action on up to 500 contacts: claim, release, assign, tag, untag, archive, unarchive, suppress, unsuppress',
    description:
      'The request is checked as a whole first (400 naming fields; 403 when the caller may not take the action at all: a member assigning, or touching `bot:` tags). Then each contact goes through the single operation, with its rights check, events and conditional write, and gets its own outcome: one failing never stops the others. Repeated ids count once; the answer is 200 with `results` in the order given and `counts`.',
    auth: true,
    body: bulkContactsInput,
    response: { status: 200, description: 'One outcome per contact', schema: bulkContactsResult },
  }),
  listCompanies: route({
    method: 'GET',
    path: '/v1/companies',
    group: 'companies',
    tag: 'Companies',
    summary: 'List companies by name, active or archived; `q` finds those whose name begins with it',
    auth: true,
    query: listCompaniesQuery,
    response: { status: 200, description: 'A page of companies', schema: pageOf(companySchema, 'CompanyPage') },
  }),
  createCompany: route({
    method: 'POST',
    path: '/v1/companies',
    group: 'companies',
    tag: 'Companies',
    summary: 'Create a company (a legal entity) with its domains',
    description:
      'Domains are normalised (lower-case, punycode, no scheme, path or `www.`) and unique per workspace: a domain another company holds is a 409 naming that company. Free mailbox domains (gmail.com, ...) are refused. New contacts whose primary email is on one of the domains are linked to the company; existing contacts are not back-filled.',
    auth: true,
    creates: true,
    versioned: true,
    body: createCompanyInput,
    response: { status: 201, description: 'The new company', schema: companySchema },
  }),
  getCompany: route({
    method: 'GET',
    path: '/v1/companies/{companyId}',
    group: 'companies',
    tag: 'Companies',
    summary: 'One company',
    auth: true,
    versioned: true,
    params: companyIdParams,
    response: { status: 200, description: 'The company', schema: companySchema },
  }),
  updateCompany: route({
    method: 'PATCH',
    path: '/v1/companies/{companyId}',
    group: 'companies',
    tag: 'Companies',
    summary: 'Change a company; null clears a field; `domains` replaces the set',
    auth: true,
    versioned: true,
    params: companyIdParams,
    body: updateCompanyInput,
    response: { status: 200, description: 'The updated company', schema: companySchema },
  }),
  archiveCompany: route({
    method: 'POST',
    path: '/v1/companies/{companyId}/archive',
    group: 'companies',
    tag: 'Companies',
    summary: 'Archive a company (the soft hide; it keeps its domains and contacts)',
    auth: true,
    versioned: true,
    params: companyIdParams,
    response: { status: 200, description: 'The company', schema: companySchema },
  }),
  unarchiveCompany: route({
    method: 'POST',
    path: '/v1/companies/{companyId}/unarchive',
    group: 'companies',
    tag: 'Companies',
    summary: 'Bring an archived company back (not a merged one)',
    auth: true,
    versioned: true,
    params: companyIdParams,
    response: { status: 200, description: 'The company', schema: companySchema },
  }),
  mergeCompanies: route({
    method: 'POST',
    path: '/v1/companies/{companyId}/merge',
    group: 'companies',
    tag: 'Companies',
    summary: 'Merge companies into this one (owner/admin)',
    description:
      "The sources' contacts move to this company (each with a `contact.updated` event), then each source is archived with `mergedInto` and its domains pass to this company. A request moves a bounded number of records: when some are left it answers 202 with `status: in_progress`; repeat the same request until it answers 200 `completed`. Repeating a completed merge changes nothing.",
    auth: true,
    params: companyIdParams,
    body: mergeCompaniesInput,
    response: { status: 200, description: 'The merge is complete (202: in progress, repeat it)', schema: mergeResultSchema },
  }),
  listCompanyContacts: route({
    method: 'GET',
    path: '/v1/companies/{companyId}/contacts',
    group: 'companies',
    tag: 'Companies',
    summary: "The company's contacts: by name, created or updated; active or archived; `ownerId` narrows",
    auth: true,
    params: companyIdParams,
    query: listCompanyContactsQuery,
    response: { status: 200, description: 'A page of contact summaries', schema: pageOf(contactSummarySchema, 'CompanyContactPage') },
  }),
  mergeContacts: route({
    method: 'POST',
    path: '/v1/contacts/{contactId}/merge',
    group: 'contacts',
    tag: 'Contacts',
    summary: 'Merge contacts (the same person entered more than once) into this one',
    description:
      "The caller must be able to write this contact and every source (403 otherwise; ids not in the workspace are 404). Per source, the channels pass to this contact (lookups and inbound messages now find it; they become primary only for a kind it has none of), tags are unioned, fields it lacks (job title, city, company, custom fields, owner, ...) are filled, the score and qualification histories are copied (the latest of all becomes current), users' pins of the source pin this contact, and the source is archived with `mergedInto`, in one transaction with this contact's update. `mergedFrom` records what each source brought, and this contact's events (`GET /v1/events`) include the sources'. Refused before anything is written: an archived target or a source merged into another contact (409), more than 20 tags or 10 channels after the merge, or a source whose transaction would pass DynamoDB's 100 items (422). Sources already merged into this contact are skipped: repeat the request after a failure to finish it; repeated after success it changes nothing. Appends one `contact.merged` here and `contact.archived` (with `mergedInto`) on each source.",
    auth: true,
    params: contactIdParams,
    body: mergeContactsInput,
    response: { status: 200, description: 'This contact after the merge', schema: contactSchema },
  }),
  listTags: route({
    method: 'GET',
    path: '/v1/tags',
    group: 'tags',
    tag: 'Tags',
    summary: 'The tag library by key, with usage counts; `q` finds tags whose key begins with it',
    description:
      'Every tag a contact has is in the library: a tag used for the first time is created then. `system` marks the `bot:` tags (autoreply control). `usageCount` is the number of contacts, active or archived, carrying the tag, kept from the change stream: it follows a change within moments. A page is one read. The contacts of a tag: `GET /v1/contacts?tag=`.',
    auth: true,
    query: listTagsQuery,
    response: { status: 200, description: 'A page of tags', schema: pageOf(tagSchema, 'TagPage') },
  }),
  createTag: route({
    method: 'POST',
    path: '/v1/tags',
    group: 'tags',
    tag: 'Tags',
    summary: 'Add a tag to the library with a colour and description (members too; `bot:` tags: owner/admin)',
    description: 'A tag whose key (the folded name) is already in the library is a 409.',
    auth: true,
    creates: true,
    versioned: true,
    body: createTagInput,
    response: { status: 201, description: 'The new tag', schema: tagSchema },
  }),
  getTag: route({
    method: 'GET',
    path: '/v1/tags/{key}',
    group: 'tags',
    tag: 'Tags',
    summary: 'One tag, by its key or any spelling of its name (URL-encoded, `/` as `%2F`)',
    auth: true,
    versioned: true,
    params: tagKeyParams,
    response: { status: 200, description: 'The tag', schema: tagSchema },
  }),
  updateTag: route({
    method: 'PATCH',
    path: '/v1/tags/{key}',
    group: 'tags',
    tag: 'Tags',
    summary: 'Change a tag’s colour or description, or rename it: every tagged contact follows (owner/admin)',
    description:
      'A new name with the same key (a change of case) rewrites the library entry and the contacts’ spelling; a new key moves every contact to a new library entry, then removes the old one. Each moved contact gets `contact.updated` with its `tags` change (not `tag.removed`/`tag.added`: the contact was not re-tagged), the library `tag.renamed`. A request moves a bounded number of contacts: while some are left it answers 202 with `status: in_progress` (the tag is `renaming`); repeat the same request until it answers 200 with the renamed tag. A repeat after that still answers 200. A name whose key another tag has is a 409 (a merge of tags cannot be undone). If-Match is checked when a change starts.',
    auth: true,
    versioned: true,
    params: tagKeyParams,
    body: updateTagInput,
    response: { status: 200, description: 'The tag (202: a rename in progress, repeat it)', schema: tagSchema },
  }),
  deleteTag: route({
    method: 'DELETE',
    path: '/v1/tags/{key}',
    group: 'tags',
    tag: 'Tags',
    summary: 'Delete a tag: every contact carrying it loses it, then it leaves the library (owner/admin)',
    description:
      'Each contact untagged gets `tag.removed` with the caller as actor; the library `tag.deleted`. A request untags a bounded number of contacts: while some are left it answers 202 with `status: in_progress` (the tag is `deleting` and cannot be added to contacts); repeat it until it answers 204. A repeat after that is a 404.',
    auth: true,
    params: tagKeyParams,
    response: { status: 204, description: 'The tag is gone (202: in progress, repeat it)' },
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
