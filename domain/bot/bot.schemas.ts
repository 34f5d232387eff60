import * as z from 'zod';
import { conversationId } from '../inbox/conversations.schemas';
import { timeZoneSchema } from '../shared/time-zones';
import { responseSchema, type ResponseOf } from '../shared/response-schema';
import { templateProblems } from './bot-templates';

/** Reply rules per workspace: each inbound message is matched against them all. */
export const maxBotRules = 50;
export const weekdays = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof weekdays)[number];

/** When the bot answers, against the business hours. */
export const replyWhenValues = ['outside_business_hours', 'during_business_hours', 'always'] as const;

/** Why the bot handed a conversation to people (`bot.escalated` `reason`). */
export const escalationReasons = [
  'keyword',
  'low_confidence',
  'reply_limit',
  'no_match',
  'rate_limited',
  'undeliverable',
  'model_unavailable',
  'reply_canceled',
] as const;
export type EscalationReason = (typeof escalationReasons)[number];

const clockTime = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'A time of day as HH:MM (00:00 to 24:00)')
  .meta({ description: 'A time of day, HH:MM, in the settings’ time zone' });

const interval = z
  .object({ from: clockTime, to: clockTime })
  .refine((span) => span.from < span.to, { message: '`from` must come before `to`', path: ['to'] });

const phrase = z.string().trim().min(1, 'A keyword cannot be empty').max(100, 'At most 100 characters');
const intentName = z
  .string()
  .trim()
  .regex(
    /^[a-z][a-z0-9_]{0,49}$/,
    'An intent is a lower-case word: letters, digits and `_` (e.g. `pricing`)',
  );

const template = z
  .string()
  .trim()
  .min(1, 'A rule needs a reply')
  .max(2000, 'At most 2,000 characters')
  .superRefine((text, ctx) => {
    for (const message of templateProblems(text)) ctx.addIssue({ code: 'custom', message });
  })
  .meta({
    description:
      'The reply: plain text with the contact’s fields as `{{contact.firstName}}` (name, firstName, lastName, email, phone, company, jobTitle, city, country, custom.<key>); `{{contact.firstName | "there"}}` gives a fallback for a field the contact lacks (otherwise it renders empty)',
  });

export const botRuleSchema = z
  .object({
    name: z.string().trim().min(1, 'Give the rule a name').max(100, 'At most 100 characters'),
    keywords: z.array(phrase).max(50).default([]).meta({
      description:
        'Words or phrases: the rule matches a message containing one of them as whole words (case- and accent-insensitive)',
    }),
    intents: z.array(intentName).max(10).default([]).meta({
      description:
        'Intents the responder may recognise in a message (e.g. `pricing`); matched only at or above the confidence threshold',
    }),
    template,
  })
  .refine((rule) => rule.keywords.length > 0 || rule.intents.length > 0, {
    message: 'A rule needs at least one keyword or intent',
    path: ['keywords'],
  })
  .meta({ id: 'BotRule' });
export type BotRule = z.infer<typeof botRuleSchema>;

const hoursShape = Object.fromEntries(
  weekdays.map((day) => [day, z.array(interval).max(4).default([])]),
) as Record<Weekday, z.ZodDefault<z.ZodArray<typeof interval>>>;

const weekdayHours = [{ from: '09:00', to: '17:00' }];
export const defaultBusinessHours: Record<Weekday, { from: string; to: string }[]> = {
  mon: weekdayHours,
  tue: weekdayHours,
  wed: weekdayHours,
  thu: weekdayHours,
  fri: weekdayHours,
  sat: [],
  sun: [],
};

/** The settings, as PUT takes them (every field has a default: a PUT replaces the whole). */
export const botSettingsInput = z
  .object({
    enabled: z.boolean().default(false).meta({
      description:
        'The workspace default: whether the bot answers contacts. A contact tagged `bot:on` gets it even when off; `bot:off` never',
    }),
    timeZone: timeZoneSchema.default('UTC'),
    businessHours: z
      .object(hoursShape)
      .default(defaultBusinessHours)
      .meta({
        description:
          'Opening hours per weekday (`mon`…`sun`), up to 4 spans a day, in `timeZone`; a day without spans is closed',
      }),
    replyWhen: z.enum(replyWhenValues).default('outside_business_hours').meta({
      description:
        'When the bot answers: outside the business hours (people answer during them), during them, or always',
    }),
    rules: z
      .array(botRuleSchema)
      .max(maxBotRules)
      .default([])
      .refine(
        (rules) => new Set(rules.map((rule) => rule.name.toLowerCase())).size === rules.length,
        'Rule names must differ',
      ),
    escalationKeywords: z.array(phrase).max(50).default(['human', 'agent', 'person', 'representative']).meta({
      description: 'A message containing one of these (whole words) goes to people at once',
    }),
    maxRepliesPerConversation: z.number().int().min(1).max(50).default(3).meta({
      description:
        'Bot replies in one conversation before it hands it to people (counted since the bot took it or it was last resolved)',
    }),
    confidenceThreshold: z.number().min(0).max(1).default(0.7).meta({
      description:
        'Below this confidence a responder’s intent or reply is not used, and the conversation goes to people',
    }),
    aiReplies: z.boolean().default(false).meta({
      description:
        'When no rule matches, send the responder’s own reply (at or above the threshold); off: no rule matched goes to people',
    }),
    rateLimit: z
      .object({
        replies: z.number().int().min(1).max(100).default(5),
        windowMinutes: z.number().int().min(1).max(1440).default(10),
      })
      .default({ replies: 5, windowMinutes: 10 })
      .meta({
        description:
          'At most `replies` bot replies per conversation within `windowMinutes` (a loop with another bot stops there)',
      }),
  })
  .meta({ id: 'BotSettingsInput' });
export type BotSettingsInput = z.input<typeof botSettingsInput>;
export type BotSettingsValues = z.output<typeof botSettingsInput>;

export const botSettingsSchema = responseSchema(() =>
  botSettingsInput
    .extend({
      version: z.number().int().meta({ description: '0 until the settings are first saved (the defaults)' }),
      updatedBy: z.string().nullable(),
      updatedAt: z.string().nullable(),
    })
    .meta({ id: 'BotSettings' }),
);
export type BotSettings = ResponseOf<typeof botSettingsSchema>;

export const conversationBotParams = z.object({ conversationId });

export const conversationBotSchema = responseSchema(() =>
  z
    .object({
      conversationId: z.string(),
      active: z
        .boolean()
        .meta({
          description:
            'The bot may answer here (it still follows the contact’s tags, the settings and the hours)',
        }),
      reason: z
        .string()
        .nullable()
        .meta({
          description:
            'Why the conversation is with people: an escalation reason (`keyword`, `low_confidence`, `reply_limit`, `no_match`, `rate_limited`, `undeliverable`, `model_unavailable`, `reply_canceled`) or `user`',
        }),
      replies: z
        .number()
        .int()
        .meta({ description: 'Bot replies since the bot took the conversation or it was last resolved' }),
      since: z
        .string()
        .nullable()
        .meta({ description: 'Since when the bot holds it (null: it never acted here)' }),
      updatedAt: z.string().nullable(),
    })
    .meta({ id: 'ConversationBot' }),
);
export type ConversationBot = ResponseOf<typeof conversationBotSchema>;

export const handOverInput = z
  .object({
    active: z
      .boolean()
      .meta({
        description: '`true` hands the conversation back to the bot; `false` keeps the bot out of it',
      }),
  })
  .meta({ id: 'ConversationBotInput' });
export type HandOverInput = z.infer<typeof handOverInput>;
