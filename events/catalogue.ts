import { z } from 'zod';
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
} as const;

export type EventType = keyof typeof eventCatalogue;
export type EventPayload<T extends EventType> = z.infer<(typeof eventCatalogue)[T]>;
export const eventTypes = Object.keys(eventCatalogue) as EventType[];

/** The kinds of record an event can be about. */
export const entityTypes = ['workspace', 'user', 'token'] as const;
export type EntityType = (typeof entityTypes)[number];
