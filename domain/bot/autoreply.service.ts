import { newEvent, type EventRecord } from '../../events/event-log';
import type { ContactItem } from '../contacts/contact-record';
import { toContact } from '../contacts/contact-record';
import type { ConversationItem } from '../inbox/conversation-record';
import { assertCanReply, assignmentChange, commitConversation, findConversation, readConversation, statusChange } from '../inbox/conversations.service';
import { maxBodyLength } from '../inbox/inbox.entity';
import { receiptOps, sendMessage, type MessageItem } from '../inbox/messages.service';
import { systemActor, type CallerContext } from '../shared/context';
import type { CoreDeps } from '../shared/deps';
import { DomainError, LostRace, lostRace, unprocessable } from '../shared/errors';
import { findJob } from '../jobs/job-record';
import { createJob } from '../jobs/jobs.service';
import type { BotAnswer, ConversationLine, Responder } from '../shared/ports';
import { QualifierError } from '../qualification/qualifier-error';
import { retryLostRaces } from '../shared/retry';
import type { TxEntities } from '../store/db';
import { writeTransaction } from '../store/transaction';
import { tagKey } from '../tags/tag-names';
import { appendEvent } from '../../events/event-log';
import { renderTemplate } from './bot-templates';
import type { BotSettings, ConversationBot, EscalationReason } from './bot.schemas';
import { readBotSettings } from './bot-settings.service';
import { botAnswersAt } from './business-hours';
import { holdsPhrase } from './local-responder';
import { botJobId, botReplyKind, botTurnInput, type BotTurn, type BotTurnInput } from './bot-turn';

/** What the bot's job uses: the table, clock and ids, and the responder (a model, or the local rules). */
export type BotDeps = CoreDeps & { responder: Responder };

/** The stream consumer name of the bot's receipts (one per event it acted on), in the fan-out and in its job. */
export const botConsumerName = 'bot';
const receiptTtlSeconds = 7 * 24 * 60 * 60;
/** Messages read for the responder and the checks (one Query). */
const recentMessageCount = 20;
/** A person's reply this recent (since the bot took the conversation) means people are talking with the contact. */
const peopleActiveMs = 24 * 60 * 60 * 1000;

/** The channels the bot answers on: those with a delivery (LinkedIn has no API; internal is between users). */
const botChannels = ['email', 'sms', 'whatsapp', 'telegram'] as const;
const inboundTypes = new Set(botChannels.map((channel) => `${channel}.replied`));

export const isInboundMessageEvent = (event: EventRecord) => inboundTypes.has(event.type);
const isResolution = (event: EventRecord) =>
  event.type === 'conversation.status_changed' && (event.payload as { to?: string }).to === 'resolved';
/** A `bot_reply` job a user canceled (through the API, or any path that ends a job `canceled`). */
const isCanceledReply = (event: EventRecord) => {
  const payload = event.payload as { kind?: string; status?: string };
  return event.type === 'job.finished' && payload.kind === botReplyKind && payload.status === 'canceled';
};
/**
 * The events the bot's fan-out consumer takes: contacts' messages, resolutions (which reset its reply
 * count), and its own canceled jobs (whose message goes to people).
 */
export const botAccepts = (event: EventRecord) => isInboundMessageEvent(event) || isResolution(event) || isCanceledReply(event);

interface BotConversationItem {
  workspaceId: string;
  conversationId: string;
  mode: 'bot' | 'people';
  reason?: string;
  replies: number;
  recentReplies?: string[];
  since: string;
  changedBy: string;
  version: number;
  createdAt: string;
  updatedAt: string;
}

/** What the bot did with an event (tests and logs read it). */
export type BotOutcome =
  | { outcome: 'replied'; messageId: string; source: 'rule' | 'responder' }
  | { outcome: 'escalated'; reason: EscalationReason; assigneeId: string | null }
  | { outcome: 'silent'; why: string }
  | { outcome: 'reset' }
  | { outcome: 'queued'; jobId: string };

