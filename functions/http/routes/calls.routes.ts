import {
  callIdParams,
  callSchema,
  endCallInput,
  listCallsQuery,
  startCallInput,
  updateCallStatusInput,
} from '../../../domain/inbox/calls.schemas';
import { conversationIdParams } from '../../../domain/inbox/conversations.schemas';
import { route, pageOf, type RouteDefinition } from '../route-definition';

const calls = { group: 'calls', tag: 'Inbox', auth: true } as const;
const replyRule =
  'a member on a conversation assigned to another user, or anyone but its users on a direct conversation (who may reply may call)';
const transitions =
  '`invalid_transition`: the call’s status cannot go there (initiated → ringing, connected, missed, failed, ended; ringing → connected, missed, failed, ended; connected → ended, failed; ended, missed and failed are final)';

export const callsRoutes = {
  listCalls: route({
    ...calls,
    method: 'GET',
    path: '/v1/conversations/{conversationId}/calls',
    summary: 'A conversation’s calls, newest first',
    description: 'Whoever reads the conversation reads its calls. One query per page.',
    params: conversationIdParams,
    query: listCallsQuery,
    response: { status: 200, description: 'A page of calls', schema: pageOf(callSchema, 'CallPage') },
  }),
  startCall: route({
    ...calls,
    method: 'POST',
    path: '/v1/conversations/{conversationId}/calls',
    summary: 'Start a call from a conversation (the record: status `initiated`)',
    description:
      'Who may reply may call. The channel defaults to the conversation’s (`sms` and `email` threads call by `phone`); a direct conversation calls on `internal` only. The conversation’s last activity moves (its views re-sort). Appends `call.started`, on the contact’s timeline.',
    creates: true,
    versioned: true,
    params: conversationIdParams,
    body: startCallInput,
    refusals: {
      403: replyRule,
      422: '`unprocessable`: a channel other than `internal` on a direct conversation',
    },
    response: { status: 201, description: 'The new call', schema: callSchema },
  }),
  getCall: route({
    ...calls,
    method: 'GET',
    path: '/v1/conversations/{conversationId}/calls/{callId}',
    summary: 'One call',
    versioned: true,
    params: callIdParams,
    response: { status: 200, description: 'The call', schema: callSchema },
  }),
  updateCallStatus: route({
    ...calls,
    method: 'POST',
    path: '/v1/conversations/{conversationId}/calls/{callId}/status',
    summary: 'Move a call on: ringing, connected, missed, failed (or ended)',
    description:
      'Legal transitions only; the status the call has already changes nothing. `connected` sets `connectedAt`; `missed`, `failed` and `ended` are final: they set `endedAt`, `durationSeconds` (from `connectedAt`, or 0) and `endedBy`, and move the conversation’s last activity. Appends `call.status_changed` (`call.ended` for `ended`).',
    versioned: true,
    params: callIdParams,
    body: updateCallStatusInput,
    refusals: { 403: replyRule, 409: transitions },
    response: { status: 200, description: 'The call', schema: callSchema },
  }),
  endCall: route({
    ...calls,
    method: 'POST',
    path: '/v1/conversations/{conversationId}/calls/{callId}/end',
    summary: 'End a call, with its duration',
    description:
      '`durationSeconds` defaults to the time since `connectedAt` (0 when it never connected). Ending an ended call again changes nothing. The conversation’s last activity moves. Appends `call.ended`, on the contact’s timeline.',
    versioned: true,
    params: callIdParams,
    body: endCallInput,
    refusals: {
      403: replyRule,
      409: `${transitions}; also an ended call given another duration`,
      422: '`limit_exceeded`: `durationSeconds` is longer than the time since the call started',
    },
    response: { status: 200, description: 'The call', schema: callSchema },
  }),
} as const satisfies Record<string, RouteDefinition>;
