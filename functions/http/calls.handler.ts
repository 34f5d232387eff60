import { endCall, getCall, listCalls, startCall, updateCallStatus } from '../../domain/inbox/calls.service';
import { createHttpHandler } from './http-handler';
import { callsRoutes } from './routes/calls.routes';

export const handler = createHttpHandler('calls', callsRoutes, {
  listCalls: ({ caller, params, query }, deps) => listCalls(deps, caller, params.conversationId, query),
  startCall: ({ caller, params, body }, deps) => startCall(deps, caller, params.conversationId, body),
  getCall: ({ caller, params }, deps) => getCall(deps, caller, params.conversationId, params.callId),
  updateCallStatus: ({ caller, params, body, expectedVersion }, deps) =>
    updateCallStatus(deps, caller, params.conversationId, params.callId, body, expectedVersion),
  endCall: ({ caller, params, body, expectedVersion }, deps) =>
    endCall(deps, caller, params.conversationId, params.callId, body, expectedVersion),
});