const silent = (why: string): BotOutcome => ({ outcome: 'silent', why });

async function findState(deps: CoreDeps, workspaceId: string, conversationId: string) {
  const { data } = await deps.db.entities.botConversation.get({ workspaceId, conversationId }).go({ consistent: true });
  return (data as BotConversationItem | null) ?? undefined;
}

/** The state written with the version read: created when absent, else put on its version (a lost race re-runs). */
const stateOp = (tx: TxEntities, before: BotConversationItem | undefined, after: BotConversationItem) =>
  before
    ? tx.botConversation
        .put(after)
        .where((attr, { eq }) => eq(attr.version, before.version))
        .commit()
    : tx.botConversation.create(after).commit();

/** The event a receipt is for: the fan-out's event, or the turn its job answers. */
type ReceiptRef = Pick<EventRecord, 'workspaceId' | 'eventId'>;

const receiptOp = (deps: CoreDeps, tx: TxEntities, event: ReceiptRef) =>
  tx.streamReceipt
    .create({
      workspaceId: event.workspaceId,
      consumer: botConsumerName,
      eventId: event.eventId,
      expiresAt: Math.floor(deps.clock.nowMs() / 1000) + receiptTtlSeconds,
    })
    .commit();

async function handled(deps: CoreDeps, event: ReceiptRef): Promise<boolean> {
  const { data } = await deps.db.entities.streamReceipt
    .get({ workspaceId: event.workspaceId, consumer: botConsumerName, eventId: event.eventId })
    .go({ consistent: true });
  return Boolean(data);
}

/**
 * Loop guard: a message another system wrote without a person (an email's `Auto-Submitted` other than
 * `no` or `Precedence: bulk/junk/list/auto_reply`, a message marked `automated`, a bot's Telegram
 * account), or one that repeats the bot's own recent words (an echo), is never answered.
 */
export function isAutomated(message: Pick<MessageItem, 'payload' | 'body'>, botTexts: readonly string[] = []): boolean {
  const payload = (message.payload ?? {}) as {
    automated?: unknown;
    email?: { autoSubmitted?: unknown; precedence?: unknown };
    sender?: { isBot?: unknown };
  };
  if (payload.automated === true || payload.sender?.isBot === true) return true;
  const autoSubmitted = typeof payload.email?.autoSubmitted === 'string' ? payload.email.autoSubmitted.trim().toLowerCase() : '';
  if (autoSubmitted !== '' && autoSubmitted !== 'no') return true;
  const precedence = typeof payload.email?.precedence === 'string' ? payload.email.precedence.trim().toLowerCase() : '';
  if (['bulk', 'junk', 'list', 'auto_reply'].includes(precedence)) return true;
  const body = message.body.trim();
  return body !== '' && botTexts.some((text) => text.trim() === body);
}

/** What the responder is told about the contact: who they are, never how to reach them. */
function profileOf(item: ContactItem): Record<string, unknown> {
  const contact = toContact(item);
  return {
    name: contact.name,
    jobTitle: contact.jobTitle,
    companyName: contact.companyName,
    city: contact.city,
    country: contact.country,
    tags: contact.tags,
    customFields: contact.customFields,
  };
}

/** The reply the bot would send: a rule's rendered template, or the responder's own text. */
interface Reply {
  body: string;
  source: 'rule' | 'responder';
  rule: string | null;
  intent: string | null;
  confidence: number | null;
}

type Decision = { reply: Reply } | { escalate: EscalationReason; answer?: BotAnswer };

/**
 * The reply to a message, or why it goes to people: an escalation keyword; the reply limit; a rule
 * whose keywords the message holds; else the responder: a rule's intent it recognises at or above the
 * threshold, or (with `aiReplies`) its own reply at or above the threshold; below it `low_confidence`,
 * nothing at all `no_match`.
 */
