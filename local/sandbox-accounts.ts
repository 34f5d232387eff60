/**
 * `npm start` only: tells the provider sandbox about each channel connection, as a person would set up
 * each provider's console (the WhatsApp app's webhook and app secret, the Twilio number's SMS and voice
 * URLs, the SES topic's HTTPS subscriber), so sends are accepted and the sandbox's callbacks reach the
 * connection's webhook, signed with its credentials. Connections found at start are registered at once;
 * later ones when the stream shows them written (a local-only stream consumer).
 */
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import {
  openConnectionSecret,
  webhookPath,
  type ChannelConnectionItem,
} from '../domain/channels/connections/channel-connections.service';
import type { CoreDeps } from '../domain/shared/deps';
import type { SecretSealer } from '../domain/shared/ports';
import type { StreamConsumerDefinition } from '../functions/streams/stream-consumers';

/** The topic the sandbox "publishes" SES events and inbound mail to, when a connection names none. */
export const localSesTopicArn = 'arn:aws:sns:us-east-1:000000000000:crm-local-channel-mail';

export interface SandboxRegistrar {
  sandboxUrl: string;
  hooksBaseUrl: string;
  sealer: () => SecretSealer;
}

/** What the sandbox is told for one connection (null: nothing to register, e.g. a secret missing). */
export async function sandboxAccountFor(registrar: SandboxRegistrar, item: ChannelConnectionItem) {
  const secret = (name: string) => openConnectionSecret({ sealer: registrar.sealer() }, item, name);
  const webhookUrl = `${registrar.hooksBaseUrl}${webhookPath(item)}`;
  const settings = item.settings as Record<string, unknown>;
  switch (item.kind) {
    case 'whatsapp': {
      const [accessToken, appSecret] = await Promise.all([secret('accessToken'), secret('appSecret')]);
      if (!accessToken || !appSecret) return null;
      return { provider: 'whatsapp', phoneNumberId: settings.phoneNumberId, accessToken, appSecret, webhookUrl };
    }
    case 'sms': {
      const authToken = await secret('authToken');
      if (!authToken) return null;
      return {
        provider: 'twilio',
        accountSid: settings.accountSid,
        authToken,
        phoneNumber: settings.senderNumber,
        smsUrl: webhookUrl,
        voiceUrl: webhookUrl,
      };
    }
    case 'telegram': {
      const botToken = await secret('botToken');
      if (!botToken) return null;
      return { provider: 'telegram', botToken, ...(settings.botUsername ? { botUsername: settings.botUsername } : {}) };
    }
    case 'email': {
      const identity = String(settings.sesIdentity);
      const topics = (settings.snsTopicArns as string[] | undefined) ?? [];
      return {
        provider: 'ses',
        ...(identity.includes('@') ? { fromAddresses: [identity] } : { domain: identity, fromAddresses: [settings.fromAddress] }),
        topicArn: topics[0] ?? localSesTopicArn,
        webhookUrl,
        receiptTopicArn: topics[1] ?? topics[0] ?? localSesTopicArn,
        receiptWebhookUrl: webhookUrl,
      };
    }
    default:
      return null;
  }
}

export async function registerWithSandbox(registrar: SandboxRegistrar, item: ChannelConnectionItem): Promise<void> {
  const account = await sandboxAccountFor(registrar, item);
  if (!account) return;
  const response = await fetch(`${registrar.sandboxUrl}/_sandbox/accounts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(account),
  });
  if (!response.ok) throw new Error(`The provider sandbox refused ${item.kind} connection ${item.connectionId}: ${await response.text()}`);
}

/** Every connection already in the table (a local table: a Scan is fine). */
export async function registerExistingConnections(deps: CoreDeps, registrar: SandboxRegistrar): Promise<number> {
  let registered = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const page = await deps.db.client.send(
      new ScanCommand({
        TableName: deps.db.table,
        FilterExpression: '#entity = :entity',
        ExpressionAttributeNames: { '#entity': '__edb_e__' },
        ExpressionAttributeValues: { ':entity': 'channelConnection' },
        ExclusiveStartKey: start,
      }),
    );
    for (const item of page.Items ?? []) {
      await registerWithSandbox(registrar, item as ChannelConnectionItem);
      registered += 1;
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return registered;
}

/** The local-only stream consumer: a connection written (created, changed, reconnected) is registered again. */
export function sandboxAccountsConsumer(registrar: SandboxRegistrar) {
  const definition: StreamConsumerDefinition = {
    name: 'sandbox-accounts',
    entry: 'local/sandbox-accounts.ts',
    batchSize: 25,
    maxBatchingWindowSeconds: 0,
    retryAttempts: 3,
    bisectBatchOnError: false,
    filterPatterns: [{ eventName: ['INSERT', 'MODIFY'], dynamodb: { NewImage: { __edb_e__: { S: ['channelConnection'] } } } }],
  };
  const handler = async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
    for (const record of event.Records) {
      const image = record.dynamodb?.NewImage;
      if (!image) continue;
      await registerWithSandbox(registrar, unmarshall(image as Record<string, AttributeValue>) as ChannelConnectionItem);
    }
    return { batchItemFailures: [] };
  };
  return { definition, handler };
}
