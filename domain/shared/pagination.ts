import * as z from 'zod';
import { invalidCursor } from './errors';

export const pageQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(25),
  // Sealed cursors are about 40 characters longer than the list's own (domain/shared/sealed-cursor.ts).
  cursor: z
    .string()
    .min(1)
    .max(4096)
    .optional()
    .meta({ description: 'The `nextCursor` of the previous page, unchanged: valid only for the same route, path and filters' }),
});
export type PageQuery = z.infer<typeof pageQuerySchema>;

export interface Page<T> {
  items: T[];
  /** Pass back as `cursor` to get the next page; null on the last page. */
  nextCursor: string | null;
}

/** ElectroDB's cursor decoded: the JSON object of a DynamoDB start key, or a 400 `invalid_cursor`. */
function decodeStartKey(cursor: string): Record<string, unknown> {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  if (!key || typeof key !== 'object' || Array.isArray(key)) throw invalidCursor();
  return key as Record<string, unknown>;
}

/**
 * Checks an ElectroDB cursor (the last evaluated key, as base64url JSON) before it reaches DynamoDB.
 * Clients only ever see it sealed (http-handler), so this is the domain's own guard: every partition
 * key in it must belong to the caller's workspace, and its shape must be a start key DynamoDB takes.
 */
export function checkCursor(workspaceId: string, cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  const key = decodeStartKey(cursor);
  // A start key is the table key, plus the key of the index read: anything else DynamoDB refuses.
  const names = Object.keys(key).sort().join();
  if (names !== 'pk,sk' && !/^(gsi\d+)pk,\1sk,pk,sk$/.test(names)) throw invalidCursor();
  const prefix = `WS#${workspaceId}`;
  for (const [name, value] of Object.entries(key)) {
    if (typeof value !== 'string') throw invalidCursor();
    if (name.endsWith('pk') && value !== prefix && !value.startsWith(`${prefix}#`)) throw invalidCursor();
  }
  return cursor;
}

/**
 * A query-string flag: `true` or `false`. With a default, the document states it as the string the
 * client would send (`"false"`), which is what the parameter's schema is.
 */
export function booleanQuery(defaultValue?: boolean) {
  const flag = z.enum(['true', 'false']);
  return (defaultValue === undefined ? flag : flag.default(defaultValue ? 'true' : 'false')).transform(
    (value) => value === 'true',
  );
}

/**
 * Checks the cursor of a Query on a secondary index whose items' table keys lie outside the workspace
 * (API tokens live under their hash, so `checkCursor` cannot vouch for them). It must hold exactly the
 * table key and this index's key, name this query's partition and, when the query reads a sort-key
 * prefix, stay inside it: DynamoDB refuses any other start key.
 */
export function checkIndexCursor(
  cursor: string | undefined,
  index: { name: string; partition: string; sortPrefix?: string },
): string | undefined {
  if (cursor === undefined) return undefined;
  const key = decodeStartKey(cursor);
  const fields = key;
  const [pkField, skField] = [`${index.name}pk`, `${index.name}sk`];
  const expected = ['pk', 'sk', pkField, skField].sort().join();
  if (Object.keys(fields).sort().join() !== expected) throw invalidCursor();
  if (Object.values(fields).some((value) => typeof value !== 'string' || value === '')) throw invalidCursor();
  if (fields[pkField] !== index.partition) throw invalidCursor();
  if (index.sortPrefix !== undefined && !(fields[skField] as string).startsWith(index.sortPrefix)) throw invalidCursor();
  return cursor;
}
