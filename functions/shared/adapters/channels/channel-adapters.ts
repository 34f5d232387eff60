/**
 * The channel adapters (`ChannelAdapters`, domain/channels/outbound.ts) over the providers' real APIs:
 * WhatsApp Cloud API, Telegram Bot API, Twilio Messages and SES v2, each at its configured base URL
 * (the provider sandbox under `npm start` and in tests). Built once per cold start.
 */
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import type { ConnectionKind } from '../../../../domain/channels/connections/channel-connections.schemas';
import { ProviderSendError, type ChannelAdapters, type ChannelSender } from '../../../../domain/channels/outbound';
import { providerDefaults, type Config } from '../../config';
import { createProviderHttp } from './provider-http';
import { createSesEmailSender } from './ses-email-sender';
import { createTelegramBotSender, fetchTelegramFile, setTelegramWebhook } from './telegram-bot-sender';
import { createTwilioSender, fetchTwilioMedia, placeTwilioCall } from './twilio-sender';
import { createWhatsappCloudSender, fetchWhatsappMedia } from './whatsapp-cloud-sender';

export type ChannelAdaptersConfig = Pick<
  Config,
  | 'region'
  | 'sesEndpoint'
  | 'sesChannelEndpoint'
  | 'sesConfigurationSet'
  | 'whatsappApiBaseUrl'
  | 'telegramApiBaseUrl'
  | 'twilioApiBaseUrl'
  | 'providerTimeoutMs'
>;

export interface ChannelAdaptersOverrides {
  /** The SES client (tests); by default one with no SDK retries, at `sesChannelEndpoint` (else `sesEndpoint`) when set. */
  sesClient?: SESv2Client;
  fetch?: typeof fetch;
  now?: () => number;
}

/**
 * SES through its own client: one attempt per send (the `deliver_message` job decides on retries, and
 * an SDK retry after a lost answer would send the mail twice), at the emulator's endpoint locally.
 */
const sesClientFor = async (config: ChannelAdaptersConfig) =>
  // Imported here, not at cold start: a static import would load the SES client in every function carrying the adapters.
  new (await import('@aws-sdk/client-sesv2')).SESv2Client({
    region: config.region,
    maxAttempts: 1,
    ...((config.sesChannelEndpoint ?? config.sesEndpoint)
      ? { endpoint: config.sesChannelEndpoint ?? config.sesEndpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
      : {}),
  });

export function createChannelAdapters(config: ChannelAdaptersConfig, overrides: ChannelAdaptersOverrides = {}): ChannelAdapters {
  const timeoutMs = config.providerTimeoutMs ?? providerDefaults.providerTimeoutMs;
  const http = createProviderHttp({ timeoutMs, ...(overrides.fetch ? { fetch: overrides.fetch } : {}), ...(overrides.now ? { now: overrides.now } : {}) });
  const whatsapp = { http, baseUrl: config.whatsappApiBaseUrl ?? providerDefaults.whatsappApiBaseUrl };
  const telegram = { http, baseUrl: config.telegramApiBaseUrl ?? providerDefaults.telegramApiBaseUrl };
  const twilio = { http, baseUrl: config.twilioApiBaseUrl ?? providerDefaults.twilioApiBaseUrl };
  const senders: Record<ConnectionKind, ChannelSender> = {
    whatsapp: createWhatsappCloudSender(whatsapp),
    telegram: createTelegramBotSender(telegram),
    sms: createTwilioSender(twilio),
    email: createSesEmailSender({
      client: overrides.sesClient ?? sesClientFor(config),
      http,
      timeoutMs,
      ...(config.sesConfigurationSet ? { configurationSet: config.sesConfigurationSet } : {}),
    }),
  };

  return {
    sender: (kind) => senders[kind],
    telegramSetWebhook: (connection, webhookUrl) => setTelegramWebhook(telegram, connection, webhookUrl),
    async placeCall(connection, call) {
      if (connection.kind !== 'sms') {
        throw new ProviderSendError('rejected', 'calls_unsupported', `A ${connection.kind} connection places no phone calls`);
      }
      return placeTwilioCall(twilio, connection, call);
    },
    async fetchMedia(connection, media, maxBytes) {
      const file =
        connection.kind === 'whatsapp'
          ? await fetchWhatsappMedia(whatsapp, connection, media, maxBytes)
          : connection.kind === 'telegram'
            ? await fetchTelegramFile(telegram, connection, media, maxBytes)
            : connection.kind === 'sms'
              ? await fetchTwilioMedia(twilio, connection, media, maxBytes)
              : unsupported();
      return { bytes: file.bytes, mimeType: media.mimeType ?? file.mimeType, fileName: media.fileName ?? file.fileName };
    },
  };
}

// Inbound mail's files are parts of its MIME message (stored in S3 by the receipt rule), not provider media.
const unsupported = (): never => {
  throw new ProviderSendError('rejected', 'unsupported', 'Email attachments are read from the stored MIME message, not fetched');
};
