import { appendEvent, newEvent, type EventRecord } from '../../events/event-log';
import { systemActor, type CallerContext } from '../shared/context';
import type { CoreDeps } from '../shared/deps';
import { conflict, limitExceeded, LostRace, lostRace, notFound, stale, unprocessable } from '../shared/errors';
import { checkCursor, type Page, type PageQuery } from '../shared/pagination';
import type { TxEntities } from '../store/db';
import { writeTransaction } from '../store/transaction';
import { claimGuard } from '../store/unique-guard-ops';
import type { ConversationItem } from './conversation-record';
import { aboutOf, assertCanReply, commitConversation, findConversation, readConversation } from './conversations.service';
import type { InboxChannel } from './conversations.schemas';
import type {
  Call,
  CallChannel,
  CallKind,
  CallStatus,
  EndCallInput,
  StartCallInput,
  UpdateCallStatusInput,
} from './calls.schemas';

/** The call item as stored (domain/inbox/call.entity.ts). */
interface CallItem {
  workspaceId: string;
  conversationId: string;
  callId: string;
  startedByUserId?: string;
  startedByContactId?: string;
  channel: CallChannel;
  kind: CallKind;
  status: CallStatus;
  startedAt: string;
  connectedAt?: string;
  endedAt?: string;
  durationSeconds?: number;
  endedBy?: string;
  payload?: Record<string, unknown>;
  version: number;
  createdAt: string;
  updatedAt: string;
}

/** Seed 001's call statuses: where each may go. `ended`, `missed` and `failed` are final. */
const nextStatuses: Record<CallStatus, readonly CallStatus[]> = {
  initiated: ['ringing', 'connected', 'missed', 'failed', 'ended'],
  ringing: ['connected', 'missed', 'failed', 'ended'],
  connected: ['ended', 'failed'],
  ended: [],
  missed: [],
  failed: [],
};
const isFinal = (status: CallStatus) => nextStatuses[status].length === 0;

/** The call channel of a conversation's channel: SMS and email threads call over the phone network. */
const defaultChannel: Record<InboxChannel, CallChannel> = {
  internal: 'internal',
  whatsapp: 'whatsapp',
  telegram: 'telegram',
  sms: 'phone',
  email: 'phone',
  linkedin: 'phone',
};

const callRef = (callId: string) => ({ type: 'call' as const, id: callId });
const callChangedMeanwhile = () => lostRace('The call or its conversation');

function toCall(item: CallItem): Call {
  return {
    id: item.callId,
    conversationId: item.conversationId,
    channel: item.channel,
    kind: item.kind,
    status: item.status,
    startedByUserId: item.startedByUserId ?? null,
    startedByContactId: item.startedByContactId ?? null,
    startedAt: item.startedAt,
    connectedAt: item.connectedAt ?? null,
    endedAt: item.endedAt ?? null,
    durationSeconds: item.durationSeconds ?? null,
    endedBy: item.endedBy ?? null,
    payload: item.payload ?? null,
    version: item.version,
    createdAt: item.createdAt,
    updatedAt: item.updatedAt,
  };
}

function callChannelOf(conversation: ConversationItem, asked: CallChannel | undefined): CallChannel {
  if (conversation.kind === 'direct') {
    if (asked !== undefined && asked !== 'internal') {
      throw unprocessable('A call in a direct conversation (between users) is on the `internal` channel');
    }
    return 'internal';
  }
  return asked ?? defaultChannel[conversation.channel];
}

/** The conversation after activity at `at`: it moves up its views (the caller sets the version). */
const touched = (conversation: ConversationItem, at: string): ConversationItem => ({
  ...conversation,
  lastActivityAt: at > conversation.lastActivityAt ? at : conversation.lastActivityAt,
  version: conversation.version + 1,
  updatedAt: at,
});

