import * as z from 'zod';
import { eventSchema } from '../../events/events.schemas';
import { segmentRuleSchema } from '../segments/segment-rules';
import { recordId } from '../shared/ids';
import { pageQuerySchema } from '../shared/pagination';
import { responseSchema, type ResponseOf } from '../shared/response-schema';
import { deliveryStatuses, subscriptionStatuses } from './webhook.entity';
import { urlShapeProblem } from './webhook-url';
import { webhookSettings } from './webhook-settings';

export { webhookSettings };

const maxEventTypes = 50;

/** `*`, `<group>.*` or an exact type (checked against the catalogue by the service). */
const eventTypePattern = z
  .string()
  .trim()
  .min(1)
  .max(100)
  .regex(
    /^(\*|[a-z_]+\.\*|[a-z_]+\.[a-z_]+)$/,
    'Expected an event type (`contact.created`), a group (`contact.*`) or `*`',
  );

const webhookUrl = z
  .string()
  .trim()
  .max(2048, 'At most 2,048 characters')
  .superRefine((value, ctx) => {
    const problem = urlShapeProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .meta({
    description: 'Where events are POSTed: https (plain http only to this machine under `npm start`)',
    example: 'https://hooks.example.com/crm',
  });

const description = z.string().trim().max(500, 'At most 500 characters');

export const webhookIdParams = z.object({ webhookId: recordId('whk', 'a webhook') });
export const deliveryParams = webhookIdParams.extend({
  deliveryId: recordId('evt', 'a delivery (its event)'),
});

export const createWebhookInput = z
  .object({
    url: webhookUrl,
    eventTypes: z.array(eventTypePattern).min(1, 'Name at least one event type, or `*`').max(maxEventTypes),
    // A union, not .optional() on a nullable: the generator drops the null of a recursive reference.
    filter: segmentRuleSchema
      .optional()
      .meta({
        description: 'A segment rule over the event’s contact: only events about a matching contact are sent',
      }),
    description: description.optional(),
    enabled: z.boolean().default(true),
  })
  .strict()
  .meta({ id: 'CreateWebhookInput' });
export type CreateWebhookInput = z.infer<typeof createWebhookInput>;

export const updateWebhookInput = z
  .object({
    url: webhookUrl.optional(),
    eventTypes: z.array(eventTypePattern).min(1).max(maxEventTypes).optional(),
    filter: z
      .union([segmentRuleSchema, z.null()])
      .optional()
      .meta({ description: 'A new filter, or null for none' }),
    description: z.union([description, z.null()]).optional(),
    enabled: z
      .boolean()
      .optional()
      .meta({ description: 'false disables it; true enables it again (and forgets its failures)' }),
  })
  .strict()
  .refine((input) => Object.keys(input).length > 0, { message: 'Change at least one field' })
  .meta({ id: 'UpdateWebhookInput' });
export type UpdateWebhookInput = z.infer<typeof updateWebhookInput>;

export const webhookSchema = responseSchema(() =>
  z
    .object({
      id: z.string(),
      url: z.string(),
      description: z.string().nullable(),
      eventTypes: z.array(z.string()),
      filter: z.union([segmentRuleSchema, z.null()]),
      status: z.enum(subscriptionStatuses),
      disabledReason: z.enum(['user', 'failing']).nullable(),
      disabledAt: z.string().nullable(),
      failingSince: z
        .string()
        .nullable()
        .meta({ description: 'When its deliveries began failing with no success since; null while healthy' }),
      previousSecretExpiresAt: z
        .string()
        .nullable()
        .meta({
          description:
            'After a rotation: until then deliveries carry a signature with the previous secret too',
        }),
      createdBy: z.string(),
      createdAt: z.string(),
      updatedAt: z.string(),
      version: z.number().int(),
    })
    .meta({ id: 'Webhook' }),
);
export type Webhook = ResponseOf<typeof webhookSchema>;

export const webhookWithSecretSchema = responseSchema(() =>
  webhookSchema()
    .extend({
      secret: z.string().meta({
        description:
          'The signing secret (`whsec_` and base64), shown this once: verify each delivery’s `webhook-signature` with it',
      }),
    })
    .meta({ id: 'WebhookWithSecret' }),
);
export type WebhookWithSecret = ResponseOf<typeof webhookWithSecretSchema>;

export const listWebhooksQuery = pageQuerySchema;
export type ListWebhooksQuery = z.infer<typeof listWebhooksQuery>;

export const listDeliveriesQuery = pageQuerySchema;
export type ListDeliveriesQuery = z.infer<typeof listDeliveriesQuery>;

export const deliveryAttemptSchema = responseSchema(() =>
  z
    .object({
      attempt: z
        .number()
        .int()
        .meta({ description: '1 for the first; counts on through retries, redeliveries and replays' }),
      at: z.string(),
      statusCode: z
        .number()
        .int()
        .nullable()
        .meta({ description: 'The receiver’s HTTP status; null when none came back' }),
      latencyMs: z.number().int(),
      responseExcerpt: z.string().nullable().meta({ description: 'The first 1 KB of the receiver’s answer' }),
      error: z
        .string()
        .nullable()
        .meta({ description: 'Why no answer came (refused, timeout, unsafe address...)' }),
    })
    .meta({ id: 'WebhookDeliveryAttempt' }),
);
export type DeliveryAttempt = ResponseOf<typeof deliveryAttemptSchema>;

export const deliverySchema = responseSchema(() =>
  z
    .object({
      id: z.string().meta({ description: 'The delivery’s id: its event’s' }),
      webhookId: z
        .string()
        .meta({ description: 'The `webhook-id` header: the same on every attempt, redelivery and replay' }),
      eventType: z.string(),
      status: z.enum(deliveryStatuses),
      attemptCount: z.number().int(),
      attempts: z.array(deliveryAttemptSchema()).meta({ description: 'The latest attempts, oldest first' }),
      nextAttemptAt: z.string().nullable(),
      deliveredAt: z.string().nullable(),
      createdAt: z.string(),
      event: eventSchema(),
    })
    .meta({ id: 'WebhookDelivery' }),
);
export type Delivery = ResponseOf<typeof deliverySchema>;

export const replayInput = z
  .object({
    from: z.iso.datetime({ offset: true }).meta({ description: 'Events from this time (inclusive)' }),
    to: z.iso.datetime({ offset: true }).meta({ description: 'Events up to this time (exclusive)' }),
  })
  .strict()
  .refine((input) => Date.parse(input.from) < Date.parse(input.to), {
    message: '`from` must be before `to`',
    path: ['to'],
  })
  .meta({ id: 'WebhookReplayInput' });
export type ReplayInput = z.infer<typeof replayInput>;
