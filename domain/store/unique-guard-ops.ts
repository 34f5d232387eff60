import type { TxEntities } from './db';

interface GuardKey {
  workspaceId: string;
  scope: string;
  value: string;
}

/** Claims a unique value for `ownerId` in a transaction; fails its condition when the value is taken. */
export const claimGuard = (tx: TxEntities, key: GuardKey, ownerId: string, createdAt: string) =>
  tx.uniqueGuard.create({ ...key, ownerId, createdAt }).commit();

/** Frees a unique value, only if `ownerId` still holds it. */
export const releaseGuard = (tx: TxEntities, key: GuardKey, ownerId: string) =>
  tx.uniqueGuard
    .delete(key)
    .where((attr, { eq }) => eq(attr.ownerId, ownerId))
    .commit();
