import {
  callIdParams,
  callSchema,
  endCallInput,
  listCallsQuery,
  startCallInput,
  updateCallStatusInput,
} from '../../../domain/inbox/calls.schemas';
import { placePhoneCallInput } from '../../../domain/channels/calls/place-call.schemas';
import { conversationIdParams } from '../../../domain/inbox/conversations.schemas';
import { conversationItemLocation, pageOf, route, type RouteDefinition } from '../route-definition';

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
  placePhoneCall: route({
    location: conversationItemLocation('calls'),
    ...calls,
    // Served by the inbox function: it opens channel credentials and calls the providers.
    group: 'inbox',
    method: 'POST',
    path: '/v1/conversations/{conversationId}/phone-calls',
    summary: 'Call the contact on the phone through the workspace’s Twilio connection',
    description:
      'The contact’s number rings (`to`, one of their phone values; default: the one they last wrote from on this SMS thread, else their primary); when they answer, Twilio dials `agentPhone`, the caller’s own phone, and bridges the two, showing the connection’s number. The call is written first (`initiated`, channel `phone`, `payload.dial` with the connection, both numbers and Twilio’s call id once known), so Twilio’s progress callbacks, which name it, move it: `ringing`, `connected`, `ended` (with Twilio’s duration), or `missed` (busy, no answer) and `failed`. Twilio refusing the call fails it at once with Twilio’s code and message in `payload.dial.error` (still a 201: the call happened and failed); no answer from Twilio in time leaves it `initiated` for its callbacks. Who may reply may call. Appends `call.started`, on the contact’s timeline.',
    creates: true,
    params: conversationIdParams,
    body: placePhoneCallInput,
    refusals: {
      403: replyRule,
      422: '`unprocessable` with a `reason`, nothing written: `not_a_contact_conversation`, `invalid_agent_phone`, `contact_suppressed`, `no_channel_value` (the contact has no phone number), `not_a_contact_value` (`to` is not one of theirs), `channel_not_connected` (no active SMS connection), `connection_not_usable`',
    },
    response: { status: 201, description: 'The call: `initiated` with Twilio’s call id, or `failed` with Twilio’s refusal', schema: callSchema },
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
