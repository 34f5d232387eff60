import {
  addConversationScore,
  addParticipant,
  assignConversation,
  claimConversation,
  getConversation,
  inboxCounts,
  listConversationQualifications,
  listConversations,
  listConversationScores,
  openConversation,
  releaseConversation,
  removeParticipant,
  setConversationQualification,
  setConversationStatus,
} from '../../domain/inbox/conversations.service';
import {
  getMessage,
  ingestInbound,
  listMessages,
  listReceipts,
  listUnread,
  markRead,
  sendMessage,
  sendToContact,
  unreadCounts,
} from '../../domain/inbox/messages.service';
import { placePhoneCall } from '../../domain/channels/calls/place-call.service';
import { shareIngestedNumber } from '../../domain/channels/inbound/shared-number';
import { retryMessageDelivery } from '../../domain/channels/deliveries/delivery-retry.service';
import { withReplyWindow } from '../../domain/inbox/conversation-record';
import { prepareAttachments } from '../../domain/inbox/attachments.service';
import { requireManager } from '../../domain/shared/context';
import { startConversationClassification, startSegmentClassification } from '../../domain/qualification/classify.service';
import { withBlobStore, withDeliveryDeps } from '../shared/deps';
import { createHttpHandler, RawResponse } from './http-handler';
import { conversationsRoutes } from './routes/conversations.routes';
import { messagesRoutes } from './routes/messages.routes';
import { callsRoutes } from './routes/calls.routes';

const json = (status: number, body: unknown) =>
  new RawResponse(status, JSON.stringify(body), { 'content-type': 'application/json' });

export const handler = createHttpHandler('inbox', { ...conversationsRoutes, ...messagesRoutes, ...callsRoutes }, {
  // A list entry's copy of a conversation says whether WhatsApp's window was open when it was written: say it as of now.
  listConversations: async ({ caller, query }, deps) => {
    const page = await listConversations(deps, caller, query);
    return { ...page, items: page.items.map((item) => withReplyWindow(item, deps.clock.nowIso())) };
  },
  openConversation: async ({ caller, body }, deps) => {
    const opened = await openConversation(deps, caller, body);
    const { created } = opened;
    const conversation = withReplyWindow(opened.conversation, deps.clock.nowIso());
    if (created) return conversation;
    return new RawResponse(200, JSON.stringify(conversation), {
      'content-type': 'application/json',
      etag: `"${conversation.version}"`,
    });
  },
  listMessages: ({ caller, params, query }, deps) => listMessages(deps, caller, params.conversationId, query),
  sendMessage: ({ caller, params, body }, deps) =>
    sendMessage(deps, caller, params.conversationId, body, {
      prepareAttachments: (ids) => prepareAttachments(withBlobStore(deps), caller, ids),
    }),
  placePhoneCall: ({ caller, params, body }, deps) =>
    placePhoneCall(withDeliveryDeps(withBlobStore(deps)), caller, params.conversationId, body),
  retryMessageDelivery: async ({ caller, params }, deps) =>
    json(200, await retryMessageDelivery(withDeliveryDeps(withBlobStore(deps)), caller, params.conversationId, params.messageId)),
  sendContactMessage: ({ caller, params, body }, deps) =>
    sendToContact(deps, caller, params.contactId, body, {
      prepareAttachments: (ids) => prepareAttachments(withBlobStore(deps), caller, ids),
    }),
  getMessage: ({ caller, params }, deps) => getMessage(deps, caller, params.conversationId, params.messageId),
  listMessageReceipts: ({ caller, params }, deps) => listReceipts(deps, caller, params.conversationId, params.messageId),
  ingestInboundMessage: async ({ caller, body }, deps) => {
    requireManager(caller, 'bring in inbound messages');
    await shareIngestedNumber(deps, caller.workspaceId, body);
    const { result, replayed } = await ingestInbound(deps, caller, body);
    return replayed ? json(200, result) : result;
  },
  listUnreadMessages: ({ caller, query }, deps) => listUnread(deps, caller, query),
  getUnreadCounts: ({ caller, query }, deps) => unreadCounts(deps, caller, query),
  markMessagesRead: ({ caller, body }, deps) => markRead(deps, caller, body),
  getInboxCounts: ({ caller }, deps) => inboxCounts(deps, caller),
  getConversation: async ({ caller, params }, deps) =>
    withReplyWindow(await getConversation(deps, caller, params.conversationId), deps.clock.nowIso()),
  setConversationStatus: ({ caller, params, body, expectedVersion }, deps) =>
    setConversationStatus(deps, caller, params.conversationId, body, expectedVersion),
  claimConversation: ({ caller, params, expectedVersion }, deps) =>
    claimConversation(deps, caller, params.conversationId, expectedVersion),
  releaseConversation: ({ caller, params, expectedVersion }, deps) =>
    releaseConversation(deps, caller, params.conversationId, expectedVersion),
  assignConversation: ({ caller, params, body, expectedVersion }, deps) =>
    assignConversation(deps, caller, params.conversationId, body.assigneeId, expectedVersion),
  addConversationParticipant: ({ caller, params, body, expectedVersion }, deps) =>
    addParticipant(deps, caller, params.conversationId, body, expectedVersion),
  removeConversationParticipant: ({ caller, params, expectedVersion }, deps) =>
    removeParticipant(deps, caller, params.conversationId, params.participantId, expectedVersion),
  addConversationScore: ({ caller, params, body }, deps) => addConversationScore(deps, caller, params.conversationId, body),
  listConversationScores: ({ caller, params, query }, deps) =>
    listConversationScores(deps, caller, params.conversationId, query),
  setConversationQualification: async ({ caller, params, body }, deps) =>
    (await setConversationQualification(deps, caller, params.conversationId, body)).qualification,
  listConversationQualifications: ({ caller, params, query }, deps) =>
    listConversationQualifications(deps, caller, params.conversationId, query),
  classifyConversation: ({ caller, params, body }, deps) => startConversationClassification(deps, caller, params.conversationId, body),
  classifySegmentConversations: ({ caller, body }, deps) => startSegmentClassification(deps, caller, body),
});
