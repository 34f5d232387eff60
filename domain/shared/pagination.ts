import { z } from 'zod';
import { DomainError } from './errors';

export const pageQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(25),
  cursor: z.string().min(1).max(2048).optional(),
});
export type PageQuery = z.infer<typeof pageQuerySchema>;

export interface Page<T> {
  items: T[];
  /** Pass back as `cursor` to get the next page; null on the last page. */
  nextCursor: string | null;
}

const invalidCursor = () =>
  new DomainError('validation_failed', 'The request is invalid', {
    fields: [{ field: 'query.cursor', message: 'Invalid cursor: pass back the nextCursor of a previous page' }],
  });

/**
 * Checks a cursor handed back by a client before it reaches DynamoDB. ElectroDB cursors carry the
 * last evaluated key; every partition key in it must belong to the caller's workspace, so a forged
 * cursor cannot read another tenant's items.
 */
export function checkCursor(workspaceId: string, cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  if (!key || typeof key !== 'object' || Array.isArray(key)) throw invalidCursor();
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
