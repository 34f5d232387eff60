/**
 * Applies a verified webhook's events to the connection's workspace (the connection alone decides the
 * workspace: nothing in a payload names one): messages into the inbox, edits onto the messages they
 * change, delivery statuses onto deliveries, calls onto calls, SNS subscription confirmations. Every
 * apply is idempotent: a message is stored once by its external id, statuses are monotonic, an edit
 * with the same text and a call report already applied change nothing.
 */
import { channelScope } from '../../contacts/contact-record';
import type { ChannelKind } from '../../contacts/channels';
import { createContactInput } from '../../contacts/contacts.schemas';
import { createContact } from '../../contacts/contacts.service';
import { findProviderCall, linkPlacedCall, recordProviderCall } from '../../inbox/calls.service';
import type { ConversationItem } from '../../inbox/conversation-record';
import { findConversation, openConversation } from '../../inbox/conversations.service';
import {
  editInboundMessage,
  externalIdGuard,
  ingestMessage,
  type InboundMessageSpec,
  type InboundThread,
} from '../../inbox/messages.service';
import { systemActor, type CallerContext } from '../../shared/context';
import type { CoreDeps } from '../../shared/deps';
import { isConflict, lostRace } from '../../shared/errors';
import type { BlobStore, SecretSealer } from '../../shared/ports';
import type { TxEntities } from '../../store/db';
import { retryLostRaces } from '../../shared/retry';
import type { ChannelConnectionItem } from '../connections/channel-connections.service';
import { applyProviderStatus } from '../deliveries/deliveries.service';
import type {
  CallEvent,
  InboundEditEvent,
  InboundEvent,
  InboundMessageEvent,
  InboundParty,
  MediaReference,
  SnsSubscriptionEvent,
} from '../inbound-events';
import type { CertificateSource } from '../sns-message';
import { applyChannelBlock } from './channel-blocks';
import { fetchMediaJobOp } from './fetch-media.job';
import { applyNumberChange } from './number-change';
import { keepWhatsAppValues } from './whatsapp-values';
import { shareNumberAcrossChannels } from './shared-number';
import { groupThread, groupThreadGuard, groupThreadOp, recordGroupMigration } from './group-threads';
import { planMailFiles, storeMailFiles, type MailFilePlan, type PlannedMailFile } from './mail-attachments';
import { findThread, mailIdOp, parseMail, readMime, type ParsedMail } from './inbound-email';

/** Visits an SNS `SubscribeURL` (a GET) to confirm a subscription. */
export interface SubscriptionConfirmer {
  confirm(subscribeUrl: string): Promise<void>;
}

