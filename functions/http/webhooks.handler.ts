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
import { withWebhookDeps } from '../shared/deps';
import { createHttpHandler, RawResponse } from './http-handler';

export const handler = createHttpHandler('webhooks', {
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