async function decide(
  deps: BotDeps,
  settings: BotSettings,
  contact: ContactItem,
  conversation: ConversationItem,
  message: MessageItem,
  lines: ConversationLine[],
  replies: number,
): Promise<Decision> {
  const text = message.body;
  if (settings.escalationKeywords.some((keyword) => holdsPhrase(text, keyword))) return { escalate: 'keyword' };
  if (replies >= settings.maxRepliesPerConversation) return { escalate: 'reply_limit' };
  const byKeyword = settings.rules.find((rule) => rule.keywords.some((keyword) => holdsPhrase(text, keyword)));
  if (byKeyword) {
    return { reply: { body: renderTemplate(byKeyword.template, contact), source: 'rule', rule: byKeyword.name, intent: null, confidence: 1 } };
  }
  const intents = [...new Set(settings.rules.flatMap((rule) => rule.intents))];
  if (intents.length === 0 && !settings.aiReplies) return { escalate: 'no_match' };
  let answer: BotAnswer;
  try {
    answer = await deps.responder.respond({
      workspaceId: conversation.workspaceId,
      conversationId: conversation.conversationId,
      channel: conversation.channel,
      messages: lines,
      contact: profileOf(contact),
      intents,
    });
  } catch (error) {
    // A passing fault (throttling, a timeout) fails the job's run, which SQS retries (after the last
    // receive people take it: `botReplyFailed`); a lasting one (no access to the model) would fail
    // every run: people take the conversation at once.
    if (error instanceof QualifierError && !error.retryable) return { escalate: 'low_confidence' };
    throw error;
  }
  const sure = answer.confidence >= settings.confidenceThreshold;
  const byIntent = answer.intent ? settings.rules.find((rule) => rule.intents.includes(answer.intent!)) : undefined;
  if (byIntent) {
    return sure
      ? { reply: { body: renderTemplate(byIntent.template, contact), source: 'rule', rule: byIntent.name, intent: answer.intent, confidence: answer.confidence } }
      : { escalate: 'low_confidence', answer };
  }
  const own = answer.reply?.trim().slice(0, maxBodyLength);
  if (settings.aiReplies && own) {
    return sure
      ? { reply: { body: own, source: 'responder', rule: null, intent: answer.intent, confidence: answer.confidence } }
      : { escalate: 'low_confidence', answer };
  }
  return { escalate: 'no_match', answer };
}

/** Who the bot never answers, whatever the message: the contact's tags, the workspace's switch, a suppressed or inactive contact. */
function whyNotForBot(settings: BotSettings, contact: ContactItem | undefined): string | undefined {
  if (!contact) return 'no_contact';
  // The contact's tags first: `bot:off` never, `bot:on` even when the workspace default is off.
  const tags = new Set((contact.tags ?? []).map(tagKey));
  if (tags.has('bot:off')) return 'contact_bot_off';
  if (!settings.enabled && !tags.has('bot:on')) return 'bot_off';
  if (contact.suppressed) return 'contact_suppressed';
  if (contact.status !== 'active' || contact.mergedInto) return 'contact_inactive';
  return undefined;
}

/** The settings and the contact (two GetItems): most workspaces and contacts have no bot. */
async function readSettingsAndContact(deps: CoreDeps, workspaceId: string, contactId: string | undefined) {
  const [settings, contactData] = await Promise.all([
    readBotSettings(deps, workspaceId),
    contactId ? deps.db.entities.contact.get({ workspaceId, contactId }).go() : Promise.resolve({ data: null }),
  ]);
  return { settings, contact: (contactData.data as ContactItem | null) ?? undefined };
}

/**
 * The autoreply bot's fan-out consumer (`bot`), for one event of the stream; no model call here, so a
 * model's fault never holds up the stream. A contact's message the bot may answer (the settings and the
 * contact's tags, two GetItems) becomes a `bot_reply` job, one per event (`botJobId`: a replayed record
 * writes no second one), which `answerMessage` runs from the `classify_conversation` queue. A resolution
 * resets the bot's reply count in that conversation here (a read and a write, no model).
 */
