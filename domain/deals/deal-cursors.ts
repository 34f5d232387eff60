import * as z from 'zod';
import { invalidCursor } from '../shared/errors';

const cursorSchema = z.object({ v: z.literal(1), k: z.string().min(1) });

/**
 * Opaque page cursors over ElectroDB's (the base64url JSON of the last key read). A cursor given back
 * must be for the partition being read: the one key field that names the partition (`pk`, `gsi1pk`,
 * ...) must hold exactly the partition key of this query, which also keeps it inside the caller's
 * workspace; anything else is a 400, never a DynamoDB error.
 */
export const pageCursor = {
  encode(electroCursor: string | null | undefined): string | null {
    if (!electroCursor) return null;
    return Buffer.from(JSON.stringify({ v: 1, k: electroCursor })).toString('base64url');
  },
  decode(cursor: string | undefined, partition: { field: string; value: string }): string | null {
    if (cursor === undefined) return null;
    let key: Record<string, unknown>;
    let electroCursor: string;
    try {
      electroCursor = cursorSchema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))).k;
      key = JSON.parse(Buffer.from(electroCursor, 'base64url').toString('utf8')) as Record<string, unknown>;
    } catch {
      throw invalidCursor();
    }
    if (!key || typeof key !== 'object' || key[partition.field] !== partition.value) throw invalidCursor();
    // Exactly the key of the index read (the table's key, plus the index's own): no other index's cursor.
    const index = partition.field.slice(0, -2);
    const expected = index ? ['pk', 'sk', `${index}pk`, `${index}sk`] : ['pk', 'sk'];
    if (Object.keys(key).sort().join() !== [...new Set(expected)].sort().join()) throw invalidCursor();
    const prefix = partition.value.slice(0, partition.value.indexOf('#', 3) + 1);
    for (const [name, value] of Object.entries(key)) {
      if (typeof value !== 'string') throw invalidCursor();
      if (name.endsWith('pk') && !value.startsWith(prefix)) throw invalidCursor();
    }
    return electroCursor;
  },
};
