import { z } from 'zod';
import { pageQuerySchema } from '../domain/shared/pagination';
import { entityTypes } from './catalogue';

export const eventSchema = z
  .object({
    id: z.string(),
    type: z.string().meta({ description: 'Dotted event type, e.g. `user.added`' }),
    entityType: z.string(),
    entityId: z.string(),
    actorUserId: z.string().meta({ description: 'The user who caused it, or `system`' }),
    payload: z.record(z.string(), z.unknown()),
    createdAt: z.string(),
    contactId: z.string().nullable().meta({ description: 'The contact the event is about, if any (its timeline shows it)' }),
    companyId: z.string().nullable().meta({ description: 'The company the event is about, if any' }),
    dealId: z.string().nullable().meta({ description: 'The deal the event is about, if any' }),
    channel: z.string().nullable().meta({ description: 'The channel of a messaging event (email, telegram...), else null' }),
  })
  .meta({ id: 'Event' });

export const listEventsQuery = pageQuerySchema.extend({
  entityType: z.enum(entityTypes),
  entityId: z.string().min(1).max(64),
});
