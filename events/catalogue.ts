import { z } from 'zod';
import { customFieldEntityTypes, customFieldTypes } from '../domain/custom-fields/custom-field.entity';
import { roles } from '../domain/shared/context';

/**
 * The event type catalogue: one zod schema per type for the `payload` each event carries. An event is
 * validated against its schema when it is appended, so the log never holds a shape nobody declared.
 * Types are dotted `<entity>.<what happened>`; add new ones here, next to their neighbours.
 */
export const eventCatalogue = {
  'workspace.created': z.object({ name: z.string() }),
  'workspace.updated': z.object({ changes: z.record(z.string(), z.object({ from: z.unknown(), to: z.unknown() })) }),
  'user.added': z.object({ name: z.string(), email: z.string(), role: z.enum(roles) }),
  'user.updated': z.object({ changes: z.record(z.string(), z.object({ from: z.unknown(), to: z.unknown() })) }),
  'token.created': z.object({ tokenId: z.string(), name: z.string(), userId: z.string() }),
  'token.revoked': z.object({ tokenId: z.string(), userId: z.string() }),
  'custom_field.created': z.object({
    entityType: z.enum(customFieldEntityTypes),
    key: z.string(),
    label: z.string(),
    type: z.enum(customFieldTypes),
    required: z.boolean(),
    options: z.array(z.string()).optional(),
  }),
  'custom_field.updated': z.object({
    entityType: z.enum(customFieldEntityTypes),
    key: z.string(),
    changes: z.record(z.string(), z.object({ from: z.unknown(), to: z.unknown() })),
  }),
  'custom_field.archived': z.object({
    entityType: z.enum(customFieldEntityTypes),
    key: z.string(),
    changes: z.record(z.string(), z.object({ from: z.unknown(), to: z.unknown() })),
  }),
  'contact.created': z.object({
    name: z.string(),
    ownerId: z.string().nullable(),
    channels: z.array(z.object({ kind: z.string(), normalized: z.string() })),
  }),
  'contact.updated': z.object({ changes: z.record(z.string(), z.object({ from: z.unknown(), to: z.unknown() })) }),
  'contact.archived': z.object({}),
  'contact.unarchived': z.object({}),
  'contact.suppressed': z.object({ reason: z.string().nullable() }),
  'contact.unsuppressed': z.object({}),
  /** Seed 000 "Owner claimed": a rep claimed the contact, or an owner/admin assigned it. */
  'owner.claimed': z.object({
    ownerId: z.string(),
    previousOwnerId: z.string().nullable(),
    assignedBy: z.string().nullable(),
  }),
  'owner.released': z.object({ previousOwnerId: z.string() }),
} as const;

export type EventType = keyof typeof eventCatalogue;
export type EventPayload<T extends EventType> = z.infer<(typeof eventCatalogue)[T]>;
export const eventTypes = Object.keys(eventCatalogue) as EventType[];

/** The kinds of record an event can be about. */
export const entityTypes = ['workspace', 'user', 'token', 'contact', 'custom_field'] as const;
export type EntityType = (typeof entityTypes)[number];