export async function applyBotEvent(deps: CoreDeps, event: EventRecord): Promise<BotOutcome> {
  if (isResolution(event)) return resetReplies(deps, event);
  if (isCanceledReply(event)) return handOverCanceled(deps, event);
  if (!isInboundMessageEvent(event)) return silent('not_inbound');
  const { workspaceId, eventId } = event;
  const { conversationId, messageId } = event.payload as { conversationId: string; messageId: string };
  const { settings, contact } = await readSettingsAndContact(deps, workspaceId, event.contactId);
  const why = whyNotForBot(settings, contact);
  if (why || !contact) return silent(why ?? 'no_contact');
  const input: BotTurnInput = { eventId, contactId: contact.contactId, conversationId, messageId };
  const jobId = botJobId(eventId);
  try {
    await retryLostRaces(() => createJob(deps, systemActor(workspaceId), { kind: botReplyKind, input, jobId, total: 1 }));
  } catch (error) {
    if (error instanceof DomainError && error.code === 'already_exists') return silent('already_queued');
    throw error;
  }
  return { outcome: 'queued', jobId };
}

/**
 * A canceled `bot_reply` job answers nobody: its message goes to people as after a failure
 * (`botReplyFailed`), with the reason `reply_canceled`. Read from the job's end event on the stream, so
 * every path that cancels a job (the API's among them, which runs no kind's module) hands over; a
 * message answered meanwhile, or a conversation already with people, is left as it is.
 */
async function handOverCanceled(deps: CoreDeps, event: EventRecord): Promise<BotOutcome> {
  const { jobId } = event.payload as { jobId: string };
  const job = await findJob(deps, event.workspaceId, jobId, true);
  const input = botTurnInput.safeParse(job?.input);
  if (!input.success) return silent('no_turn');
  return escalateUnanswered(deps, { ...input.data, workspaceId: event.workspaceId }, 'reply_canceled');
}

/**
 * The autoreply bot on one contact's message (the `bot_reply` job, idempotent per event by its
 * receipt): an answer, an escalation or nothing. See README "Autoreply bot" for the rules. A passing
 * fault of the responder (throttling, a timeout) throws, so SQS runs the job again.
 */
export async function answerMessage(deps: BotDeps, turn: BotTurn): Promise<BotOutcome> {
  const { workspaceId, conversationId, messageId } = turn;
  // The cheap checks again: the settings or the contact's tags may have changed since the event was queued.
  const { settings, contact } = await readSettingsAndContact(deps, workspaceId, turn.contactId);
  const why = whyNotForBot(settings, contact);
  if (why || !contact) return silent(why ?? 'no_contact');
  if (await handled(deps, turn)) return silent('already_handled');
  const [conversation, stored, state] = await Promise.all([
    findConversation(deps, workspaceId, conversationId, true),
    deps.db.entities.message.get({ workspaceId, conversationId, messageId }).go({ consistent: true }),
    findState(deps, workspaceId, conversationId),
  ]);
  const message = (stored.data as MessageItem | null) ?? undefined;
  if (conversation?.contactId !== contact.contactId || conversation.kind !== 'contact' || message?.authorKind !== 'contact' || message.note) {
    return silent('not_a_contact_message');
  }
  if (state?.mode === 'people') return silent('with_people');
  // The hours by when the contact wrote (a job run late, or again, decides the same).
  if (!botAnswersAt(settings, message.createdAt)) return silent('business_hours');

  const { data: recentItems } = await deps.db.entities.message.query
    .byConversation({ workspaceId, conversationId })
    .go({ order: 'desc', limit: recentMessageCount, pages: 1 });
  const recent = (recentItems as MessageItem[]).filter((item) => !item.note);
  const since = state?.since ?? '';
  const nowMs = deps.clock.nowMs();
  const peopleReplied = recent.some(
    (item) => item.authorKind === 'user' && item.createdAt > since && nowMs - Date.parse(item.createdAt) < peopleActiveMs,
  );
  if (peopleReplied) return silent('people_replied');
  const botTexts = recent.filter((item) => item.authorKind === 'system').map((item) => item.body);
  if (isAutomated(message, botTexts)) return silent('automated');

  const windowStart = new Date(deps.clock.nowMs() - settings.rateLimit.windowMinutes * 60_000).toISOString();
  const inWindow = (state?.recentReplies ?? []).filter((at) => at > windowStart);
  const context: EscalationContext = { turn, contact, message, state };
  if (inWindow.length >= settings.rateLimit.replies) return escalate(deps, context, 'rate_limited');

  // The conversation up to the message answered (a late run must not answer what came after it), oldest first.
  const position = recent.findIndex((item) => item.messageId === message.messageId);
  const upTo = position >= 0 ? recent.slice(position) : [message];
  const lines: ConversationLine[] = [...upTo].reverse().map((item) => ({ author: item.authorKind, text: item.body.slice(0, 2000), at: item.createdAt }));
  const decision = await decide(deps, settings, contact, conversation, message, lines, state?.replies ?? 0);
  if ('escalate' in decision) return escalate(deps, context, decision.escalate);
  if (decision.reply.body === '') return escalate(deps, context, 'no_match');
  return reply(deps, context, decision.reply, inWindow);
}