/** Writes a new call with `call.started`, in the conversation's transaction (its last activity moves). */
async function createCall(
  deps: CoreDeps,
  caller: CallerContext,
  conversation: ConversationItem,
  input: StartCallInput,
  startedBy: { startedByUserId: string } | { startedByContactId: string },
): Promise<Call> {
  const at = deps.clock.nowIso();
  const item: CallItem = {
    workspaceId: caller.workspaceId,
    conversationId: conversation.conversationId,
    callId: deps.newId('call'),
    ...startedBy,
    channel: callChannelOf(conversation, input.channel),
    kind: input.kind,
    status: 'initiated',
    startedAt: at,
    ...(input.payload ? { payload: input.payload } : {}),
    version: 1,
    createdAt: at,
    updatedAt: at,
  };
  const event = newEvent(
    deps,
    caller,
    'call.started',
    callRef(item.callId),
    {
      conversationId: item.conversationId,
      channel: item.channel,
      kind: item.kind,
      startedByUserId: item.startedByUserId ?? null,
      startedByContactId: item.startedByContactId ?? null,
    },
    aboutOf(conversation),
  );
  await commitConversation(
    deps,
    conversation,
    { after: touched(conversation, at), events: [event], extraOps: (tx) => [tx.call.create(item).commit()] },
    callChangedMeanwhile,
  );
  return toCall(item);
}

/**
 * Seed 001 Call.start(): the caller calls from a conversation they may reply to (a member: one assigned
 * to them or in the pool). The call starts `initiated`; the conversation's last activity moves.
 */
export async function startCall(
  deps: CoreDeps,
  caller: CallerContext,
  conversationId: string,
  input: StartCallInput,
): Promise<Call> {
  const conversation = await readConversation(deps, caller, conversationId, true);
  assertCanReply(caller, conversation);
  return createCall(deps, caller, conversation, input, { startedByUserId: caller.userId });
}

/**
 * Seed 001 Call.ingestInbound(): the conversation's contact calls in (the channel adapters call this,
 * usually as the system actor). Only a contact conversation has a contact to call.
 */
export async function ingestInboundCall(
  deps: CoreDeps,
  caller: CallerContext,
  conversationId: string,
  input: StartCallInput,
): Promise<Call> {
  const conversation = await readConversation(deps, caller, conversationId, true);
  if (conversation.kind !== 'contact' || !conversation.contactId) {
    throw unprocessable('Only a contact conversation takes an inbound call');
  }
  return createCall(deps, caller, conversation, input, { startedByContactId: conversation.contactId });
}

async function findCall(deps: CoreDeps, workspaceId: string, conversationId: string, callId: string, consistent: boolean) {
  const { data } = await deps.db.entities.call.get({ workspaceId, conversationId, callId }).go({ consistent });
  return (data as CallItem | null) ?? undefined;
}

/** One call of a conversation the caller may read: the conversation and the call in parallel. */
export async function getCall(deps: CoreDeps, caller: CallerContext, conversationId: string, callId: string): Promise<Call> {
  const [, item] = await Promise.all([
    readConversation(deps, caller, conversationId),
    findCall(deps, caller.workspaceId, conversationId, callId, false),
  ]);
  if (!item) throw notFound('Call');
  return toCall(item);
}

/** A conversation's calls, newest first: one GetItem (access) and one Query, in parallel. */
export async function listCalls(
  deps: CoreDeps,
  caller: CallerContext,
  conversationId: string,
  query: PageQuery,
): Promise<Page<Call>> {
  const [, result] = await Promise.all([
    readConversation(deps, caller, conversationId),
    deps.db.entities.call.query
      .byConversation({ workspaceId: caller.workspaceId, conversationId })
      .go({ order: 'desc', limit: query.limit, pages: 1, cursor: checkCursor(caller.workspaceId, query.cursor) ?? null }),
  ]);
  return { items: (result.data as CallItem[]).map(toCall), nextCursor: result.cursor ?? null };
}

/**
 * Reads the conversation and the call (consistent), checks the caller may change it and If-Match, lets
 * `decide` compute the call's next state (undefined: nothing to do) and writes it with its event: with
 * the conversation (its last activity moves) when the call reaches a final status, alone otherwise.
 */
