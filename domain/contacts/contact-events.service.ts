import * as z from 'zod';
import type { EntityType } from '../../events/catalogue';
import { aboutCompanyKey, aboutDealKey, listEventsByEntity, type EventRecord } from '../../events/event-log';
import { defaultPipelineId } from '../pipelines/pipeline-record';
import { isManager, requireManager, type CallerContext } from '../shared/context';
import type { CoreDeps } from '../shared/deps';
import { invalidCursor, notFound } from '../shared/errors';
import { canRead } from '../inbox/conversation-access';
import { visibleJob } from '../jobs/jobs.service';
import type { ConversationItem } from '../inbox/conversation-record';
import { checkCursor, type Page, type PageQuery } from '../shared/pagination';
import type { ContactItem } from './contact-record';
import { listContactTimeline } from './contact-timeline.service';

const cursorSchema = z.object({
  v: z.literal(1),
  /** The contact the cursor belongs to. */
  c: z.string(),
  /** The id of the last event returned: every partition goes on below it. */
  e: z.string().regex(/^evt_[0-9A-Z]{26}$/),
  /** The filters of the query it continues (a timeline's `filterKey`), when it had any. */
  f: z.string().optional(),
});

/**
 * The event id a cursor of a contact's events goes on below. The cursor must belong to this contact
 * and to the same filters (`filterKey`, none for the plain event log), else it is a 400.
 */
export function decodeContactEventCursor(cursor: string | undefined, contactId: string, filterKey?: string): string | undefined {
  if (cursor === undefined) return undefined;
  try {
    const parsed = cursorSchema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    if (parsed.c !== contactId || parsed.f !== filterKey) throw invalidCursor();
    return parsed.e;
  } catch {
    throw invalidCursor();
  }
}

/** An opaque cursor: go on below `eventId` in the events of this contact, with the same filters. */
export const encodeContactEventCursor = (contactId: string, eventId: string, filterKey?: string) =>
  Buffer.from(JSON.stringify({ v: 1, c: contactId, e: eventId, ...(filterKey === undefined ? {} : { f: filterKey }) })).toString('base64url');

/** A contact's own id and those of every contact merged into it, at any depth. */
export const eventContactIdsOf = (contact: Pick<ContactItem, 'contactId' | 'mergedFrom'>) => [
  contact.contactId,
  ...(contact.mergedFrom ?? []).flatMap((entry) => [entry.contactId, ...entry.mergedContactIds]),
];

/** A conversation the caller may read, or a 404: another workspace's, or a direct one they are not in. */
async function assertReadableConversation(deps: CoreDeps, caller: CallerContext, conversationId: string) {
  const { data } = await deps.db.entities.conversation.get({ workspaceId: caller.workspaceId, conversationId }).go();
  if (!data || !canRead(caller, data as ConversationItem)) throw notFound('Conversation');
}

type RecordCheck = (deps: CoreDeps, workspaceId: string, id: string) => Promise<boolean>;
const found = async (read: Promise<{ data: unknown }>) => (await read).data != null;

/**
 * The records a workspace can hold without any event of their own (the default pipeline is created
 * with the workspace, silently), read by key. The kinds not here (messages, calls, tokens, custom
 * fields) are each created with an event: none means no such record. Contacts, conversations and jobs
 * are read before their events anyway. Consistent reads: a record created a moment ago is no 404.
 */
const recordChecks: Partial<Record<EntityType, RecordCheck>> = {
  workspace: async (_deps, workspaceId, id) => id === workspaceId,
  user: (deps, workspaceId, userId) => found(deps.db.entities.user.get({ workspaceId, userId }).go({ consistent: true })),
  company: (deps, workspaceId, companyId) => found(deps.db.entities.company.get({ workspaceId, companyId }).go({ consistent: true })),
  deal: (deps, workspaceId, dealId) => found(deps.db.entities.deal.get({ workspaceId, dealId }).go({ consistent: true })),
  note: (deps, workspaceId, noteId) => found(deps.db.entities.note.get({ workspaceId, noteId }).go({ consistent: true })),
  task: (deps, workspaceId, taskId) => found(deps.db.entities.task.get({ workspaceId, taskId }).go({ consistent: true })),
  pipeline: async (deps, workspaceId, pipelineId) =>
    pipelineId === defaultPipelineId || found(deps.db.entities.pipeline.get({ workspaceId, pipelineId }).go({ consistent: true })),
  tag: (deps, workspaceId, key) => found(deps.db.entities.tag.get({ workspaceId, key }).go({ consistent: true })),
  segment: (deps, workspaceId, segmentId) => found(deps.db.entities.segment.get({ workspaceId, segmentId }).go({ consistent: true })),
  product: (deps, workspaceId, productId) => found(deps.db.entities.product.get({ workspaceId, productId }).go({ consistent: true })),
  channel_connection: (deps, workspaceId, connectionId) =>
    found(deps.db.entities.channelConnection.get({ workspaceId, connectionId }).go({ consistent: true })),
  assignment_rule: (deps, workspaceId, ruleId) => found(deps.db.entities.assignmentRule.get({ workspaceId, ruleId }).go({ consistent: true })),
  webhook: (deps, workspaceId, subscriptionId) =>
    found(deps.db.entities.webhookSubscription.get({ workspaceId, subscriptionId }).go({ consistent: true })),
};

