import { AsyncLocalStorage } from 'node:async_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ZodType } from 'zod';
import { routeList, type OperationId } from '../../functions/http/routes';
import { createTestStack, seedWorkspace, type ApiResponse, type TestStack } from '../support/test-stack';
import { Ctx, scenarios, type Req } from '../contract/scenarios';
import { uploaded as uploadedAttachment } from '../contract/scenarios/attachments';

/* eslint-disable @typescript-eslint/no-explicit-any -- requests and records handled as JSON */

/**
 * A second workspace probing the first through references in bodies and queries. The contract test
 * checks the ids in every PATH; this one walks every route's zod `body` and `query` schemas, finds each
 * field that names a record (by name: `…Id`, `…Ids`, `id`; by shape: a `recordId` pattern; or a known
 * reference name below), and sends workspace B's otherwise valid request (the contract scenario's
 * `ok`, built in B) carrying workspace A's real id. For each:
 * - a write is refused (4xx) or, on a route that reports per item, A's id is left out; a read or list
 *   filter is refused or answers an empty page;
 * - the answer names nothing of A's but the id sent (no other A id, name, email, workspace id), and
 *   is the answer the same request gets with an id that exists nowhere (no existence oracle);
 * - no DynamoDB write of the request carries A's workspace id or the id sent (nothing written in A, no
 *   dangling reference kept in B), and a refused request writes nothing at all (nothing half-written);
 * - at the end, every A record reads back exactly as before.
 * A field that looks like a reference and has no probe fails the run (a new route is covered or
 * allow-listed with a reason).
 */

/** The kinds of A's records a reference can name. */
type Kind =
  | 'contact'
  | 'company'
  | 'deal'
  | 'user'
  | 'pipeline'
  | 'stage'
  | 'conversation'
  | 'message'
  | 'attachment'
  | 'connection'
  | 'upload'
  | 'segment'
  | 'product'
  | 'criterion'
  | 'note'
  | 'task'
  | 'tagName'
  | 'customFieldKey'
  | 'contactEmail'
  | 'userEmail'
  | 'companyDomain';

/** Reference fields by name (the last segment of the field's path). */
const fieldKinds: Record<string, Kind> = {
  contactId: 'contact',
  contactIds: 'contact',
  sourceContactIds: 'contact',
  companyId: 'company',
  sourceCompanyIds: 'company',
  dealId: 'deal',
  ownerId: 'user',
  assigneeId: 'user',
  userId: 'user',
  userIds: 'user',
  pipelineId: 'pipeline',
  stageId: 'stage',
  stageIds: 'stage',
  // A reference whose name does not say "id":
  moveDealsTo: 'stage',
  conversationId: 'conversation',
  messageIds: 'message',
  upToMessageId: 'message',
  attachmentIds: 'attachment',
  connectionId: 'connection',
  uploadId: 'upload',
  segmentId: 'segment',
  productId: 'product',
  criterionId: 'criterion',
  noteId: 'note',
  taskId: 'task',
  // A tag is named, not numbered: B filtering by a name only A uses must find nothing.
  tag: 'tagName',
  // Custom field values keyed by the field's key: a key only A defined is refused.
  customFields: 'customFieldKey',
};

/** Reference fields by shape: a `recordId(prefix)` schema names a record of that kind (e.g. `?segment=seg_…`). */
const prefixKinds: Record<string, Kind> = {
  ct: 'contact',
  co: 'company',
  dl: 'deal',
  usr: 'user',
  pl: 'pipeline',
  st: 'stage',
  cv: 'conversation',
  msg: 'message',
  att: 'attachment',
  chc: 'connection',
  seg: 'segment',
  prd: 'product',
  note: 'note',
  task: 'task',
};

/**
 * Polymorphic references: the id field, its sibling naming the kind, and which of the sibling's values
 * name a record kind. Each kind the schema allows is probed.
 */
const polymorphic: Record<string, { kindField: string; kinds: Record<string, Kind> }> = {
  anchorId: { kindField: 'anchorKind', kinds: { contact: 'contact', company: 'company', deal: 'deal', conversation: 'conversation' } },
  'anchor.id': { kindField: 'anchor.kind', kinds: { contact: 'contact', company: 'company', deal: 'deal', conversation: 'conversation' } },
  entityId: { kindField: 'entityType', kinds: { contact: 'contact', company: 'company', deal: 'deal', user: 'user', conversation: 'conversation', segment: 'segment', note: 'note', task: 'task' } },
  id: { kindField: 'actorKind', kinds: { user: 'user', contact: 'contact' } },
};