/**
 * People take a conversation whose message the bot could not answer (its job failed: the responder kept
 * failing through every retry, or no run took the job up), unless the message was dealt with already
 * (its receipt), people have the conversation, or the message or contact is gone.
 */
export async function escalateUnanswered(deps: CoreDeps, turn: BotTurn, reason: EscalationReason): Promise<BotOutcome> {
  const { workspaceId, conversationId, messageId } = turn;
  if (await handled(deps, turn)) return silent('already_handled');
  const [{ data: contactData }, stored, state] = await Promise.all([
    deps.db.entities.contact.get({ workspaceId, contactId: turn.contactId }).go(),
    deps.db.entities.message.get({ workspaceId, conversationId, messageId }).go({ consistent: true }),
    findState(deps, workspaceId, conversationId),
  ]);
  const contact = (contactData as ContactItem | null) ?? undefined;
  const message = (stored.data as MessageItem | null) ?? undefined;
  if (!contact || !message) return silent('message_gone');
  if (state?.mode === 'people') return silent('with_people');
  return escalate(deps, { turn, contact, message, state }, reason);
}

interface EscalationContext {
  turn: BotTurn;
  contact: ContactItem;
  message: MessageItem;
  state: BotConversationItem | undefined;
}

/** Sends the reply through the inbox's send path (routing, suppression, channel windows, the delivery job), as `system`. */
async function reply(deps: BotDeps, context: EscalationContext, chosen: Reply, inWindow: string[]): Promise<BotOutcome> {
  const { turn, message, state } = context;
  const system = systemActor(turn.workspaceId);
  const at = deps.clock.nowIso();
  const next: BotConversationItem = {
    workspaceId: turn.workspaceId,
    conversationId: message.conversationId,
    mode: 'bot',
    replies: (state?.replies ?? 0) + 1,
    recentReplies: [...inWindow, at].slice(-100),
    since: state?.since ?? at,
    changedBy: system.userId,
    version: (state?.version ?? 0) + 1,
    createdAt: state?.createdAt ?? at,
    updatedAt: at,
  };
  try {
    const sent = await sendMessage(
      deps,
      system,
      message.conversationId,
      { body: chosen.body, note: false, attachmentIds: [] },
      {
        withMessage: {
          events: (ref) => [
            newEvent(deps, system, 'bot.replied', { type: 'message', id: ref.messageId }, {
              ...ref,
              channel: message.channel,
              inReplyTo: message.messageId,
              source: chosen.source,
              rule: chosen.rule,
              intent: chosen.intent,
              confidence: chosen.confidence,
            }, { contactId: context.contact.contactId }),
          ],
          ops: (tx) => [stateOp(tx, state, next), receiptOp(deps, tx, turn)],
        },
      },
    );
    return { outcome: 'replied', messageId: sent.id, source: chosen.source };
  } catch (error) {
    // The send path refuses up front (a closed WhatsApp window, no connection, no value on the channel): people take it.
    if (error instanceof DomainError && error.code === 'unprocessable') return escalate(deps, context, 'undeliverable');
    // The receipt or the state moved under us (the same event run twice at once): done by the other run.
    if (error instanceof LostRace && (await handled(deps, turn))) return silent('already_handled');
    throw error;
  }
}

