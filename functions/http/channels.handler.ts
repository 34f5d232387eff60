import {
  createChannelConnection,
  getChannelConnection,
  listChannelConnections,
  setChannelConnectionStatus,
  updateChannelConnection,
} from '../../domain/channels/connections/channel-connections.service';
import { getChannelAdapters, withSecretSealer } from '../shared/deps';
import type { CoreDeps } from '../../domain/shared/deps';
import { createHttpHandler } from './http-handler';

/** The sealer, the webhooks' base URL, and the providers (Telegram's setWebhook on connect). */
const connectionDeps = <D extends CoreDeps>(deps: D) => ({ ...withSecretSealer(deps), channels: getChannelAdapters() });

export const handler = createHttpHandler('channels', {
  listChannelConnections: ({ caller, query }, deps) => listChannelConnections(connectionDeps(deps), caller, query),
  createChannelConnection: ({ caller, body }, deps) => createChannelConnection(connectionDeps(deps), caller, body),
  getChannelConnection: ({ caller, params }, deps) =>
    getChannelConnection(connectionDeps(deps), caller, params.connectionId),
  updateChannelConnection: ({ caller, params, body, expectedVersion }, deps) =>
    updateChannelConnection(connectionDeps(deps), caller, params.connectionId, body, expectedVersion),
  disconnectChannelConnection: ({ caller, params, expectedVersion }, deps) =>
    setChannelConnectionStatus(connectionDeps(deps), caller, params.connectionId, 'disconnected', expectedVersion),
  reconnectChannelConnection: ({ caller, params, expectedVersion }, deps) =>
    setChannelConnectionStatus(connectionDeps(deps), caller, params.connectionId, 'active', expectedVersion),
});
