import * as z from 'zod';
import { allAnchorKinds } from '../domain/anchors/anchors';
import { connectionKinds } from '../domain/channels/connections/channel-connection.entity';
import { customFieldEntityTypes, customFieldTypes } from '../domain/custom-fields/custom-field.entity';
import { deliveryStates } from '../domain/channels/deliveries/delivery-state';
import { callKinds, callStatuses } from '../domain/inbox/call.entity';
import { builtOnFirstUse } from '../domain/shared/built-on-first-use';
import { roles } from '../domain/shared/context';
import { membershipReasons, segmentKinds } from '../domain/segments/segment.entity';

const anchorPayload = () => z.object({ kind: z.enum(allAnchorKinds), id: z.string() });

/**
 * The channels conversations run on (seed 000 names LinkedIn besides the product's email, SMS,
 * WhatsApp, Telegram and internal), and `phone`, the channel of calls over the phone network (seed 001
 * Call). A messaging or call event carries its channel: the timeline filters by it.
 */
export const messageChannels = ['email', 'sms', 'whatsapp', 'telegram', 'linkedin', 'internal', 'phone'] as const;
export type MessageChannel = (typeof messageChannels)[number];

/** Every messaging event names its conversation and message (the inbox's records). */
const messageRef = () => ({ conversationId: z.string(), messageId: z.string() });

/**
 * An outbound message went out. `firstResponseSeconds`: when it is a user's first answer to the
 * contact's waiting inbound message, the seconds it waited (performance's first-response time).
 */
const sentPayload = () =>
  z.object({
    ...messageRef(),
    to: z.string(),
    firstResponseSeconds: z.number().int().nonnegative().nullable(),
    /** The message's first words, for timelines. */
    excerpt: z.string().optional(),
  });

/** The contact answered; `assigneeId` is the user the conversation is assigned to (it is their reply received). */
const repliedPayload = () =>
  z.object({
    ...messageRef(),
    inReplyTo: z.string().nullable(),
    assigneeId: z.string().nullable(),
    excerpt: z.string().optional(),
  });

/**
 * A background job ended (entity `job`, about no contact: read with `GET /v1/events?entityType=job`):
 * it succeeded with its `result`, failed with its `error`, or a user canceled it.
 */
const jobFinishedPayload = () =>
  z.object({
    jobId: z.string(),
    kind: z.string(),
    status: z.enum(['succeeded', 'failed', 'canceled']),
    result: z.record(z.string(), z.unknown()).nullable(),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
  });

/**
 * The event type catalogue: one zod schema per type for the `payload` each event carries. An event is
 * validated against its schema when it is appended, so the log never holds a shape nobody declared.
 * Types are dotted `<entity>.<what happened>`; add new ones here, next to their neighbours. Each
 * schema is built when first read: every function carries the catalogue, building all ~110 (600 zod
 * schemas with their parts) at import cost each cold start ~5 ms, and a function appends a few types.
 */