/**
 * Hands the conversation to people, in one transaction: it stays with its assignee, else goes to the
 * contact's owner (an active user), else stays in the pool; status `open`; the contact's message
 * unread for the new assignee; the bot silent there (`people`) until a user hands it back;
 * `bot.escalated`.
 */
async function escalate(deps: CoreDeps, context: EscalationContext, reason: EscalationReason): Promise<BotOutcome> {
  const { turn, contact, message, state } = context;
  const system = systemActor(turn.workspaceId);
  return retryLostRaces(async () => {
    const before = await findConversation(deps, turn.workspaceId, message.conversationId, true);
    if (!before) return silent('conversation_gone');
    const at = deps.clock.nowIso();
    let after: ConversationItem = { ...before, version: before.version + 1, updatedAt: at };
    const events: EventRecord[] = [];
    let extraOps: ((tx: TxEntities) => unknown[]) | undefined;
    let afterCommit: (() => Promise<void>) | undefined;
    if (after.status !== 'open') {
      const opened = statusChange(deps, system, after, 'open', undefined, 'message');
      after = opened.after;
      events.push(...opened.events);
    }
    let newAssignee: string | undefined;
    if (!before.assigneeId && contact.ownerId) {
      const { data: owner } = await deps.db.entities.user.get({ workspaceId: turn.workspaceId, userId: contact.ownerId }).go();
      if (owner?.status === 'active') {
        const change = await assignmentChange(deps, system, after, contact.ownerId, 'assign', at);
        after = change.after;
        events.push(...change.events);
        extraOps = change.extraOps;
        afterCommit = change.afterCommit;
        newAssignee = contact.ownerId;
      }
    }
    // Unread for whoever has it now: the pool's users got the message's receipt with it; a new assignee may not have.
    const { data: receipt } = newAssignee
      ? await deps.db.entities.messageReceipt.get({ workspaceId: turn.workspaceId, messageId: message.messageId, userId: newAssignee }).go({ consistent: true })
      : { data: null };
    const assigneeId = after.assigneeId ?? null;
    events.push(
      newEvent(deps, system, 'bot.escalated', { type: 'conversation', id: before.conversationId }, {
        conversationId: before.conversationId,
        channel: before.channel,
        reason,
        assigneeId,
        messageId: message.messageId,
      }, { contactId: contact.contactId }),
    );
    const next: BotConversationItem = {
      workspaceId: turn.workspaceId,
      conversationId: before.conversationId,
      mode: 'people',
      reason,
      replies: state?.replies ?? 0,
      recentReplies: state?.recentReplies ?? [],
      since: state?.since ?? at,
      changedBy: system.userId,
      version: (state?.version ?? 0) + 1,
      createdAt: state?.createdAt ?? at,
      updatedAt: at,
    };
    await commitConversation(deps, before, {
      after,
      events,
      extraOps: (tx) => [
        ...(extraOps?.(tx) ?? []),
        ...(newAssignee && !receipt ? receiptOps(tx, after, message, newAssignee) : []),
        stateOp(tx, state, next),
        receiptOp(deps, tx, turn),
      ],
      ...(afterCommit ? { afterCommit } : {}),
    });
    return { outcome: 'escalated', reason, assigneeId } as const;
  }).catch(async (error: unknown) => {
    // Done meanwhile by another run of the same event: nothing more to do.
    if (error instanceof LostRace && (await handled(deps, turn))) return silent('already_handled');
    throw error;
  });
}