/**
 * Fields that look like references but name nothing of a workspace's records, each with why.
 * Keys: `<operationId> <body|query>.<field path>`, or `* <field path>` for every route.
 */
const notReferences: Record<string, string> = {
  'ingestInboundMessage body.externalId': 'the provider’s message id, from outside; deduplicated per workspace',
  'createChannelConnection body.settings.phoneNumberId': 'WhatsApp’s phone number id at Meta, not a record of ours',
  'updateChannelConnection body.settings.phoneNumberId': 'WhatsApp’s phone number id at Meta, not a record of ours',
  'createProduct body.criteria.[].id': 'defines the new product’s own criterion ids',
  'updateProduct body.criteria.[].id': 'defines the product’s own criterion ids',
};

/**
 * Routes that answer per item: a 2xx that reports A's id as not found (or marks nothing) is their
 * refusal, as for an unknown id of the workspace's own. Each with how its answer says so.
 */
const perItemRoutes: Partial<Record<OperationId, (body: any, sent: string) => boolean>> = {
  bulkChangeContacts: (body, sent) => body.results.some((result: any) => result.contactId === sent && result.outcome === 'not_found'),
  addSegmentMembers: (body, sent) => body.notFound.includes(sent),
  removeSegmentMembers: (body, sent) => body.notFound.includes(sent),
  // `messageIds` mark the caller's own receipts of those messages: A's ids mark none (`upToMessageId` is refused).
  markMessagesRead: (body) => body.marked === 0,
};

/**
 * Writes whose references are list filters, as GETs are: a filter naming no record of the workspace
 * matches nothing. The export keeps its filters in the job's input (the request as given) and exports
 * the contacts they match in the caller's workspace only.
 */
const filterRoutes = new Set<OperationId>(['startExport']);

/** Request shapes a probe needs beyond the scenario's own (e.g. the bulk action that reads the field). */
const shapes: Record<string, (req: Req, ctx: Ctx) => Req | Promise<Req>> = {
  // A contact conversation, where the connection chooses the route (a direct one has none to choose).
  'sendMessage body.connectionId': async (_req, ctx) => ({
    path: `/v1/conversations/${(await ctx.conversation()).id}/messages`,
    body: { body: 'Hello' },
  }),
  'bulkChangeContacts body.ownerId': (req) => ({ ...req, body: { action: 'assign', contactIds: (req.body as any).contactIds } }),
  'bulkChangeContacts body.segmentId': (req) => ({ ...req, body: { action: 'tag', tags: ['probe'] } }),
  'openConversation body.userIds': (req) => ({ ...req, body: { kind: 'direct' } }),
  'markMessagesRead body.conversationId': (req) => ({ ...req, body: {} }),
  // B's own conversation, read up to A's message.
  'markMessagesRead body.upToMessageId': async (_req, ctx) => {
    const conversation = (await ctx.call('POST', '/v1/conversations', { kind: 'direct', userIds: [ctx.ws.admin.user.id] })).body;
    await ctx.call('POST', `/v1/conversations/${conversation.id}/messages`, { body: 'Ping' });
    return { path: '/v1/inbox/read', body: { conversationId: conversation.id }, token: ctx.ws.admin.token };
  },
  // A stage filter goes with its pipeline's: B's default one.
  'listDeals query.stageId': (req) => ({ ...req, query: { ...req.query, pipelineId: 'pl_default' } }),
  // The assignee filter is the `all` view's.
  'listConversations query.assigneeId': (req) => ({ ...req, query: { ...req.query, view: 'all' } }),
};

// ---------------------------------------------------------------------------------------------------
// The route table's reference fields

interface Field {
  /** `body.anchor.id`, `query.ownerId` */
  path: string;
  leaf: string;
  schema: any;
  array: boolean;
  record: boolean;
}

const unwrapTypes = new Set(['optional', 'nullable', 'default', 'prefault', 'readonly', 'catch', 'nonoptional']);

