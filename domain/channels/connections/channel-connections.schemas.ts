import * as z from 'zod';
import { recordId } from '../../shared/ids';
import { pageQuerySchema } from '../../shared/pagination';
import { responseSchema, type ResponseOf } from '../../shared/response-schema';
import type { ChannelProvider } from '../inbound-events';
import { telegramSecretTokenPattern } from '../telegram-webhook';
import { connectionKinds, connectionStatuses } from './channel-connection.entity';

export { connectionKinds, connectionStatuses };
export type ConnectionKind = (typeof connectionKinds)[number];
export type ConnectionStatus = (typeof connectionStatuses)[number];

/** The provider each kind is served by: the webhook path's `<provider>` segment. */
export const connectionProviders = {
  email: 'ses',
  whatsapp: 'whatsapp',
  telegram: 'telegram',
  sms: 'twilio',
} as const satisfies Record<ConnectionKind, ChannelProvider>;

const name = z
  .string()
  .trim()
  .min(1)
  .max(100)
  .meta({ description: 'A label for people: "Support WhatsApp"' });
const domainName = z
  .string()
  .trim()
  .toLowerCase()
  .max(253)
  .regex(/^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, 'Not a domain name');
const email = z.email().max(320).toLowerCase();
const e164 = z.string().regex(/^\+[1-9]\d{6,14}$/, 'An E.164 number: + and 7 to 15 digits');
/** A credential as the provider issued it: printable, no spaces (the KMS limit is 4 KiB). */
const credential = (what: string, pattern = /^[\x21-\x7e]{8,2048}$/) =>
  z
    .string()
    .regex(pattern, `Not ${what}`)
    .meta({ description: `${what[0]!.toUpperCase()}${what.slice(1)}. Write-only: never returned.` });

// ---------------------------------------------------------------------------------------------
// Public settings and credentials, per kind

const emailFields = {
  sesIdentity: z
    .union([email, domainName])
    .meta({ description: 'The verified SES identity mail is sent through: a domain or an address' }),
  fromAddress: email.meta({ description: 'The From address; it must belong to the identity' }),
  replyDomain: domainName.meta({
    description:
      'The domain replies come back to (`reply+<conversation>@<replyDomain>`, an SES receipt rule)',
  }),
  snsTopicArns: z
    .array(
      z.string().regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/, 'An SNS topic ARN'),
    )
    .max(5)
    .optional()
    .meta({
      description:
        'The SNS topics whose notifications this connection accepts at its webhook (SES events, inbound mail): a message from any other topic is refused',
    }),
};

/** A From address the SES identity may send: the identity itself, or an address of its domain (or a subdomain). */
export const fromAddressFitsIdentity = (fromAddress: string, sesIdentity: string) =>
  sesIdentity.includes('@')
    ? fromAddress === sesIdentity
    : fromAddress.endsWith(`@${sesIdentity}`) || fromAddress.endsWith(`.${sesIdentity}`);

export const emailSettings = z
  .strictObject(emailFields)
  .refine((settings) => fromAddressFitsIdentity(settings.fromAddress, settings.sesIdentity), {
    path: ['fromAddress'],
    message: 'The From address must be the SES identity, or an address of its domain',
  })
  .meta({ id: 'EmailConnectionSettings' });

export const whatsappSettings = z
  .strictObject({
    phoneNumberId: z
      .string()
      .regex(/^\d{5,32}$/, 'The Cloud API phone number id: digits')
      .meta({
        description: 'The WhatsApp Cloud API phone number id (Meta app dashboard, WhatsApp > API setup)',
      }),
  })
  .meta({ id: 'WhatsappConnectionSettings' });
export const whatsappSecrets = z
  .strictObject({
    accessToken: credential('a Graph API access token'),
    appSecret: credential('the Meta app secret (signs webhooks, X-Hub-Signature-256)'),
    verifyToken: credential(
      'the verify token of the webhook handshake (hub.verify_token)',
      /^[\x21-\x7e]{1,256}$/,
    ),
  })
  .meta({ id: 'WhatsappConnectionSecrets' });