/** A resolved conversation starts the bot's reply count again (its mode stays: people hand it back themselves). */
async function resetReplies(deps: CoreDeps, event: EventRecord): Promise<BotOutcome> {
  const conversationId = event.entityId;
  return retryLostRaces(async () => {
    const state = await findState(deps, event.workspaceId, conversationId);
    if (!state || (state.replies === 0 && (state.recentReplies ?? []).length === 0)) return silent('nothing_to_reset');
    if (await handled(deps, event)) return silent('already_handled');
    const at = deps.clock.nowIso();
    await writeTransaction(
      deps.db,
      (tx) => [
        stateOp(tx, state, { ...state, replies: 0, recentReplies: [], version: state.version + 1, updatedAt: at }),
        receiptOp(deps, tx, event),
      ],
      () => lostRace('The bot’s state'),
    );
    return { outcome: 'reset' } as const;
  });
}

// ---------------------------------------------------------------------------------------------
// A conversation's bot, as users see and steer it

const toConversationBot = (conversationId: string, state: BotConversationItem | undefined): ConversationBot => ({
  conversationId,
  active: state?.mode !== 'people',
  reason: state?.mode === 'people' ? (state.reason ?? null) : null,
  replies: state?.replies ?? 0,
  since: state?.since ?? null,
  updatedAt: state?.updatedAt ?? null,
});

/** `GET /v1/conversations/{id}/bot`: whoever reads the conversation. */
export async function getConversationBot(deps: CoreDeps, caller: CallerContext, conversationId: string): Promise<ConversationBot> {
  const [, state] = await Promise.all([
    readConversation(deps, caller, conversationId),
    findState(deps, caller.workspaceId, conversationId),
  ]);
  return toConversationBot(conversationId, state);
}

/**
 * `POST /v1/conversations/{id}/bot`: a user who may reply in the conversation hands it back to the
 * bot (`active: true`: its reply count starts again, and people's earlier replies no longer silence
 * it) or keeps the bot out of it (`false`; changes nothing when it is out already), with `bot.handed_over`.
 */
export async function handOverConversation(
  deps: CoreDeps,
  caller: CallerContext,
  conversationId: string,
  active: boolean,
): Promise<ConversationBot> {
  return retryLostRaces(async () => {
    const [conversation, state] = await Promise.all([
      readConversation(deps, caller, conversationId, true),
      findState(deps, caller.workspaceId, conversationId),
    ]);
    if (conversation.kind !== 'contact') throw unprocessable('The bot answers contacts: a direct conversation has none', { reason: 'not_a_contact_conversation' });
    assertCanReply(caller, conversation);
    // Handing back always restarts the bot there (its count, and people's earlier replies no longer keep it quiet).
    if (!active && state?.mode === 'people') return toConversationBot(conversationId, state);
    const at = deps.clock.nowIso();
    const next: BotConversationItem = {
      workspaceId: caller.workspaceId,
      conversationId,
      mode: active ? 'bot' : 'people',
      ...(active ? {} : { reason: 'user' }),
      replies: active ? 0 : (state?.replies ?? 0),
      recentReplies: active ? [] : (state?.recentReplies ?? []),
      since: active ? at : (state?.since ?? at),
      changedBy: caller.userId,
      version: (state?.version ?? 0) + 1,
      createdAt: state?.createdAt ?? at,
      updatedAt: at,
    };
    const event = newEvent(deps, caller, 'bot.handed_over', { type: 'conversation', id: conversationId }, {
      conversationId,
      channel: conversation.channel,
      active,
    }, conversation.contactId ? { contactId: conversation.contactId } : {});
    await writeTransaction(deps.db, (tx) => [stateOp(tx, state, next), appendEvent(tx, event)], () => lostRace('The conversation’s bot'));
    return toConversationBot(conversationId, next);
  });
}