async function changeCall(
  deps: CoreDeps,
  caller: CallerContext,
  conversationId: string,
  callId: string,
  expectedVersion: number | undefined,
  decide: (before: CallItem, at: string, conversation: ConversationItem) => { after: CallItem; event: EventRecord } | undefined,
): Promise<Call> {
  const [conversation, before] = await Promise.all([
    readConversation(deps, caller, conversationId, true),
    findCall(deps, caller.workspaceId, conversationId, callId, true),
  ]);
  if (!before) throw notFound('Call');
  assertCanReply(caller, conversation);
  if (expectedVersion !== undefined && expectedVersion !== before.version) throw stale();
  const at = deps.clock.nowIso();
  const change = decide(before, at, conversation);
  if (!change) return toCall(before);
  const after: CallItem = { ...change.after, version: before.version + 1, updatedAt: at };
  const putCall = (tx: TxEntities) =>
    tx.call
      .put(after)
      .where((attr, { eq }) => eq(attr.version, before.version))
      .commit();
  if (isFinal(after.status)) {
    await commitConversation(
      deps,
      conversation,
      { after: touched(conversation, at), events: [change.event], extraOps: (tx) => [putCall(tx)] },
      callChangedMeanwhile,
    );
  } else {
    await writeTransaction(deps.db, (tx) => [putCall(tx), appendEvent(tx, change.event)], callChangedMeanwhile);
  }
  return toCall(after);
}

function assertTransition(before: CallItem, to: CallStatus) {
  if (!nextStatuses[before.status].includes(to)) {
    throw conflict('invalid_transition', `A call that is \`${before.status}\` cannot become \`${to}\``, {
      callStatus: before.status,
      allowed: nextStatuses[before.status],
    });
  }
}

const secondsBetween = (from: string, to: string) => Math.max(0, Math.floor((Date.parse(to) - Date.parse(from)) / 1000));

/** The call brought to a final status at `at`: when, by whom, and how long it was connected. */
function finished(
  caller: CallerContext,
  before: CallItem,
  status: CallStatus,
  at: string,
  durationSeconds = before.connectedAt ? secondsBetween(before.connectedAt, at) : 0,
): CallItem {
  return { ...before, status, endedAt: at, durationSeconds, endedBy: caller.userId };
}

/**
 * Seed 001 Call.updateStatus(): legal transitions only (`nextStatuses`; anything else is a 409
 * `invalid_transition`); the status the call has already changes nothing (a repeated report). `ended`
 * is `endCall` without a duration; `missed` and `failed` end the call too (`endedAt`, duration).
 */
export async function updateCallStatus(
  deps: CoreDeps,
  caller: CallerContext,
  conversationId: string,
  callId: string,
  input: UpdateCallStatusInput,
  expectedVersion?: number,
): Promise<Call> {
  if (input.status === 'ended') return endCall(deps, caller, conversationId, callId, {}, expectedVersion);
  return changeCall(deps, caller, conversationId, callId, expectedVersion, (before, at, conversation) => {
    if (before.status === input.status) return undefined;
    assertTransition(before, input.status);
    const after: CallItem = isFinal(input.status)
      ? finished(caller, before, input.status, at)
      : { ...before, status: input.status, ...(input.status === 'connected' ? { connectedAt: at } : {}) };
    const event = newEvent(
      deps,
      caller,
      'call.status_changed',
      callRef(callId),
      { conversationId, channel: before.channel, from: before.status, to: input.status },
      aboutOf(conversation),
    );
    return { after, event };
  });
}

/**
 * Seed 001 Call.end(): status `ended`, `endedAt` now, `durationSeconds` from `connectedAt` to now (0 when
 * it never connected) or the client's, which is at most the time since the call started. Ending an
 * ended call again changes nothing (a different duration is a 409); a missed or failed one is a 409.
 */
