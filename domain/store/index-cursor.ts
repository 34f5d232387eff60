import * as z from 'zod';
import { invalidCursor } from '../shared/errors';

/**
 * Cursors of index-backed lists. The client gets an opaque token naming the list it came from (a
 * fingerprint of the query) and the last item's id and index sort key; the next page rebuilds the
 * exclusive start key from them and from the caller's own workspace, so a cursor can neither leave
 * the workspace nor be replayed against another list.
 */
const cursorSchema = z.object({ v: z.literal(1), f: z.string(), id: z.string().min(1), s: z.string() });

export interface CursorPosition {
  /** The id of the last item returned. */
  id: string;
  /** Its sort key in the index the list reads. */
  sortKey: string;
}

export const encodeListCursor = (fingerprint: string, position: CursorPosition) =>
  Buffer.from(JSON.stringify({ v: 1, f: fingerprint, id: position.id, s: position.sortKey })).toString(
    'base64url',
  );

export function decodeListCursor(
  cursor: string | undefined,
  fingerprint: string,
): CursorPosition | undefined {
  if (cursor === undefined) return undefined;
  let parsed: z.infer<typeof cursorSchema>;
  try {
    parsed = cursorSchema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
  } catch {
    parsed = { v: 1, f: '', id: '', s: '' };
  }
  if (parsed.f !== fingerprint || !parsed.id) {
    throw invalidCursor();
  }
  return { id: parsed.id, sortKey: parsed.s };
}

/** ElectroDB's cursor: the base64url JSON of DynamoDB's LastEvaluatedKey. */
export const electroCursor = (key: Record<string, string>) =>
  Buffer.from(JSON.stringify(key)).toString('base64url');

/** The start key in an ElectroDB cursor that DynamoDB returned (the inverse of `electroCursor`). */
export const startKeyOf = (cursor: string) =>
  JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<string, string>;
