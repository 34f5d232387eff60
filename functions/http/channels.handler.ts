import {
  createChannelConnection,
  getChannelConnection,
  listChannelConnections,
  setChannelConnectionStatus,
  updateChannelConnection,
} from '../../domain/channels/connections/channel-connections.service';
import { withSecretSealer } from '../shared/deps';
import { createHttpHandler } from './http-handler';

export const handler = createHttpHandler('channels', {
  listChannelConnections: ({ caller, query }, deps) => listChannelConnections(withSecretSealer(deps), caller, query),
  createChannelConnection: ({ caller, body }, deps) => createChannelConnection(withSecretSealer(deps), caller, body),
  getChannelConnection: ({ caller, params }, deps) =>
    getChannelConnection(withSecretSealer(deps), caller, params.connectionId),
  updateChannelConnection: ({ caller, params, body, expectedVersion }, deps) =>
    updateChannelConnection(withSecretSealer(deps), caller, params.connectionId, body, expectedVersion),
  disconnectChannelConnection: ({ caller, params, expectedVersion }, deps) =>
    setChannelConnectionStatus(withSecretSealer(deps), caller, params.connectionId, 'disconnected', expectedVersion),
  reconnectChannelConnection: ({ caller, params, expectedVersion }, deps) =>
    setChannelConnectionStatus(withSecretSealer(deps), caller, params.connectionId, 'active', expectedVersion),
});