function fieldsOf(schema: ZodType | undefined, where: 'body' | 'query'): Field[] {
  const out = new Map<string, Field>();
  const walk = (node: any, path: string[], depth: number, array = false) => {
    if (!node || depth > 8) return;
    const def = node._zod?.def;
    switch (def?.type) {
      case 'object':
        for (const [name, child] of Object.entries(def.shape)) {
          const childPath = [...path, name];
          const key = [where, ...childPath].join('.');
          const shape = shapeOf(child);
          if (!out.has(key)) out.set(key, { path: key, leaf: name, schema: child, array: shape.array, record: shape.record });
          walk(child, childPath, depth + 1);
        }
        break;
      case 'pipe':
        walk(def.in, path, depth + 1, array);
        break;
      case 'array':
        walk(def.element, [...path, '[]'], depth + 1, true);
        break;
      case 'union':
        for (const option of def.options) walk(option, path, depth + 1, array);
        break;
      case 'intersection':
        walk(def.left, path, depth + 1, array);
        walk(def.right, path, depth + 1, array);
        break;
      case 'lazy':
        walk(def.getter(), path, depth + 1, array);
        break;
      default:
        if (unwrapTypes.has(def?.type)) walk(def.innerType, path, depth + 1, array);
    }
  };
  walk(schema, [], 0);
  return [...out.values()];
}

/** Unwraps optional/nullable/pipes: is the field an array, a record, and its string checks. */
function shapeOf(node: any): { array: boolean; record: boolean; patterns: string[] } {
  let current = node;
  for (let i = 0; i < 10 && current; i++) {
    const def = current._zod?.def;
    if (unwrapTypes.has(def?.type)) current = def.innerType;
    else if (def?.type === 'pipe') current = def.in;
    else break;
  }
  const def = current?._zod?.def;
  const patterns = [
    ...(current?._zod?.bag?.patterns ?? []),
    ...(def?.checks ?? []).map((check: any) => check._zod?.def?.pattern).filter(Boolean),
  ].map(String);
  return { array: def?.type === 'array', record: def?.type === 'record', patterns };
}

