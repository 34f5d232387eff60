import type { ZodType } from 'zod';

interface ObjectDef {
  type: string;
  shape?: Record<string, unknown>;
  catchall?: unknown;
  in?: ZodType;
}

/**
 * The top-level fields of a body schema that is a plain object, which zod would otherwise strip
 * silently: a field a client misspells (`anchorKind` for `anchor`) or one the route does not take
 * (`ownerId` on a contact's PATCH) is refused instead, so nothing asked for is quietly not done.
 * Undefined for any other schema (a union; an object that already refuses or keeps unknown fields).
 * The handler refuses the others (400) and the document says so (`additionalProperties: false`).
 */
export function strippedBodyFields(schema: ZodType): ReadonlySet<string> | undefined {
  let def = (schema as unknown as { _zod: { def: ObjectDef } })._zod.def;
  // A body parsed through a transform: its input is the object.
  while (def.type === 'pipe' && def.in) def = (def.in as unknown as { _zod: { def: ObjectDef } })._zod.def;
  if (def.type !== 'object' || def.catchall !== undefined || !def.shape) return undefined;
  return new Set(Object.keys(def.shape));
}

/** The body's top-level fields its schema does not name (see `strippedBodyFields`). */
export function unknownBodyFields(schema: ZodType, body: unknown): string[] {
  const fields = strippedBodyFields(schema);
  if (!fields || !body || typeof body !== 'object' || Array.isArray(body)) return [];
  return Object.keys(body).filter((key) => !fields.has(key));
}
