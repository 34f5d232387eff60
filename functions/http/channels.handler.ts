import {
  createChannelConnection,
  getChannelConnection,
  listChannelConnections,
  setChannelConnectionStatus,
  updateChannelConnection,
} from '../../domain/channels/connections/channel-connections.service';
import {
  createWebhook,
  deleteWebhook,
  getWebhook,
  listDeliveries,
  listWebhooks,
  redeliver,
  replayWebhook,
  rotateWebhookSecret,
  updateWebhook,
} from '../../domain/webhooks/webhooks.service';
import { getChannelAdapters, withSecretSealer, withWebhookDeps } from '../shared/deps';
import type { CoreDeps } from '../../domain/shared/deps';
import { createHttpHandler, RawResponse } from './http-handler';
import { channelsRoutes } from './routes/channels.routes';
import { webhooksRoutes } from './routes/webhooks.routes';

/** The sealer, the webhooks' base URL, and the providers (Telegram's setWebhook on connect). */
const connectionDeps = <D extends CoreDeps>(deps: D) => ({ ...withSecretSealer(deps), channels: getChannelAdapters() });

export const handler = createHttpHandler('channels', { ...channelsRoutes, ...webhooksRoutes }, {
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
  // Outbound webhooks share this function (the integrations, and the sealer's key): a function of their own
  // would cost the stack six more resources.
  listWebhooks: ({ caller, query }, deps) => listWebhooks(deps, caller, query),
  createWebhook: ({ caller, body }, deps) => createWebhook(withWebhookDeps(deps), caller, body),
  getWebhook: ({ caller, params }, deps) => getWebhook(deps, caller, params.webhookId),
  updateWebhook: ({ caller, params, body, expectedVersion }, deps) =>
    updateWebhook(withWebhookDeps(deps), caller, params.webhookId, body, expectedVersion),
  deleteWebhook: async ({ caller, params, expectedVersion }, deps) => {
    await deleteWebhook(deps, caller, params.webhookId, expectedVersion);
    return new RawResponse(204, '');
  },
  rotateWebhookSecret: ({ caller, params, expectedVersion }, deps) =>
    rotateWebhookSecret(withWebhookDeps(deps), caller, params.webhookId, expectedVersion),
  listWebhookDeliveries: ({ caller, params, query }, deps) => listDeliveries(deps, caller, params.webhookId, query),
  redeliverWebhookDelivery: ({ caller, params }, deps) => redeliver(withWebhookDeps(deps), caller, params.webhookId, params.deliveryId),
  replayWebhook: ({ caller, params, body }, deps) => replayWebhook(deps, caller, params.webhookId, body),
});