const recordIdPattern = /^\/?\^\(\?:([a-z]+)_\[0-9A-HJKMNP-TV-Z\]/;

/** The kind a field names: by its `recordId` shape first, else by its name. */
function kindOf(field: Field): Kind | undefined {
  for (const pattern of shapeOf(field.schema).patterns) {
    const prefix = recordIdPattern.exec(pattern)?.[1];
    if (prefix && prefixKinds[prefix]) return prefixKinds[prefix];
  }
  return fieldKinds[field.leaf];
}

/** Does the field look like a reference: by name, or by the shape of a record id (`recordId`). */
function looksLikeReference(field: Field): boolean {
  if (field.leaf in fieldKinds) return true;
  if (/(^id|Id|Ids)$/.test(field.leaf)) return true;
  return shapeOf(field.schema).patterns.some((pattern) => recordIdPattern.test(pattern));
}

// ---------------------------------------------------------------------------------------------------
// Probes

interface Probe {
  label: string;
  operationId: OperationId;
  field: string;
  kind: Kind;
  /** A value B may use as its own (unique per workspace): answered 2xx, still naming nothing of A's. */
  accepted?: boolean;
  /** The A id (or key/name) sent. */
  build: (ctx: Ctx, a: ARecords) => Promise<{ req: Req; sent: string }>;
}

function setAt(target: any, path: string[], value: unknown) {
  let node = target;
  for (const key of path.slice(0, -1)) {
    if (node[key] === undefined || node[key] === null || typeof node[key] !== 'object') node[key] = {};
    node = node[key];
  }
  node[path.at(-1)!] = value;
}

/**
 * Paths naming several records (`/v1/contacts/{contactId}/fit/{productId}/…`): B's own path with one
 * of them swapped for A's record of that kind. (The contract test sends A's whole path with B's token;
 * this mixes the two.) Parameters whose kind A has no record of here are left to the contract test.
 */
function mixedPathProbes(route: (typeof routeList)[number]): Probe[] {
  const template = route.path.split('/');
  const params = template.flatMap((segment, index) => (/^\{\w+\}$/.test(segment) ? [{ name: segment.slice(1, -1), index }] : []));
  if (params.length < 2 || !route.params) return [];
  return params.flatMap(({ name, index }): Probe[] => {
    const schema = (route.params!.shape as Record<string, unknown>)[name];
    const kind = schema ? kindOf({ path: `path.${name}`, leaf: name, schema, array: false, record: false }) : undefined;
    // A tag or field named in a path is a name in the caller's own library (removing a tag the contact
    // lacks is a no-op): not a record of A's.
    if (!kind || kind === 'tagName' || kind === 'customFieldKey') return [];
    return [
      {
        label: `${route.method} ${route.path} path.${name} (B’s path, A’s ${kind})`,
        operationId: route.operationId,
        field: `path.${name}`,
        kind,
        build: async (ctx, a) => {
          const base = await scenarios[route.operationId].ok(ctx);
          const segments = base.path.split('/');
          segments[index] = a[kind];
          return { req: { ...structuredClone(base), path: segments.join('/') }, sent: a[kind] };
        },
      },
    ];
  });
}

function probesFor(route: (typeof routeList)[number], unprobed: string[]): Probe[] {
  const probes: Probe[] = [];
  for (const where of ['query', 'body'] as const) {
    for (const field of fieldsOf(route[where], where)) {
      if (!looksLikeReference(field)) continue;
      const key = `${route.operationId} ${field.path}`;
      if (notReferences[key] || notReferences[`* ${field.path}`]) continue;
      const within = field.path.split('.').slice(1);
      const poly = polymorphic[within.join('.')] ?? polymorphic[field.leaf];
      const variants: { kind: Kind; kindValue?: string }[] = poly
        ? Object.entries(poly.kinds)
            .filter(([value]) => allowsValue(route[where], poly.kindField.split('.'), value))
            .map(([kindValue, kind]) => ({ kind, kindValue }))
        : kindOf(field)
          ? [{ kind: kindOf(field)! }]
          : [];
      if (variants.length === 0) {
        unprobed.push(key);
        continue;
      }
      for (const variant of variants) {
        probes.push({
          label: `${route.method} ${route.path} ${field.path}${variant.kindValue ? ` (${variant.kindValue})` : ''}`,
          operationId: route.operationId,
          field: field.path,
          kind: variant.kind,
          build: async (ctx, a) => {
            const base = await scenarios[route.operationId].ok(ctx);
            const shaped = (await shapes[key]?.(structuredClone(base), ctx)) ?? structuredClone(base);
            const sent = a[variant.kind];
            const value = field.record ? { [sent]: 'x' } : field.array ? [sent] : sent;
            if (where === 'query') {
              shaped.query = { ...shaped.query, [field.leaf]: sent };
              if (variant.kindValue && poly) shaped.query[poly.kindField] = variant.kindValue;
            } else {
              shaped.body = shaped.body === undefined ? {} : shaped.body;
              setAt(shaped.body, within, value);
              if (variant.kindValue && poly) setAt(shaped.body, poly.kindField.split('.'), variant.kindValue);
            }
            return { req: shaped, sent };
          },
        });
      }
    }
  }
  return probes;
}

/** Does the schema's enum at `path` (within any union option) accept `value`. */
function allowsValue(schema: ZodType | undefined, path: string[], value: string): boolean {
  const field = fieldsOf(schema, 'body').find((candidate) => candidate.path === ['body', ...path].join('.'));
  if (!field) return false;
  let node = field.schema;
  for (let i = 0; i < 10; i++) {
    const def = node?._zod?.def;
    if (unwrapTypes.has(def?.type)) node = def.innerType;
    else if (def?.type === 'pipe') node = def.in;
    else break;
  }
  const values: unknown[] = node?._zod?.values ? [...node._zod.values] : [];
  return values.includes(value);
}

/**
 * Probes of what is not a field of its own: references inside rule values and column names, and the
 * values A holds unique (an email, a tag, a domain). A value unique per workspace is B's to use too
 * (`accepted`): a 409 there would tell B that A holds it.
 */
const valueProbes: Probe[] = [
  {
    label: 'POST /v1/segments/preview body.rule (ownerId eq A’s user)',
    operationId: 'previewSegment',
    field: 'body.rule.value',
    kind: 'user',
    build: async (_ctx, a) => ({ req: { path: '/v1/segments/preview', body: { rule: { field: 'ownerId', op: 'eq', value: a.user } } }, sent: a.user }),
  },
  {
    label: 'POST /v1/segments/preview body.rule (fitScore of A’s product)',
    operationId: 'previewSegment',
    field: 'body.rule.field',
    kind: 'product',
    build: async (_ctx, a) => ({
      req: { path: '/v1/segments/preview', body: { rule: { field: `fitScore.${a.product}`, op: 'gte', value: 0 } } },
      sent: a.product,
    }),
  },
  {
    label: 'POST /v1/segments/preview body.rule (A’s custom field)',
    operationId: 'previewSegment',
    field: 'body.rule.field',
    kind: 'customFieldKey',
    build: async (_ctx, a) => ({
      req: { path: '/v1/segments/preview', body: { rule: { field: `customFields.${a.customFieldKey}`, op: 'is_set' } } },
      sent: a.customFieldKey,
    }),
  },
  {
    label: 'POST /v1/exports body.fields (a column of A’s custom field)',
    operationId: 'startExport',
    field: 'body.fields',
    kind: 'customFieldKey',
    build: async (_ctx, a) => ({ req: { path: '/v1/exports', body: { fields: ['Name', `Custom: ${a.customFieldKey}`] } }, sent: a.customFieldKey }),
  },
  {
    label: 'POST /v1/imports body.mapping (a column into A’s custom field)',
    operationId: 'startImport',
    field: 'body.mapping',
    kind: 'customFieldKey',
    build: async (ctx, a) => {
      const base = await scenarios.startImport.ok(ctx);
      return { req: { ...base, body: { ...(base.body as object), mapping: { Name: `custom:${a.customFieldKey}` } } }, sent: a.customFieldKey };
    },
  },
  {
    label: 'GET /v1/contacts/lookup query.value (A’s contact’s email)',
    operationId: 'lookupContact',
    field: 'query.value',
    kind: 'contactEmail',
    build: async (_ctx, a) => ({ req: { path: '/v1/contacts/lookup', query: { kind: 'email', value: a.contactEmail } }, sent: a.contactEmail }),
  },
  {
    label: 'GET /v1/contacts/search query.q (A’s contact’s name)',
    operationId: 'searchContacts',
    field: 'query.q',
    kind: 'contactEmail',
    build: async () => ({ req: { path: '/v1/contacts/search', query: { q: marker } }, sent: marker }),
  },
  {
    label: 'POST /v1/contacts body.channels (A’s contact’s email): B’s to use',
    operationId: 'createContact',
    field: 'body.channels.[].value',
    kind: 'contactEmail',
    accepted: true,
    build: async (_ctx, a) => ({ req: { path: '/v1/contacts', body: { name: 'Bravo Same', channels: [{ kind: 'email', value: a.contactEmail }] } }, sent: a.contactEmail }),
  },
  {
    label: 'POST /v1/contacts body.channels (an email at A’s company’s domain): not matched to A’s company',
    operationId: 'createContact',
    field: 'body.channels.[].value',
    kind: 'companyDomain',
    accepted: true,
    build: async (_ctx, a) => {
      const email = `someone@${a.companyDomain}`;
      return { req: { path: '/v1/contacts', body: { name: 'Bravo Domain', channels: [{ kind: 'email', value: email }] } }, sent: email };
    },
  },
  {
    label: 'POST /v1/inbound-messages body.from (A’s contact’s email): B’s own contact',
    operationId: 'ingestInboundMessage',
    field: 'body.from',
    kind: 'contactEmail',
    accepted: true,
    build: async (_ctx, a) => ({
      req: { path: '/v1/inbound-messages', body: { channel: 'email', from: a.contactEmail, externalId: `probe-${a.contactEmail}`, body: 'Hello again' } },
      sent: a.contactEmail,
    }),
  },
  {
    label: 'POST /v1/users body.email (A’s admin’s email): B’s to use',
    operationId: 'addUser',
    field: 'body.email',
    kind: 'userEmail',
    accepted: true,
    build: async (_ctx, a) => ({ req: { path: '/v1/users', body: { name: 'Bravo Same', email: a.userEmail, role: 'member' } }, sent: a.userEmail }),
  },
  {
    label: 'POST /v1/tags body.name (A’s tag): B’s to use',
    operationId: 'createTag',
    field: 'body.name',
    kind: 'tagName',
    accepted: true,
    build: async (_ctx, a) => ({ req: { path: '/v1/tags', body: { name: a.tagName } }, sent: a.tagName }),
  },
  {
    label: 'POST /v1/custom-fields body.key (A’s key): B’s to use',
    operationId: 'createCustomField',
    field: 'body.key',
    kind: 'customFieldKey',
    accepted: true,
    build: async (_ctx, a) => ({
      req: { path: '/v1/custom-fields', body: { entityType: 'contact', key: a.customFieldKey, label: 'Bravo field', type: 'text' } },
      sent: a.customFieldKey,
    }),
  },
  {
    label: 'POST /v1/companies body.domains (A’s company’s domain): B’s to use',
    operationId: 'createCompany',
    field: 'body.domains',
    kind: 'companyDomain',
    accepted: true,
    build: async (_ctx, a) => ({ req: { path: '/v1/companies', body: { name: 'Bravo Corp', domains: [a.companyDomain] } }, sent: a.companyDomain }),
  },
];

// ---------------------------------------------------------------------------------------------------
// Workspace A's records, and what of them must never appear in B's answers

type ARecords = Record<Kind, string>;

const marker = 'Alphasecret';

async function seedA(ctx: Ctx): Promise<{ ids: ARecords; workspaceId: string; secrets: string[]; reads: string[] }> {
  const companyDomain = 'alphasecret-corp.example';
  const company = await ctx.company({ name: `${marker} Corp`, domains: [companyDomain] });
  const contact = await ctx.contact({ name: `${marker} Person`, companyId: company.id });
  const pipeline = await ctx.pipeline();
  const deal = await ctx.deal({ title: `${marker} Deal`, contactId: contact.id, companyId: company.id, pipelineId: pipeline.id, stageId: pipeline.stages[0].id });
  const conversation = await ctx.conversation();
  const message = (await ctx.call('POST', `/v1/conversations/${conversation.id}/messages`, { body: `${marker} note`, note: true })).body;
  const attachment = await uploadedAttachment(ctx);
  const connection = (
    await ctx.call('POST', '/v1/channels', {
      kind: 'whatsapp',
      name: `${marker} WhatsApp`,
      settings: { phoneNumberId: '106540352242999' },
      secrets: { accessToken: 'EAAGexampleAccessToken0123456789', appSecret: '0123456789abcdef0123456789abcdef', verifyToken: 'verify-me' },
    })
  ).body;
  const upload = (await ctx.call('POST', '/v1/imports/uploads', { fileName: 'alpha.csv', sizeBytes: 100 })).body;
  const segment = (await ctx.call('POST', '/v1/segments', { name: `${marker} Segment`, kind: 'static' })).body;
  await ctx.call('POST', `/v1/segments/${segment.id}/members`, { contactIds: [contact.id] });
  const criterion = 'alphasecret_fit';
  const product = (
    await ctx.call('POST', '/v1/products', { name: `${marker} Product`, criteria: [{ id: criterion, name: 'Fit', weight: 1, kind: 'manual' }] })
  ).body;
  await ctx.call('POST', `/v1/contacts/${contact.id}/fit/${product.id}/assessments`, { criterionId: criterion, value: 4 });
  const note = await ctx.note(contact.id);
  const task = await ctx.task({ title: `${marker} Task`, anchor: { kind: 'contact', id: contact.id } });
  const tagName = 'alphasecret-tag';
  await ctx.call('POST', `/v1/contacts/${contact.id}/tags`, { tags: [tagName] });
  const customFieldKey = 'alphasecret_field';
  await ctx.call('POST', '/v1/custom-fields', { entityType: 'contact', key: customFieldKey, label: `${marker} Field`, type: 'text' });
  await ctx.call('POST', '/v1/custom-fields', { entityType: 'deal', key: customFieldKey, label: `${marker} Field`, type: 'text' });
  const me = (await ctx.call('GET', '/v1/me')).body;
  const ids: ARecords = {
    contact: contact.id,
    company: company.id,
    deal: deal.id,
    user: ctx.ws.admin.user.id,
    pipeline: pipeline.id,
    stage: pipeline.stages[1].id,
    conversation: conversation.id,
    message: message.id,
    attachment: attachment.id,
    connection: connection.id,
    upload: upload.uploadId,
    segment: segment.id,
    product: product.id,
    criterion,
    note: note.id,
    task: task.id,
    tagName,
    customFieldKey,
    contactEmail: contact.channels[0].value,
    userEmail: (ctx.ws.admin.user as any).email,
    companyDomain,
  };
  const users = [ctx.ws.owner, ctx.ws.admin, ctx.ws.member].map((actor) => actor.user as any);
  const secrets = [
    marker,
    me.workspace.id,
    ...Object.values(ids),
    conversation.contactId,
    ...users.flatMap((user) => [user.id, user.email]),
    ...contact.channels.map((channel: any) => channel.value),
  ].filter((value): value is string => typeof value === 'string' && value.length > 0);
  // The records re-read at the end: each must be unchanged.
  const reads = [
    `/v1/contacts/${contact.id}`,
    `/v1/contacts/${conversation.contactId}`,
    `/v1/contacts/${contact.id}/timeline`,
    `/v1/companies/${company.id}`,
    `/v1/deals/${deal.id}`,
    `/v1/pipelines/${pipeline.id}`,
    `/v1/conversations/${conversation.id}`,
    `/v1/conversations/${conversation.id}/messages`,
    `/v1/segments/${segment.id}/members`,
    `/v1/products/${product.id}`,
    `/v1/notes/${note.id}`,
    `/v1/tasks/${task.id}`,
    `/v1/users`,
    `/v1/tags`,
    `/v1/channels/${connection.id}`,
    `/v1/events?entityType=contact&entityId=${contact.id}`,
  ];
  return { ids, workspaceId: me.workspace.id as string, secrets: [...new Set(secrets)], reads };
}

// ---------------------------------------------------------------------------------------------------
// Writes, by probe: every DynamoDB write request's body, tagged with the probe that sent it

const probeScope = new AsyncLocalStorage<string>();
const writeCommands = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'TransactWriteItemsCommand', 'BatchWriteItemCommand']);