export async function endCall(
  deps: CoreDeps,
  caller: CallerContext,
  conversationId: string,
  callId: string,
  input: EndCallInput,
  expectedVersion?: number,
): Promise<Call> {
  return changeCall(deps, caller, conversationId, callId, expectedVersion, (before, at, conversation) => {
    if (before.status === 'ended' && (input.durationSeconds === undefined || input.durationSeconds === before.durationSeconds)) {
      return undefined;
    }
    assertTransition(before, 'ended');
    const elapsed = secondsBetween(before.startedAt, at);
    if (input.durationSeconds !== undefined && input.durationSeconds > elapsed) {
      throw limitExceeded('body.durationSeconds', `The call started ${elapsed} s ago: it cannot have lasted longer`, elapsed);
    }
    const after = finished(caller, before, 'ended', at, input.durationSeconds);
    const event = newEvent(
      deps,
      caller,
      'call.ended',
      callRef(callId),
      { conversationId, channel: before.channel, kind: before.kind, from: before.status, durationSeconds: after.durationSeconds! },
      aboutOf(conversation),
    );
    return { after, event };
  });
}

// ---------------------------------------------------------------------------------------------
// Calls a provider reports (Twilio voice, WhatsApp calling)

/** The guard that finds a call by the provider's id: scope `provider-call`, one per connection; owner `<conversationId>/<callId>`. */
export const providerCallGuard = (workspaceId: string, connectionId: string, providerCallId: string) => ({
  workspaceId,
  scope: 'provider-call',
  value: `${connectionId}:${providerCallId}`,
});

export interface ProviderCallReport {
  connectionId: string;
  providerCallId: string;
  direction: 'inbound' | 'outbound';
  /** The seed's status the provider's maps to. */
  status: CallStatus;
  providerStatus: string;
  /** When the provider says it happened; now otherwise. */
  at: string | null;
  durationSeconds: number | null;
  /** Twilio's `SequenceNumber`: a report with a lower one than the call's last is late and changes nothing. */
  sequence: number | null;
  error: { code: string | null; message: string | null } | null;
}

export type ProviderCallOutcome = 'created' | 'applied' | 'unchanged';

/** The call the provider's id names, and its conversation id, or undefined. */
export async function findProviderCall(deps: CoreDeps, workspaceId: string, connectionId: string, providerCallId: string) {
  const { data: guard } = await deps.db.entities.uniqueGuard
    .get(providerCallGuard(workspaceId, connectionId, providerCallId))
    .go({ consistent: true });
  if (!guard) return undefined;
  const [conversationId = '', callId = ''] = guard.ownerId.split('/');
  const item = await findCall(deps, workspaceId, conversationId, callId, true);
  return item ? { conversationId, callId, item } : undefined;
}

/** What the provider said, kept on the call's payload (the last report, and its sequence). */
const providerPayload = (before: Record<string, unknown> | undefined, report: ProviderCallReport) => ({
  ...(before ?? {}),
  provider: {
    connectionId: report.connectionId,
    callId: report.providerCallId,
    direction: report.direction,
    status: report.providerStatus,
    sequence: report.sequence,
    error: report.error,
  },
});

const lastSequence = (item: CallItem) =>
  ((item.payload?.provider as { sequence?: number | null } | undefined)?.sequence ?? null) as number | null;

/** The call moved to `status` at `at` by the provider (system): connected time, end, duration. */
function movedByProvider(before: CallItem, report: ProviderCallReport, at: string): CallItem {
  const status = report.status;
  const moved: CallItem = { ...before, status, payload: providerPayload(before.payload, report) };
  if (status === 'connected') return { ...moved, connectedAt: at };
  if (!isFinal(status)) return moved;
  const connectedAt = before.connectedAt;
  const durationSeconds = report.durationSeconds ?? (connectedAt ? secondsBetween(connectedAt, at) : 0);
  return { ...moved, endedAt: at, durationSeconds, endedBy: 'system' };
}

/**
 * A provider's report on a call: the call its id names (the guard, per connection) moves by the seed's
 * rules, or is created in `conversation` (inbound: started by the contact; outbound we did not start
 * here: by `system`) already at the reported status. Late reports never move a call back: a transition
 * the rules do not allow, or a Twilio sequence number not above the last one, changes nothing.
 * Emits `call.started`, `call.status_changed` and `call.ended` as a user's changes do.
 */