/** Where the receiving logic writes what it refused or skipped: reasons and ids, never a secret or a body. */
export interface WebhookLog {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** What receiving webhooks needs besides the table. */
export type InboundDeps = CoreDeps & {
  sealer: SecretSealer;
  /** SNS signing certificates (cached). */
  certificates: CertificateSource;
  subscriptions: SubscriptionConfirmer;
  /** The bucket SES's receipt rule writes inbound mail into; absent: such mail fails (and is retried). */
  blobs?: BlobStore;
  log: WebhookLog;
};

export type ApplyOutcome =
  /** A new message, edit, call or status change was stored. */
  | 'stored'
  /** Already stored: nothing changed. */
  | 'duplicate'
  /** A status for a message whose send has not recorded the provider's id yet: kept, applied later. */
  | 'pending'
  /** An SNS subscription was confirmed. */
  | 'confirmed'
  | 'ignored';

/** The conversation channel a call runs on: phone calls sit with the contact's SMS thread. */
const callConversationChannel = { phone: 'sms', whatsapp: 'whatsapp' } as const;

export async function applyInboundEvent(
  deps: InboundDeps,
  connection: ChannelConnectionItem,
  event: InboundEvent,
): Promise<ApplyOutcome> {
  switch (event.type) {
    case 'message':
      return applyMessage(deps, connection, event);
    case 'message_edit':
      return applyEdit(deps, connection, event);
    case 'delivery_status': {
      const outcome = await applyProviderStatus(deps, connection, event);
      return outcome === 'applied' ? 'stored' : outcome === 'pending' ? 'pending' : 'duplicate';
    }
    case 'call':
      return applyCall(deps, connection, event);
    case 'sns_subscription':
      return applySubscription(deps, connection, event);
    case 'chat_migrated':
      await recordGroupMigration(deps, connection.workspaceId, connection.connectionId, event);
      return 'stored';
    case 'channel_block':
      return applyChannelBlock(deps, connection.workspaceId, connection.connectionId, event);
    case 'ignored':
      deps.log.info('Webhook item ignored', {
        connectionId: connection.connectionId,
        provider: event.provider,
        reason: event.reason,
        detail: event.detail,
      });
      return 'ignored';
  }
}

/** The provider's message id as stored: prefixed by the connection, so two connections never collide. */
const externalIdOf = (connection: ChannelConnectionItem, providerMessageId: string) =>
  `${connection.connectionId}:${providerMessageId}`;

const senderOf = (party: InboundParty): InboundMessageSpec['sender'] => ({
  kind: party.kind,
  value: party.value,
  raw: party.value,
  alternateValues: party.alternateValues,
  name: party.name,
});

/** The message a reply answers: a contact's earlier message (its external id), or one we sent (the provider's id). */
async function repliedMessage(
  deps: CoreDeps,
  connection: ChannelConnectionItem,
  channel: InboundMessageEvent['channel'],
  providerMessageId: string,
) {
  const { workspaceId, connectionId } = connection;
  const [{ data: guard }, { data: ref }] = await Promise.all([
    deps.db.entities.uniqueGuard
      .get(externalIdGuard(workspaceId, channel, externalIdOf(connection, providerMessageId)))
      .go({ consistent: true }),
    deps.db.entities.providerMessageRef.get({ workspaceId, connectionId, providerMessageId }).go(),
  ]);
  const [conversationId = null, messageId = null] = guard ? guard.ownerId.split('/') : ref ? [ref.conversationId, ref.messageId] : [];
  return { providerMessageId, conversationId, messageId };
}

async function applyMessage(deps: InboundDeps, connection: ChannelConnectionItem, event: InboundMessageEvent): Promise<ApplyOutcome> {
  const caller = systemActor(connection.workspaceId);
  let body = event.text;
  let target: InboundThread = { thread: 'latest' };
  let email: Record<string, unknown> | undefined;
  let extraOps: InboundMessageSpec['extraOps'];
  let sender = senderOf(event.from);
  let mail: ParsedMail | undefined;
  let mailFiles: MailFilePlan = { files: [], skipped: 0 };
  if (event.email) {
    mail = await parseMail(await readMime(deps.blobs, event.email), event.email);
    if (mail.deliveryReport) {
      // A bounce that reached the inbound address: SES reports our mail's bounces as bounce events on
      // its delivery, and a mail server is no contact to open a conversation with.
      deps.log.info('Webhook item ignored', {
        connectionId: connection.connectionId,
        provider: event.provider,
        reason: 'delivery_report',
        detail: `A delivery status report from ${event.from.value}`,
      });
      return 'ignored';
    }
    body = mail.text;
    // The MIME's own From name is decoded (`=?windows-1251?B?...?=` in the header is a name in Cyrillic).
    if (mail.fromName) sender = { ...sender, name: mail.fromName };
    if (mail.attachments.length > 0 && !deps.blobs) {
      deps.log.warn('Mail files not kept: no bucket', { connectionId: connection.connectionId, files: mail.attachments.length });
    }
    mailFiles = deps.blobs ? planMailFiles(deps, mail.attachments) : { files: [], skipped: mail.attachments.length };
    // A conversation's subject is at most 300 characters (conversations.schemas).
    const subject = mail.subject?.trim().slice(0, 300) || undefined;
    const thread = await findThread(deps, connection.workspaceId, mail, [...event.to, ...event.email.to, ...event.email.cc]);
    target = thread ? { thread: 'existing', conversationId: thread.conversationId, subject } : { thread: 'new', subject };
    email = {
      messageIdHeader: mail.messageIdHeader,
      inReplyTo: mail.inReplyTo,
      references: mail.references,
      subject: mail.subject,
      threadedBy: thread?.by ?? null,
      ...(mail.autoSubmitted ? { autoSubmitted: mail.autoSubmitted } : {}),
      ...(mail.precedence ? { precedence: mail.precedence } : {}),
      // The ids the files are attached under, so a retry attaches the same ones.
      ...(mailFiles.files.length > 0 ? { attachments: mailFiles.files } : {}),
      ...(mailFiles.skipped > 0 ? { skippedFiles: mailFiles.skipped } : {}),
    };
    const messageIdHeader = mail.messageIdHeader;
    if (messageIdHeader) {
      const at = deps.clock.nowIso();
      extraOps = (tx, ref) => [mailIdOp(tx, connection.workspaceId, messageIdHeader, ref.conversationId, at)];
    }
  }
  if (event.groupChat) {
    const key = groupThreadGuard(connection.workspaceId, connection.connectionId, event.groupChat, event.from.value);
    target = await groupThread(deps, key, event.groupChat);
    const at = deps.clock.nowIso();
    extraOps = (tx, ref) => [groupThreadOp(tx, key, ref.conversationId, at)];
  }
  const replyTo = event.replyToProviderMessageId
    ? await repliedMessage(deps, connection, event.channel, event.replyToProviderMessageId)
    : undefined;
  const payload: Record<string, unknown> = {
    provider: {
      kind: event.provider,
      connectionId: connection.connectionId,
      messageId: event.providerMessageId,
      ...(event.chatId ? { chatId: event.chatId } : {}),
    },
    ...(event.media.length > 0 ? { media: event.media } : {}),
    ...(replyTo ? { replyTo } : {}),
    ...(event.referral ? { referral: event.referral } : {}),
    ...(event.interactive ? { interactive: event.interactive } : {}),
    ...(event.original ? { original: event.original } : {}),
    ...(email ? { email } : {}),
  };
  // The files are fetched into S3 by a job written with the message (its attachment ids chosen now).
  const media = event.media.length > 0 ? mediaJob(deps, event.media) : undefined;
  const emailOps = extraOps;
  if (media) {
    extraOps = (tx, ref) => [
      ...(emailOps?.(tx, ref) ?? []),
      fetchMediaJobOp(tx, deps, caller, media.jobId, { connectionId: connection.connectionId, ...ref, files: media.files }),
    ];
  }
  const spec: InboundMessageSpec = {
    channel: event.channel,
    sender,
    externalId: externalIdOf(connection, event.providerMessageId),
    body,
    messageKind: event.media.length > 0 || mailFiles.files.length > 0 ? 'media' : 'text',
    payload,
    ...(event.sentAt ? { receivedAt: event.sentAt } : {}),
    target,
    ...(extraOps ? { extraOps } : {}),
  };
  // A number a contact holds on the other channel (SMS, WhatsApp) finds them: it is added to them first.
  await shareNumberAcrossChannels(deps, connection.workspaceId, event.from);
  const { result, replayed } = await retryLostRaces(() => ingestMessage(deps, caller, spec));
  // Also on a repeat: an earlier attempt may have stored the message and stopped before this.
  // A WhatsApp sender's number and BSUID both stay on their contact, whichever found it.
  if (event.channel === 'whatsapp') await keepWhatsAppValues(deps, connection.workspaceId, result.contactId, event.from);
  if (event.numberChange) {
    await applyNumberChange(deps, connection.workspaceId, result.contactId, event.numberChange.value, {
      conversationId: result.conversationId,
      messageId: result.message.id,
    });
  }
  if (mail && deps.blobs) {
    // A repeat finishes what an earlier attempt left: the files the stored message planned.
    const planned = ((result.message.payload?.email as { attachments?: PlannedMailFile[] } | undefined)?.attachments ?? []);
    if (planned.length > 0) {
      await storeMailFiles(
        { ...deps, blobs: deps.blobs },
        connection.workspaceId,
        { conversationId: result.conversationId, messageId: result.message.id, attachments: result.message.attachments },
        planned,
        mail.attachments,
      );
    }
  }
  return replayed ? 'duplicate' : 'stored';
}

const mediaJob = (deps: CoreDeps, media: MediaReference[]) => ({
  jobId: deps.newId('job'),
  files: media.map((reference) => ({ attachmentId: deps.newId('att'), media: reference })),
});

async function applyEdit(deps: InboundDeps, connection: ChannelConnectionItem, event: InboundEditEvent): Promise<ApplyOutcome> {
  const caller = systemActor(connection.workspaceId);
  const externalId = externalIdOf(connection, event.providerMessageId);
  const { outcome } = await retryLostRaces(() =>
    editInboundMessage(deps, caller, { channel: event.channel, externalId, body: event.text, editedAt: event.editedAt }),
  );
  if (outcome === 'applied') return 'stored';
  if (outcome === 'unchanged') return 'duplicate';
  // An edit of a message we never got (it predates the connection, or was lost): kept as a message,
  // in the group's thread when it was written in a group.
  const key = event.groupChat
    ? groupThreadGuard(connection.workspaceId, connection.connectionId, event.groupChat, event.from.value)
    : undefined;
  const group = key && event.groupChat ? { target: await groupThread(deps, key, event.groupChat), at: deps.clock.nowIso() } : undefined;
  await shareNumberAcrossChannels(deps, connection.workspaceId, event.from);
  const { replayed } = await retryLostRaces(() =>
    ingestMessage(deps, caller, {
      channel: event.channel,
      sender: senderOf(event.from),
      externalId,
      body: event.text,
      messageKind: event.media.length > 0 ? 'media' : 'text',
      payload: {
        provider: {
          kind: event.provider,
          connectionId: connection.connectionId,
          messageId: event.providerMessageId,
          // Where a reply goes (channel-routing reads it), as on a message received unedited.
          ...(event.chatId ? { chatId: event.chatId } : {}),
        },
        edited: true,
        ...(event.media.length > 0 ? { media: event.media } : {}),
      },
      ...(event.editedAt ? { receivedAt: event.editedAt } : {}),
      ...(key && group
        ? { target: group.target, extraOps: (tx: TxEntities, ref: { conversationId: string }) => [groupThreadOp(tx, key, ref.conversationId, group.at)] }
        : {}),
    }),
  );
  return replayed ? 'duplicate' : 'stored';
}

/** The contact a party is (its channel value, or an alternate), created when nobody is. */
async function contactOf(deps: CoreDeps, caller: CallerContext, party: InboundParty): Promise<string> {
  await shareNumberAcrossChannels(deps, caller.workspaceId, party);
  const scope = channelScope(party.kind as ChannelKind);
  const values = [party.value, ...party.alternateValues];
  const { data } = await deps.db.entities.uniqueGuard
    .get(values.map((value) => ({ workspaceId: caller.workspaceId, scope, value })))
    .go({ consistent: true });
  const owner = values.map((value) => data.find((guard) => guard.value === value)?.ownerId).find(Boolean);
  if (owner) return owner;
  try {
    const contact = await createContact(
      deps,
      caller,
      createContactInput.parse({
        name: party.name ?? party.value,
        channels: values.map((value) => ({ kind: party.kind, value })),
      }),
    );
    return contact.id;
  } catch (error) {
    if (isConflict(error)) throw lostRace('The caller’s contact');
    throw error;
  }
}

async function applyCall(deps: InboundDeps, connection: ChannelConnectionItem, event: CallEvent): Promise<ApplyOutcome> {
  const caller = systemActor(connection.workspaceId);
  // A call we placed, named by our reference: its id is linked first (Twilio's answer may not be stored yet).
  if (event.callReference) {
    await linkPlacedCall(deps, { workspaceId: connection.workspaceId, ...event.callReference }, connection.connectionId, event.providerCallId);
  }
  const party = event.contact;
  if (!party && !(await findProviderCall(deps, connection.workspaceId, connection.connectionId, event.providerCallId))) {
    deps.log.info('Webhook item ignored', {
      connectionId: connection.connectionId,
      provider: event.provider,
      reason: 'unroutable_call',
      detail: 'A report on a call we do not know, without the contact’s number',
    });
    return 'ignored';
  }
  const conversation = async (): Promise<ConversationItem> => {
    if (!party) throw new Error('A call report without the contact’s number for a call we do not know');
    const contactId = await contactOf(deps, caller, party);
    const { conversation: opened } = await openConversation(deps, caller, {
      kind: 'contact',
      contactId,
      channel: callConversationChannel[event.channel],
      new: false,
    });
    return (await findConversation(deps, connection.workspaceId, opened.id, true))!;
  };
  const { outcome } = await retryLostRaces(() =>
    recordProviderCall(deps, caller, conversation, {
      connectionId: connection.connectionId,
      providerCallId: event.providerCallId,
      direction: event.direction,
      status: event.status,
      providerStatus: event.providerStatus,
      at: event.at,
      durationSeconds: event.durationSeconds,
      sequence: event.sequence,
      error: event.error,
    }),
  );
  return outcome === 'unchanged' ? 'duplicate' : 'stored';
}

async function applySubscription(
  deps: InboundDeps,
  connection: ChannelConnectionItem,
  event: SnsSubscriptionEvent,
): Promise<ApplyOutcome> {
  if (event.action === 'unsubscribed') {
    deps.log.warn('SNS reports the subscription ended', { connectionId: connection.connectionId, topicArn: event.topicArn });
    return 'ignored';
  }
  // The topic is one the connection expects (checked with the signature); the URL is SNS's (the parser).
  await deps.subscriptions.confirm(event.subscribeUrl);
  deps.log.info('SNS subscription confirmed', { connectionId: connection.connectionId, topicArn: event.topicArn });
  return 'confirmed';
}