/**
 * A first page without events is a 404 unless the workspace holds the record: an id it never had
 * (another workspace's included, read under the caller's own keys) is refused alike for every kind,
 * while a record removed since keeps its events readable.
 */
async function assertKnownRecord(
  deps: CoreDeps,
  caller: CallerContext,
  entity: { type: string; id: string },
  page: PageQuery,
  result: Page<EventRecord>,
) {
  if (page.cursor !== undefined || result.items.length > 0) return;
  const check = recordChecks[entity.type as EntityType];
  if (!check || !(await check(deps, caller.workspaceId, entity.id))) throw notFound('Record');
}

/**
 * Seed 001 EventLog.listByEntity, newest first. A contact's log holds every event about it: its own,
 * and those of its notes, tasks and deals (events carry the contact they are about: index
 * `aboutContact`), and the same for the contacts merged into it (the log is append-only: their events
 * stay under their own ids): the contact's timeline without filters (`listContactTimeline`), so a page
 * costs 1 GetItem + (1 + merged contacts) Queries, and an unknown contact is a 404.
 * A company's or a deal's log is every event about it (one Query); other records: their own events (one Query);
 * a job's only for those who see the job. A record the workspace does not hold, of any kind, is a 404
 * (`assertKnownRecord`: one GetItem more, only when the first page is empty).
 */
export async function listRecordEvents(
  deps: CoreDeps,
  caller: CallerContext,
  entity: { type: string; id: string },
  page: PageQuery,
): Promise<Page<EventRecord>> {
  if (entity.type === 'company' || entity.type === 'deal') {
    const options = { order: 'desc', limit: page.limit, cursor: checkCursor(caller.workspaceId, page.cursor) ?? null } as const;
    const result =
      entity.type === 'company'
        ? await deps.db.entities.event.query.aboutCompany({ aboutCompanyKey: aboutCompanyKey(caller.workspaceId, entity.id) }).go(options)
        : await deps.db.entities.event.query.aboutDeal({ aboutDealKey: aboutDealKey(caller.workspaceId, entity.id) }).go(options);
    const events = { items: result.data as EventRecord[], nextCursor: result.cursor ?? null };
    await assertKnownRecord(deps, caller, entity, page, events);
    return events;
  }
  // What only an owner or admin reads, the events of it too: they hold a webhook's URL, a connection's settings, a token's name.
  if (entity.type === 'webhook' || entity.type === 'channel_connection') {
    requireManager(caller, `read the events of a ${entity.type === 'webhook' ? 'webhook' : 'channel connection'}`);
  }
  if (entity.type === 'token' && !isManager(caller)) await assertOwnToken(deps, caller, entity.id);
  if (entity.type === 'conversation') await assertReadableConversation(deps, caller, entity.id);
  // A job's events are for those who see the job (a member: their own).
  if (entity.type === 'job') await visibleJob(deps, caller, entity.id);
  if (entity.type !== 'contact') {
    const result = await listEventsByEntity(deps, caller, entity, page);
    // A message's or a call's events are their conversation's to read (a direct one: its users only).
    const conversationId = (result.items[0]?.payload as { conversationId?: unknown } | undefined)?.conversationId;
    if ((entity.type === 'message' || entity.type === 'call') && typeof conversationId === 'string') {
      await assertReadableConversation(deps, caller, conversationId);
    }
    // A conversation or a job was read above: it exists, with or without events.
    if (entity.type !== 'conversation' && entity.type !== 'job') await assertKnownRecord(deps, caller, entity, page, result);
    return result;
  }
  // A contact's log is its timeline without filters (one reader for both).
  const timeline = await listContactTimeline(deps, caller, entity.id, { limit: page.limit, cursor: page.cursor });
  return { items: timeline.items.map((entry) => entry.event), nextCursor: timeline.nextCursor };
}

/** A member reads the events of their own tokens only; another user's token is refused as the token list refuses it. */
async function assertOwnToken(deps: CoreDeps, caller: CallerContext, tokenId: string) {
  const { data } = await deps.db.entities.apiToken.query.byTokenId({ workspaceId: caller.workspaceId, tokenId }).go({ limit: 1 });
  if (data[0] && data[0].userId !== caller.userId) requireManager(caller, "read the events of another user's token");
}