export async function recordProviderCall(
  deps: CoreDeps,
  caller: CallerContext,
  conversation: ConversationItem | (() => Promise<ConversationItem>),
  report: ProviderCallReport,
): Promise<{ call: Call; outcome: ProviderCallOutcome }> {
  const { workspaceId } = caller;
  const at = report.at ?? deps.clock.nowIso();
  const found = await findProviderCall(deps, workspaceId, report.connectionId, report.providerCallId);
  if (!found) {
    const target = typeof conversation === 'function' ? await conversation() : conversation;
    return { call: await createProviderCall(deps, caller, target, report, at), outcome: 'created' };
  }
  const before = found.item;
  const sequence = lastSequence(before);
  if (report.sequence !== null && sequence !== null && report.sequence <= sequence) {
    return { call: toCall(before), outcome: 'unchanged' };
  }
  if (before.status === report.status || !nextStatuses[before.status].includes(report.status)) {
    return { call: toCall(before), outcome: 'unchanged' };
  }
  const after: CallItem = { ...movedByProvider(before, report, at), version: before.version + 1, updatedAt: deps.clock.nowIso() };
  const { data: conv } = await deps.db.entities.conversation.get({ workspaceId, conversationId: found.conversationId }).go({ consistent: true });
  const event = statusEvent(deps, caller, before, after, conv ? aboutOf(conv as ConversationItem) : {});
  const putCall = (tx: TxEntities) =>
    tx.call
      .put(after)
      .where((attr, { eq }) => eq(attr.version, before.version))
      .commit();
  if (isFinal(after.status) && conv) {
    await commitConversation(
      deps,
      conv as ConversationItem,
      { after: touched(conv as ConversationItem, after.updatedAt), events: [event], extraOps: (tx) => [putCall(tx)] },
      callChangedMeanwhile,
    );
  } else {
    await writeTransaction(deps.db, (tx) => [putCall(tx), appendEvent(tx, event)], callChangedMeanwhile);
  }
  return { call: toCall(after), outcome: 'applied' };
}

function statusEvent(deps: CoreDeps, caller: CallerContext, before: CallItem, after: CallItem, about: { contactId?: string }) {
  const base = { conversationId: after.conversationId, channel: after.channel };
  return after.status === 'ended'
    ? newEvent(deps, caller, 'call.ended', callRef(after.callId), {
        ...base,
        kind: after.kind,
        from: before.status,
        durationSeconds: after.durationSeconds ?? 0,
      }, about)
    : newEvent(deps, caller, 'call.status_changed', callRef(after.callId), { ...base, from: before.status, to: after.status }, about);
}

async function createProviderCall(
  deps: CoreDeps,
  caller: CallerContext,
  conversation: ConversationItem,
  report: ProviderCallReport,
  at: string,
): Promise<Call> {
  const now = deps.clock.nowIso();
  const started: CallItem = {
    workspaceId: caller.workspaceId,
    conversationId: conversation.conversationId,
    callId: deps.newId('call'),
    ...(report.direction === 'inbound' && conversation.contactId
      ? { startedByContactId: conversation.contactId }
      : { startedByUserId: 'system' }),
    channel: callChannelOf(conversation, undefined),
    kind: 'voice',
    status: 'initiated',
    startedAt: at,
    payload: providerPayload(undefined, report),
    version: 1,
    createdAt: now,
    updatedAt: now,
  };
  const item = report.status === 'initiated' ? started : movedByProvider(started, report, at);
  const about = aboutOf(conversation);
  const events = [
    newEvent(deps, caller, 'call.started', callRef(item.callId), {
      conversationId: item.conversationId,
      channel: item.channel,
      kind: item.kind,
      startedByUserId: item.startedByUserId ?? null,
      startedByContactId: item.startedByContactId ?? null,
    }, about),
    ...(item.status === 'initiated' ? [] : [statusEvent(deps, caller, started, item, about)]),
  ];
  await commitConversation(
    deps,
    conversation,
    {
      after: touched(conversation, now),
      events,
      extraOps: (tx) => [
        tx.call.create(item).commit(),
        claimGuard(
          tx,
          providerCallGuard(caller.workspaceId, report.connectionId, report.providerCallId),
          `${item.conversationId}/${item.callId}`,
          now,
        ),
      ],
    },
    // Another report of the same call created it meanwhile: run again, it is then found.
    callChangedMeanwhile,
  );
  return toCall(item);
}