function recordWrites(stack: TestStack) {
  const writes = new Map<string, string[]>();
  stack.deps.db.client.middlewareStack.add(
    (next, context) => async (args: any) => {
      const probe = probeScope.getStore();
      if (probe && writeCommands.has(context.commandName ?? '')) {
        const body = typeof args.request?.body === 'string' ? args.request.body : JSON.stringify(args.input);
        writes.set(probe, [...(writes.get(probe) ?? []), `${context.commandName} ${body}`]);
      }
      return next(args);
    },
    { step: 'build', name: 'tenantProbeWrites' },
  );
  return writes;
}

/** A value of the sent one's shape that names nothing anywhere: `ct_000…`, an address, a key. */
function unknownLike(sent: string): string {
  const prefix = /^([a-z]+)_[0-9A-HJKMNP-TV-Z]{26}$/.exec(sent)?.[1];
  if (prefix) return `${prefix}_${'0'.repeat(26)}`;
  if (sent.includes('@')) return 'nobody-probe@nowhere.example';
  return 'zz_unknown_probe';
}

/** What two answers must share: the status, and a refusal's problem with the id named replaced. */
function comparable(res: ApiResponse, id: string): string {
  if (res.status < 400) return String(res.status);
  const raw = typeof res.raw.body === 'string' ? res.raw.body.split(id).join('<id>') : '';
  const { requestId: _requestId, ...problem } = JSON.parse(raw || '{}') as Record<string, unknown>;
  return `${res.status} ${JSON.stringify(problem)}`;
}