export const eventCatalogue = builtOnFirstUse({
  'workspace.created': () => z.object({ name: z.string() }),
  'workspace.updated': () => z.object({ changes: z.record(z.string(), z.object({ from: z.unknown(), to: z.unknown() })) }),
  'user.added': () => z.object({ name: z.string(), email: z.string(), role: z.enum(roles) }),
  'user.updated': () => z.object({ changes: z.record(z.string(), z.object({ from: z.unknown(), to: z.unknown() })) }),
  'token.created': () => z.object({ tokenId: z.string(), name: z.string(), userId: z.string() }),
  'token.revoked': () => z.object({ tokenId: z.string(), userId: z.string() }),
  'custom_field.created': () => z.object({
    entityType: z.enum(customFieldEntityTypes),
    key: z.string(),
    label: z.string(),
    type: z.enum(customFieldTypes),
    required: z.boolean(),
    options: z.array(z.string()).optional(),
  }),
  'custom_field.updated': () => z.object({
    entityType: z.enum(customFieldEntityTypes),
    key: z.string(),
    changes: z.record(z.string(), z.object({ from: z.unknown(), to: z.unknown() })),
  }),
  'custom_field.archived': () => z.object({
    entityType: z.enum(customFieldEntityTypes),
    key: z.string(),
    changes: z.record(z.string(), z.object({ from: z.unknown(), to: z.unknown() })),
  }),
  /** `jobId`: the background job (an import) that made the change, when one did. */
  'contact.created': () => z.object({
    name: z.string(),
    ownerId: z.string().nullable(),
    channels: z.array(z.object({ kind: z.string(), normalized: z.string() })),
    jobId: z.string().optional(),
  }),
  'contact.updated': () => z.object({
    changes: z.record(z.string(), z.object({ from: z.unknown(), to: z.unknown() })),
    jobId: z.string().optional(),
  }),
  /** `mergedInto` when archived by a merge into another contact. */
  'contact.archived': () => z.object({ mergedInto: z.string().optional() }),
  'contact.unarchived': () => z.object({}),
  'contact.suppressed': () => z.object({ reason: z.string().nullable() }),
  'contact.unsuppressed': () => z.object({}),
  /**
   * On the target contact, once per merge request that merged anything: the contacts merged into it,
   * the channels that passed to it and the tags it gained (each source gets `contact.archived`).
   */
  'contact.merged': () => z.object({
    sourceContactIds: z.array(z.string()),
    channels: z.array(z.object({ kind: z.string(), normalized: z.string(), from: z.string() })),
    tagsAdded: z.array(z.string()),
  }),
  /** Seed 000 "Owner claimed": a rep claimed the contact, or an owner/admin assigned it. */
  'owner.claimed': () => z.object({
    ownerId: z.string(),
    previousOwnerId: z.string().nullable(),
    assignedBy: z.string().nullable(),
    /** The assignment rule that gave it (`assignedBy: system`), when one did. */
    ruleId: z.string().optional(),
  }),
  'owner.released': () => z.object({ previousOwnerId: z.string() }),
  /** Seed 000 "Profile scored": a 1–5 score was given to the contact (seed 001 ContactScore). */
  'profile.scored': () => z.object({
    scoreId: z.string(),
    value: z.number().int().min(1).max(5),
    source: z.string(),
    previous: z.object({ value: z.number().int(), source: z.string() }).nullable(),
  }),
  /** Seed 001 Contact.setQualification(): the contact's latest qualification, a user's or the classifier's. */
  'qualification.set': () => z.object({
    qualificationId: z.string(),
    kind: z.string(),
    score: z.number().int().min(1).max(5).nullable(),
    source: z.enum(['manual', 'ai']),
    /** A classifier's confidence, 0 to 1 (absent in events written before it was kept). */
    confidence: z.number().min(0).max(1).nullable().optional(),
    previous: z
      .object({ kind: z.string(), score: z.number().int().nullable(), source: z.enum(['manual', 'ai']) })
      .nullable(),
  }),
  /** Seed 000 "Tag added / removed" on a contact; `system` for `bot:` tags (autoreply control). */
  'tag.added': () => z.object({ tag: z.string(), system: z.boolean() }),
  'tag.removed': () => z.object({ tag: z.string(), system: z.boolean() }),
  /** The tag library (entity `tag`, id = the tag key): `firstUse` when a contact's new tag created it. */
  'tag.created': () => z.object({
    key: z.string(),
    name: z.string(),
    system: z.boolean(),
    color: z.string().nullable(),
    description: z.string().nullable(),
    firstUse: z.boolean(),
  }),
  'tag.updated': () => z.object({ key: z.string(), changes: z.record(z.string(), z.object({ from: z.unknown(), to: z.unknown() })) }),
  /** A rename began: the tagged contacts follow (each with `contact.updated`), a bounded part per request. */
  'tag.renamed': () => z.object({ fromKey: z.string(), fromName: z.string(), toKey: z.string(), toName: z.string() }),
  /** The tag left the library, once no contact carried it any more (each untagged one got `tag.removed`). */
  'tag.deleted': () => z.object({ key: z.string(), name: z.string(), system: z.boolean() }),
  'company.created': () => z.object({ name: z.string(), domains: z.array(z.string()), ownerId: z.string().nullable() }),
  'company.updated': () => z.object({ changes: z.record(z.string(), z.object({ from: z.unknown(), to: z.unknown() })) }),
  /** `mergedInto` when archived by a merge. */
  'company.archived': () => z.object({ mergedInto: z.string().nullable() }),
  'company.unarchived': () => z.object({}),
  /** On the target company: a source was merged into it (its contacts moved, its domains added). */
  'company.merged': () => z.object({ sourceCompanyId: z.string(), sourceName: z.string(), domains: z.array(z.string()) }),
  /** Seed 000 "Note added": on a contact, deal or company (its timeline shows it); the text's first characters. */
  'note.added': () => z.object({ anchor: anchorPayload(), excerpt: z.string() }),
  /** The text was edited (`revisionId`: the history item holding the text it replaced), or a merge moved the note. */
  'note.updated': () => z.object({
    anchor: anchorPayload(),
    revisionId: z.string().nullable(),
    movedFrom: anchorPayload().nullable(),
  }),
  /** Soft delete: the note leaves every list and read; the item and its history are kept. */
  'note.deleted': () => z.object({ anchor: anchorPayload() }),
  /** Seed 000 "Task created". */
  'task.created': () => z.object({
    title: z.string(),
    anchor: anchorPayload().nullable(),
    assigneeId: z.string().nullable(),
    dueAt: z.string().nullable(),
    priority: z.string(),
  }),
  'task.updated': () => z.object({ changes: z.record(z.string(), z.object({ from: z.unknown(), to: z.unknown() })) }),
  /** Claimed from the pool, given to someone by an owner/admin, or handed back to the pool (`assigneeId` null). */
  'task.assigned': () => z.object({
    assigneeId: z.string().nullable(),
    previousAssigneeId: z.string().nullable(),
    how: z.enum(['claimed', 'assigned', 'released']),
  }),
  /** Seed 000 "Task completed". */
  'task.completed': () => z.object({ title: z.string(), anchor: anchorPayload().nullable(), assigneeId: z.string().nullable() }),
  'task.reopened': () => z.object({}),
  'pipeline.created': () => z.object({
    name: z.string(),
    stages: z.array(z.object({ stageId: z.string(), name: z.string(), kind: z.enum(['open', 'won', 'lost']) })),
  }),
  'pipeline.updated': () => z.object({ changes: z.record(z.string(), z.object({ from: z.unknown(), to: z.unknown() })) }),
  'pipeline.stage_added': () => z.object({ stageId: z.string(), name: z.string(), sortIndex: z.number().int() }),
  'pipeline.stage_renamed': () => z.object({ stageId: z.string(), from: z.string(), to: z.string() }),
  'pipeline.stages_reordered': () => z.object({ from: z.array(z.string()), to: z.array(z.string()) }),
  /** A stage's removal began: its deals are moving to `moveDealsTo`; none can enter it. */
  'pipeline.stage_removing': () => z.object({ stageId: z.string(), name: z.string(), moveDealsTo: z.string() }),
  'pipeline.stage_removed': () => z.object({ stageId: z.string(), name: z.string(), moveDealsTo: z.string().nullable() }),
  /** Seed 000 "Deal created". */
  'deal.created': () => z.object({
    title: z.string(),
    value: z.number().int().nullable(),
    currency: z.string().nullable(),
    pipelineId: z.string(),
    stageId: z.string(),
    ownerId: z.string().nullable(),
    contactId: z.string().nullable(),
    companyId: z.string().nullable(),
  }),
  'deal.updated': () => z.object({ changes: z.record(z.string(), z.object({ from: z.unknown(), to: z.unknown() })) }),
  /** Seed 001 Deal.changeStage(); also written with deal.won / deal.lost / deal.reopened. */
  'deal.stage_changed': () => z.object({
    from: z.object({ pipelineId: z.string(), stageId: z.string(), statusKey: z.enum(['open', 'won', 'lost']) }),
    to: z.object({ pipelineId: z.string(), stageId: z.string(), statusKey: z.enum(['open', 'won', 'lost']) }),
  }),
  /** `ownerId`: the deal's owner when it was won or lost (performance credits them). */
  'deal.won': () => z.object({
    stageId: z.string(),
    value: z.number().int().nullable(),
    currency: z.string().nullable(),
    ownerId: z.string().nullable(),
  }),
  'deal.lost': () => z.object({ stageId: z.string(), reason: z.string().nullable(), ownerId: z.string().nullable() }),
  /**
   * What the deal was when it closed (`closedAt`, its owner and value): performance takes the win or
   * loss back from the day it was credited, so a reopened deal is no longer won in that period.
   */
  'deal.reopened': () => z.object({
    stageId: z.string(),
    previousStatus: z.enum(['won', 'lost']),
    closedAt: z.string().nullable(),
    ownerId: z.string().nullable(),
    value: z.number().int().nullable(),
    currency: z.string().nullable(),
  }),
  /**
   * Seed 000 "Email sent, opened, clicked, replied, bounced": entity `message`, about the contact. The
   * inbox writes them with its messages; their shapes are fixed here first.
   */
  'email.sent': () => sentPayload().extend({ subject: z.string().nullable() }),
  'email.opened': () => z.object({ ...messageRef() }),
  'email.clicked': () => z.object({ ...messageRef(), url: z.string() }),
  'email.replied': repliedPayload,
  /** `hard`: the address does not exist (the channel stops being used); `soft`: a full mailbox, a timeout. */
  'email.bounced': () => z.object({ ...messageRef(), bounceType: z.enum(['hard', 'soft']), reason: z.string().nullable() }),
  /** Seed 000 "LinkedIn / Telegram sent, replied"; the same pair for every channel of the inbox. */
  'linkedin.sent': sentPayload,
  'linkedin.replied': repliedPayload,
  'telegram.sent': sentPayload,
  'telegram.replied': repliedPayload,
  'sms.sent': sentPayload,
  'sms.replied': repliedPayload,
  'whatsapp.sent': sentPayload,
  'whatsapp.replied': repliedPayload,
  /** A user's message to other users on the internal channel (a direct conversation, or a contact's thread). */
  'internal.sent': sentPayload,
  /** A contact edited a message they sent (Telegram): its new text; `edits` counts the earlier texts kept. */
  'message.edited': () => z.object({
    ...messageRef(),
    channel: z.enum(messageChannels),
    excerpt: z.string(),
    edits: z.number().int(),
  }),
  /**
   * Seed 001 Delivery: an outbound message's delivery moved (`queued` → `sent` → `delivered` → `read`, or
   * `failed`), on attempt `attempt` (a retry is a new attempt), with the provider's own status word and error.
   */
  'delivery.status_changed': () => z.object({
    ...messageRef(),
    deliveryId: z.string(),
    channel: z.enum(messageChannels),
    attempt: z.number().int().positive(),
    from: z.enum(deliveryStates),
    to: z.enum(deliveryStates),
    providerStatus: z.string().nullable(),
    errorCode: z.string().nullable(),
    errorMessage: z.string().nullable(),
  }),
  /** The inbox: a conversation opened, changed, assigned; its participants; its notes (seen by users only). */
  'conversation.opened': () => z.object({
    kind: z.enum(['contact', 'direct']),
    channel: z.enum(messageChannels),
    contactId: z.string().nullable(),
    userIds: z.array(z.string()),
  }),
  'conversation.status_changed': () => z.object({
    channel: z.enum(messageChannels),
    from: z.string(),
    to: z.string(),
    snoozedUntil: z.string().nullable(),
    /** What changed it: a user (`user`), the contact's message (`message`) or the snooze time (`schedule`). */
    cause: z.enum(['user', 'message', 'schedule']),
  }),
  'conversation.assigned': () => z.object({
    channel: z.enum(messageChannels),
    from: z.string().nullable(),
    to: z.string().nullable(),
    /**
     * `claim`, `release`, `assign`, `reply` (a member's reply to a pool conversation takes it), or `rule`
     * (an assignment rule gave it, actor `system`).
     */
    how: z.enum(['claim', 'release', 'assign', 'reply', 'rule']),
    /** The assignment rule that gave it (`how: rule`). */
    ruleId: z.string().optional(),
  }),
  'conversation.participant_added': () => z.object({ actorKind: z.enum(['user', 'contact']), id: z.string() }),
  /** A contact merge moved the conversation (its contact, contact participant and messages' authors) to the target. */
  'conversation.moved': () => z.object({ channel: z.enum(messageChannels), fromContactId: z.string(), toContactId: z.string() }),
  'conversation.participant_removed': () => z.object({ actorKind: z.enum(['user', 'contact']), id: z.string() }),
  'conversation.scored': () => z.object({ channel: z.enum(messageChannels), value: z.number().int(), source: z.string() }),
  'conversation.qualified': () => z.object({
    channel: z.enum(messageChannels),
    kind: z.string(),
    score: z.number().int().nullable(),
    source: z.string(),
    /** A classifier's confidence, 0 to 1 (absent in events written before it was kept). */
    confidence: z.number().min(0).max(1).nullable().optional(),
  }),
  'conversation.note_added': () => z.object({ ...messageRef(), channel: z.enum(messageChannels), excerpt: z.string() }),
  /**
   * Seed 001 Call, entity `call`, about the conversation's contact: started (by a user, or the contact
   * for an inbound call), its status changed (`ringing`, `connected`, `missed`, `failed`), ended (with
   * how long it was connected, in seconds).
   */
  'call.started': () => z.object({
    conversationId: z.string(),
    channel: z.enum(messageChannels),
    kind: z.enum(callKinds),
    startedByUserId: z.string().nullable(),
    startedByContactId: z.string().nullable(),
  }),
  'call.status_changed': () => z.object({
    conversationId: z.string(),
    channel: z.enum(messageChannels),
    from: z.enum(callStatuses),
    to: z.enum(callStatuses),
  }),
  'call.ended': () => z.object({
    conversationId: z.string(),
    channel: z.enum(messageChannels),
    kind: z.enum(callKinds),
    from: z.enum(callStatuses),
    durationSeconds: z.number().int().nonnegative(),
  }),
  /** A contact import's end (kind `import_contacts`): `result` holds its report's counts. */
  'import.finished': jobFinishedPayload,
  /** A contact export's end (kind `export_contacts`): `result` holds the rows written. */
  'export.finished': jobFinishedPayload,
  /** The end of a job of another kind. */
  'job.finished': jobFinishedPayload,
  /** A user queued a failed job again: it resumes from where it stopped. */
  'job.retried': () => z.object({ jobId: z.string(), kind: z.string() }),
  /**
   * A channel connection (entity `channel_connection`) was made, or set active again (`reconnected`);
   * its public settings only: credentials are never in an event.
   */
  'channel.connected': () => z.object({
    connectionId: z.string(),
    kind: z.enum(connectionKinds),
    name: z.string(),
    settings: z.record(z.string(), z.unknown()),
    reconnected: z.boolean(),
  }),
  /** Its name or settings changed (`changes`, keyed `name` or `settings.<key>`), or credentials were replaced (their names). */
  'channel.updated': () => z.object({
    connectionId: z.string(),
    kind: z.enum(connectionKinds),
    changes: z.record(z.string(), z.object({ from: z.unknown(), to: z.unknown() })),
    secretsReplaced: z.array(z.string()),
  }),
  /** Set `disconnected`: nothing is sent or received on it until it is reconnected. */
  'channel.disconnected': () => z.object({ connectionId: z.string(), kind: z.enum(connectionKinds), name: z.string() }),
  /**
   * Seed 000 "Segment joined, left": entity `segment`, about the contact; `reason`: the contact changed,
   * the rule changed, a scheduled recompute (time moved a relative date), a user added or removed it, or
   * the contact was merged into another.
   */
  'segment.joined': () => z.object({ segmentId: z.string(), segmentName: z.string(), reason: z.enum(membershipReasons) }),
  'segment.left': () => z.object({ segmentId: z.string(), segmentName: z.string(), reason: z.enum(membershipReasons) }),
  'segment.created': () => z.object({ name: z.string(), kind: z.enum(segmentKinds) }),
  /** Fit scoring: a product (entity `product`) and its criteria. */
  'product.created': () => z.object({ name: z.string(), criteria: z.number().int() }),
  'product.updated': () => z.object({ name: z.string(), criteria: z.number().int() }),
  /** Seed 000 CustomerFitAssessment: a criterion of a product assessed for the contact; `score` the fit after it. */
  'fit.assessed': () => z.object({
    productId: z.string(),
    criterionId: z.string(),
    value: z.number().int(),
    source: z.enum(['user', 'rule', 'ai']),
    score: z.number().int(),
  }),
  /** Seed 000 "Leads: human review": the contact's lead for a product reviewed. */
  'lead.reviewed': () => z.object({
    productId: z.string(),
    status: z.enum(['pending', 'accepted', 'rejected']),
    previous: z.enum(['pending', 'accepted', 'rejected']),
    reason: z.string().nullable(),
    dealId: z.string().nullable(),
  }),
  'segment.updated': () => z.object({ changes: z.record(z.string(), z.object({ from: z.unknown(), to: z.unknown() })) }),
  'segment.deleted': () => z.object({ name: z.string(), memberCount: z.number().int() }),
  /** Assignment rules (entity `assignment_rule`): who hands out new conversations and contacts, in turn. */
  'assignment_rule.created': () => z.object({
    name: z.string(),
    appliesTo: z.enum(['conversations', 'contacts']),
    userIds: z.array(z.string()),
    capPerUser: z.number().int().nullable(),
  }),
  'assignment_rule.updated': () => z.object({ changes: z.record(z.string(), z.object({ from: z.unknown(), to: z.unknown() })) }),
  'assignment_rule.deleted': () => z.object({ name: z.string() }),
  /** Seed 000 "Bot replied, escalated": the autoreply bot answered, or handed the conversation to people. */
  /**
   * `messageId`: the bot's reply; `inReplyTo`: the contact's message it answers; `source`: a reply rule
   * (named by `rule`) or the responder's own text; `intent` and `confidence` as the responder gave them.
   */
  'bot.replied': () => z.object({
    ...messageRef(),
    channel: z.enum(messageChannels),
    inReplyTo: z.string().optional(),
    source: z.enum(['rule', 'responder']).optional(),
    rule: z.string().nullable().optional(),
    intent: z.string().nullable().optional(),
    confidence: z.number().min(0).max(1).nullable().optional(),
  }),
  /**
   * `reason`: `keyword`, `low_confidence`, `reply_limit`, `no_match`, `rate_limited`, `undeliverable`,
   * `model_unavailable` or `reply_canceled` (a user canceled the bot's `bot_reply` job)
   * (domain/bot); `messageId`: the contact's message that made the bot hand over.
   */
  'bot.escalated': () => z.object({
    conversationId: z.string(),
    channel: z.enum(messageChannels),
    reason: z.string(),
    assigneeId: z.string().nullable(),
    messageId: z.string().optional(),
  }),
  /**
   * Outbound webhooks (entity `webhook`): a subscription made, changed, removed, its secret rotated
   * (the old one signs along until `previousExpiresAt`), or disabled (`reason: failing` after its
   * deliveries failed for the whole retry window; `user` by a PATCH).
   */
  'webhook.created': () => z.object({ url: z.string(), eventTypes: z.array(z.string()), filtered: z.boolean() }),
  'webhook.updated': () => z.object({ changes: z.record(z.string(), z.object({ from: z.unknown(), to: z.unknown() })) }),
  'webhook.deleted': () => z.object({ url: z.string() }),
  'webhook.secret_rotated': () => z.object({ previousExpiresAt: z.string() }),
  'webhook.disabled': () => z.object({ reason: z.enum(['failing', 'user']), failingSince: z.string().nullable(), url: z.string() }),
  /** A user handed the conversation back to the bot (`active`), or kept the bot out of it. */
  'bot.handed_over': () => z.object({ conversationId: z.string(), channel: z.enum(messageChannels), active: z.boolean() }),
  /** The workspace's bot settings changed (entity `workspace`): the fields that changed. */
  'bot.settings_updated': () => z.object({ changes: z.record(z.string(), z.object({ from: z.unknown(), to: z.unknown() })) }),
});

/** The channel a messaging event happened on: by its type's group, or (bot, conversation and call events) its payload. */
export function eventChannel(type: string, payload: unknown): MessageChannel | undefined {
  const group = type.slice(0, type.indexOf('.'));
  if ((messageChannels as readonly string[]).includes(group)) return group as MessageChannel;
  const channel = (payload as { channel?: unknown } | null)?.channel;
  return ['bot', 'conversation', 'call', 'delivery'].includes(group) && messageChannels.includes(channel as MessageChannel)
    ? (channel as MessageChannel)
    : undefined;
}

export type EventType = keyof typeof eventCatalogue;
export type EventPayload<T extends EventType> = z.infer<(typeof eventCatalogue)[T]>;
export const eventTypes = Object.keys(eventCatalogue) as EventType[];

/** The kinds of record an event can be about. */
export const entityTypes = [
  'workspace',
  'user',
  'token',
  'contact',
  'custom_field',
  'company',
  'note',
  'task',
  'pipeline',
  'deal',
  'tag',
  'conversation',
  'message',
  'call',
  'segment',
  'product',
  'job',
  'channel_connection',
  'assignment_rule',
  'webhook',
] as const;
export type EntityType = (typeof entityTypes)[number];