// ---------------------------------------------------------------------------------------------
// Calls we place through a provider (domain/channels/calls/place-call.service.ts)

/** What a placed call keeps on its payload (`payload.dial`): where it went, through what, and the provider's id. */
export interface PlacedCallDial {
  connectionId: string;
  to: string;
  agentPhone: string;
  providerCallId: string | null;
  error: { code: string; message: string } | null;
}

const dialOf = (item: CallItem) => item.payload?.dial as PlacedCallDial | undefined;

/**
 * A call a user places: written `initiated` (with `call.started`) before the provider is asked, so the
 * provider's callbacks, which name it by our reference, always find it.
 */
export async function startPlacedCall(
  deps: CoreDeps,
  caller: CallerContext,
  conversation: ConversationItem,
  dial: Omit<PlacedCallDial, 'providerCallId' | 'error'>,
): Promise<Call> {
  return createCall(deps, caller, conversation, { channel: 'phone', kind: 'voice', payload: { dial: { ...dial, providerCallId: null, error: null } } }, {
    startedByUserId: caller.userId,
  });
}

/**
 * The provider's id for a call we placed, from its answer or from a status callback that named the call
 * by our reference: the guard that finds the call by that id is written with the id on the call. True
 * when the call answers to this id now (the first id linked wins; the call must have been placed through
 * this connection).
 */
export async function linkPlacedCall(
  deps: CoreDeps,
  key: { workspaceId: string; conversationId: string; callId: string },
  connectionId: string,
  providerCallId: string,
): Promise<boolean> {
  for (let run = 1; run <= 3; run += 1) {
    const item = await findCall(deps, key.workspaceId, key.conversationId, key.callId, true);
    const dial = item ? dialOf(item) : undefined;
    if (!item || !dial || dial.connectionId !== connectionId) return false;
    if (dial.providerCallId) return dial.providerCallId === providerCallId;
    const now = deps.clock.nowIso();
    try {
      await writeTransaction(
        deps.db,
        (tx) => [
          claimGuard(tx, providerCallGuard(key.workspaceId, connectionId, providerCallId), `${key.conversationId}/${key.callId}`, now),
          tx.call
            .patch(key)
            .set({ payload: { ...item.payload, dial: { ...dial, providerCallId } }, version: item.version + 1, updatedAt: now })
            .where((attr, { eq }) => eq(attr.version, item.version))
            .commit(),
        ],
        callChangedMeanwhile,
      );
      return true;
    } catch (error) {
      if (!(error instanceof LostRace)) throw error;
    }
  }
  return false;
}

/** The provider refused to place the call: it fails (by the system) with the provider's error. */
export async function failPlacedCall(
  deps: CoreDeps,
  key: { workspaceId: string; conversationId: string; callId: string },
  error: { code: string; message: string },
): Promise<Call> {
  const system = systemActor(key.workspaceId);
  const [conversation, before] = await Promise.all([
    findConversation(deps, key.workspaceId, key.conversationId, true),
    findCall(deps, key.workspaceId, key.conversationId, key.callId, true),
  ]);
  if (!conversation || !before) throw notFound('Call');
  if (isFinal(before.status)) return toCall(before);
  const at = deps.clock.nowIso();
  const after: CallItem = {
    ...before,
    status: 'failed',
    endedAt: at,
    durationSeconds: 0,
    endedBy: 'system',
    payload: { ...before.payload, dial: { ...dialOf(before), error } },
    version: before.version + 1,
    updatedAt: at,
  };
  await commitConversation(
    deps,
    conversation,
    {
      after: touched(conversation, at),
      events: [statusEvent(deps, system, before, after, aboutOf(conversation))],
      extraOps: (tx) => [
        tx.call
          .put(after)
          .where((attr, { eq }) => eq(attr.version, before.version))
          .commit(),
      ],
    },
    callChangedMeanwhile,
  );
  return toCall(after);
}