async function pool<T>(items: T[], size: number, work: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: size }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

// ---------------------------------------------------------------------------------------------------

describe('another workspace’s ids in bodies and queries', () => {
  let stack: TestStack;
  let ctxA: Ctx;
  let ctxB: Ctx;
  let a: Awaited<ReturnType<typeof seedA>>;
  let writes: Map<string, string[]>;
  const unprobed: string[] = [];
  const probes = [
    ...routeList.flatMap((route) => [...probesFor(route, unprobed), ...mixedPathProbes(route)]),
    ...valueProbes,
  ];

  beforeAll(async () => {
    stack = await createTestStack();
    const [alpha, bravo] = await Promise.all([seedWorkspace(stack, 'Alpha'), seedWorkspace(stack, 'Bravo')]);
    ctxA = new Ctx(stack, alpha, bravo);
    ctxB = new Ctx(stack, bravo, alpha);
    a = await seedA(ctxA);
    writes = recordWrites(stack);
  });

  afterAll(async () => {
    await stack?.destroy();
  });

  it('has a probe for every field that looks like a reference, or a reason it is none', () => {
    expect(unprobed, `reference-like fields with no probe: add a kind to fieldKinds, or a reason to notReferences`).toEqual([]);
    // PROBE_VERBOSE=1 names what the run probes, and each answer.
    if (process.env.PROBE_VERBOSE) console.info(`${probes.length} probes:\n${probes.map((probe) => `  ${probe.label}`).join('\n')}`);
  });

  it('refuses each of them, leaks nothing of A and writes nothing in A', async () => {
    const before = await Promise.all(a.reads.map((path) => stack.api('GET', path, { token: ctxA.ws.owner.token })));
    const failures: string[] = [];
    await pool(probes, 6, async (probe) => {
      let built: { req: Req; sent: string };
      try {
        built = await probe.build(ctxB, a.ids);
      } catch (error) {
        failures.push(`${probe.label}: could not build B's request: ${(error as Error).message}`);
        return;
      }
      const { req, sent } = built;
      const route = routeList.find((candidate) => candidate.operationId === probe.operationId)!;
      const send = (request: Req) =>
        stack.api(route.method, request.path, {
          token: request.token === undefined ? ctxB.ws.owner.token : (request.token ?? undefined),
          ...(request.query ? { query: request.query } : {}),
          ...(request.body === undefined ? {} : { body: request.body }),
          ...(request.headers ? { headers: request.headers } : {}),
        });
      const res: ApiResponse = await probeScope.run(probe.label, () => send(req));
      const raw = typeof res.raw.body === 'string' ? res.raw.body : '';
      // The id sent may be echoed (a field's error names it); nothing else of A's may appear.
      const rest = raw.split(sent).join('');
      const problems: string[] = [];
      const refused = res.status >= 400 && res.status < 500 && res.status !== 401 && res.status !== 403;
      const items = res.body && typeof res.body === 'object' ? res.body.items : undefined;
      const emptyRead = route.method === 'GET' && res.status === 200 && (items === undefined || (Array.isArray(items) && items.length === 0));
      const emptyPreview = probe.operationId === 'previewSegment' && res.status === 200 && res.body?.count === 0;
      if (res.status >= 500) problems.push(`a ${res.status}`);
      else if (probe.accepted) {
        if (res.status >= 300) problems.push(`refused B’s own value: ${res.status}`);
      } else if (!refused && !emptyRead && !emptyPreview && !filterRoutes.has(probe.operationId)) {
        const reportedPerItem = perItemRoutes[probe.operationId];
        if (!(res.status < 300 && reportedPerItem?.(res.body, sent))) problems.push(`answered ${res.status}`);
      }
      if (process.env.PROBE_VERBOSE) console.info(`${res.status} ${probe.label} ${raw.slice(0, 500)}`);
      for (const secret of a.secrets) {
        if (rest.toLowerCase().includes(secret.toLowerCase())) problems.push(`the answer holds A’s “${secret}”`);
      }
      const written = writes.get(probe.label) ?? [];
      for (const write of written) {
        if (write.includes(a.workspaceId)) problems.push(`wrote in A: ${write.slice(0, 200)}`);
        else if (write.includes(sent) && !filterRoutes.has(probe.operationId) && !probe.accepted) problems.push(`kept A’s id in B: ${write.slice(0, 200)}`);
      }
      if (refused && written.length > 0) problems.push(`refused but wrote ${written.length}: ${written[0]!.slice(0, 200)}`);
      // No existence oracle: the same request naming a record that exists nowhere is answered alike.
      if (!probe.accepted && problems.length === 0) {
        const unknown = unknownLike(sent);
        const twin = await send(JSON.parse(JSON.stringify(req).split(sent).join(unknown)) as Req);
        const seen = comparable(res, sent);
        const expected = comparable(twin, unknown);
        if (seen !== expected) problems.push(`answers unlike an unknown id’s: ${expected}`);
      }
      if (problems.length) failures.push(`${probe.label}: ${problems.join('; ')} — ${res.status} ${raw.slice(0, 200)}`);
    });
    const after = await Promise.all(a.reads.map((path) => stack.api('GET', path, { token: ctxA.ws.owner.token })));
    a.reads.forEach((path, i) => {
      if (JSON.stringify(after[i]!.body) !== JSON.stringify(before[i]!.body)) failures.push(`A’s ${path} changed`);
    });
    expect(failures, failures.join('\n')).toEqual([]);
  }, 600_000);
});