export const telegramSettings = z
  .strictObject({
    botUsername: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9_]{3,31}$/, 'A bot username, without @')
      .nullable()
      .optional()
      .meta({ description: 'The bot’s @username without @, when known' }),
  })
  .meta({ id: 'TelegramConnectionSettings' });
export const telegramSecrets = z
  .strictObject({
    botToken: credential(
      'a bot token from @BotFather (`<bot id>:<secret>`)',
      /^\d{1,20}:[A-Za-z0-9_-]{20,200}$/,
    ),
    webhookSecretToken: credential(
      'the webhook secret token (X-Telegram-Bot-Api-Secret-Token)',
      telegramSecretTokenPattern,
    )
      .optional()
      .meta({
        description:
          'The webhook secret token Telegram sends back (1-256 of A-Z, a-z, 0-9, _ and -). Generated (random) when absent. Write-only: never returned.',
      }),
  })
  .meta({ id: 'TelegramConnectionSecrets' });

export const smsSettings = z
  .strictObject({
    accountSid: z.string().regex(/^AC[0-9a-fA-F]{32}$/, 'A Twilio account SID: AC and 32 hex digits'),
    senderNumber: e164.meta({ description: 'The Twilio number messages are sent from (E.164)' }),
  })
  .meta({ id: 'SmsConnectionSettings' });
export const smsSecrets = z
  .strictObject({ authToken: credential('the Twilio auth token (signs webhooks, X-Twilio-Signature)') })
  .meta({ id: 'SmsConnectionSecrets' });

/** The secrets of each kind, by name, in the order they are listed. */
export const secretNames = {
  email: [],
  whatsapp: ['accessToken', 'appSecret', 'verifyToken'],
  telegram: ['botToken', 'webhookSecretToken'],
  sms: ['authToken'],
} as const satisfies Record<ConnectionKind, readonly string[]>;
export type SecretNameOf<K extends ConnectionKind> = (typeof secretNames)[K][number];

// ---------------------------------------------------------------------------------------------
// Inputs

export const createChannelConnectionInput = z
  .discriminatedUnion('kind', [
    z
      .strictObject({ kind: z.literal('email'), name, settings: emailSettings })
      .meta({ id: 'CreateEmailConnectionInput' }),
    z
      .strictObject({
        kind: z.literal('whatsapp'),
        name,
        settings: whatsappSettings,
        secrets: whatsappSecrets,
      })
      .meta({ id: 'CreateWhatsappConnectionInput' }),
    z
      .strictObject({
        kind: z.literal('telegram'),
        name,
        settings: telegramSettings.default({}),
        secrets: telegramSecrets,
      })
      .meta({ id: 'CreateTelegramConnectionInput' }),
    z
      .strictObject({ kind: z.literal('sms'), name, settings: smsSettings, secrets: smsSecrets })
      .meta({ id: 'CreateSmsConnectionInput' }),
  ])
  .meta({
    id: 'CreateChannelConnectionInput',
    description: 'One shape per `kind`; credentials go in `secrets` and are never returned',
  });
export type CreateChannelConnectionInput = z.infer<typeof createChannelConnectionInput>;

/** Settings and secrets of an update: only the fields given change; a secret given replaces the stored one. */
const emailSettingsPatch = z.strictObject(emailFields).partial().meta({ id: 'EmailConnectionSettingsPatch' });

export const updateChannelConnectionInput = z
  .discriminatedUnion('kind', [
    z
      .strictObject({
        kind: z.literal('email'),
        name: name.optional(),
        settings: emailSettingsPatch.optional(),
      })
      .meta({ id: 'UpdateEmailConnectionInput' }),
    z
      .strictObject({
        kind: z.literal('whatsapp'),
        name: name.optional(),
        settings: whatsappSettings.partial().optional(),
        secrets: whatsappSecrets.partial().optional(),
      })
      .meta({ id: 'UpdateWhatsappConnectionInput' }),
    z
      .strictObject({
        kind: z.literal('telegram'),
        name: name.optional(),
        settings: telegramSettings.partial().optional(),
        secrets: telegramSecrets.partial().optional(),
      })
      .meta({ id: 'UpdateTelegramConnectionInput' }),
    z
      .strictObject({
        kind: z.literal('sms'),
        name: name.optional(),
        settings: smsSettings.partial().optional(),
        secrets: smsSecrets.partial().optional(),
      })
      .meta({ id: 'UpdateSmsConnectionInput' }),
  ])
  .meta({
    id: 'UpdateChannelConnectionInput',
    description:
      '`kind` must be the connection’s own. Settings given change (a Telegram `botUsername` of null clears it); each secret given replaces the stored one.',
  });
export type UpdateChannelConnectionInput = z.infer<typeof updateChannelConnectionInput>;

export const connectionIdParams = z.object({ connectionId: recordId('chc', 'a channel connection') });

export const listChannelConnectionsQuery = pageQuerySchema;
export type ListChannelConnectionsQuery = z.infer<typeof listChannelConnectionsQuery>;

// ---------------------------------------------------------------------------------------------
// Output

const secretsSet = <const N extends readonly string[]>(names: N, id: string) =>
  z
    .strictObject(
      Object.fromEntries(names.map((secret) => [secret, z.boolean()])) as { [K in N[number]]: z.ZodBoolean },
    )
    .meta({ id, description: 'Which credentials are stored (true): their values are never returned' });

export const channelConnectionSchema = responseSchema(() => {
  const connectionBase = {
    id: z.string(),
    name: z.string(),
    status: z.enum(connectionStatuses),
    webhook: z
      .object({
        path: z.string().meta({ description: '`/hooks/<provider>/<connectionId>`' }),
        url: z
          .string()
          .nullable()
          .meta({
            description:
              'The URL to give the provider (the deployment’s hooks base URL and the path); null when none is configured',
          }),
      })
      .meta({
        id: 'ChannelConnectionWebhook',
        description: 'Where the provider must send this connection’s webhooks',
      }),
    createdBy: z.string(),
    disconnectedAt: z.string().nullable(),
    version: z.number().int(),
    createdAt: z.string(),
    updatedAt: z.string(),
  };
  return z
    .discriminatedUnion('kind', [
      z
        .object({
          ...connectionBase,
          kind: z.literal('email'),
          settings: emailSettings,
          secrets: secretsSet(secretNames.email, 'EmailConnectionSecretsSet'),
        })
        .meta({ id: 'EmailConnection' }),
      z
        .object({
          ...connectionBase,
          kind: z.literal('whatsapp'),
          settings: whatsappSettings,
          secrets: secretsSet(secretNames.whatsapp, 'WhatsappConnectionSecretsSet'),
        })
        .meta({ id: 'WhatsappConnection' }),
      z
        .object({
          ...connectionBase,
          kind: z.literal('telegram'),
          settings: z
            .object({ botUsername: z.string().nullable() })
            .meta({ id: 'TelegramConnectionSettingsOut' }),
          secrets: secretsSet(secretNames.telegram, 'TelegramConnectionSecretsSet'),
        })
        .meta({ id: 'TelegramConnection' }),
      z
        .object({
          ...connectionBase,
          kind: z.literal('sms'),
          settings: smsSettings,
          secrets: secretsSet(secretNames.sms, 'SmsConnectionSecretsSet'),
        })
        .meta({ id: 'SmsConnection' }),
    ])
    .meta({
      id: 'ChannelConnection',
      description:
        'A channel connection: its public settings, and which credentials are set (never their values)',
    });
});
export type ChannelConnection = ResponseOf<typeof channelConnectionSchema>;
