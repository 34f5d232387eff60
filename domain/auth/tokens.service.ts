import { createHash, randomBytes } from 'node:crypto';
import { isManager, type CallerContext, type Role } from '../shared/context';
import type { CoreDeps } from '../shared/deps';
import { conflict, DomainError, forbidden, invalidReference, limitExceeded, lostRace, notFound } from '../shared/errors';
import { checkIndexCursor, type Page, type PageQuery } from '../shared/pagination';
import { writeTransaction } from '../store/transaction';
import { appendEvent, newEvent } from '../../events/event-log';
import type { ApiToken, CreateTokenInput } from './tokens.schemas';

/** Active tokens per user: bounded so a role change rewrites them all in one transaction. */
export const maxActiveTokensPerUser = 20;
/** lastUsedAt is refreshed at most this often, so authentication stays a single read. */
const lastUsedResolutionMs = 60_000;
const tokenPattern = /^crm_[A-Za-z0-9_-]{43}$/;

export const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

interface TokenItem {
  tokenHash: string;
  tokenId: string;
  workspaceId: string;
  userId: string;
  name: string;
  prefix: string;
  role: Role;
  userStatus: 'active' | 'deactivated';
  createdAt: string;
  lastUsedAt?: string;
  revokedAt?: string;
}

export const toApiToken = (item: Omit<TokenItem, 'tokenHash'>): ApiToken => ({
  id: item.tokenId,
  userId: item.userId,
  name: item.name,
  prefix: item.prefix,
  createdAt: item.createdAt,
  lastUsedAt: item.lastUsedAt ?? null,
  revokedAt: item.revokedAt ?? null,
});

/** A new token: the secret to show once, and the item that stores only its hash. */
export function mintToken(
  deps: Pick<CoreDeps, 'clock' | 'newId'>,
  owner: { workspaceId: string; userId: string; role: Role },
  name: string,
) {
  const secret = `crm_${randomBytes(32).toString('base64url')}`;
  const item: TokenItem = {
    tokenHash: hashToken(secret),
    tokenId: deps.newId('tok'),
    workspaceId: owner.workspaceId,
    userId: owner.userId,
    name,
    prefix: secret.slice(0, 10),
    role: owner.role,
    userStatus: 'active',
    createdAt: deps.clock.nowIso(),
  };
  return { secret, item };
}

export interface Authenticated extends CallerContext {
  tokenId: string;
}

/**
 * Recently authenticated tokens, per process (a Lambda container). A hit saves the token read on
 * every request; the price is that a revocation, deactivation or role change made by ANOTHER
 * container takes effect there within `authCacheTtlMs` (one made in this process clears it at once).
 * API Gateway's own authorizer cache makes the same trade with minutes; this keeps it to seconds.
 */
export const authCacheTtlMs = 10_000;
const authCacheSize = 1_000;
const authCache = new Map<string, { caller: Authenticated; expiresAt: number }>();

/** Forget every cached authentication (after a change to tokens, roles or users). */
export function clearAuthCache(): void {
  authCache.clear();
}

/** Resolves a bearer token to its caller; one consistent read, so a revocation takes effect at once. */
export async function authenticate(deps: CoreDeps, token: string | undefined): Promise<Authenticated> {
  // Made only when refused: an error captures a stack, and most calls are answered from the cache.
  const unauthenticated = () => new DomainError('unauthenticated', 'A valid API token is required');
  if (!token || !tokenPattern.test(token)) throw unauthenticated();
  const tokenHash = hashToken(token);
  const now = deps.clock.nowMs();
  const cached = authCache.get(tokenHash);
  if (cached && cached.expiresAt > now) return cached.caller;
  const { data } = await deps.db.entities.apiToken.get({ tokenHash }).go({ consistent: true });
  if (!data || data.revokedAt || data.userStatus !== 'active') {
    authCache.delete(tokenHash);
    throw unauthenticated();
  }
  if (!data.lastUsedAt || now - Date.parse(data.lastUsedAt) > lastUsedResolutionMs) {
    await deps.db.entities.apiToken
      .patch({ tokenHash })
      .set({ lastUsedAt: deps.clock.nowIso() })
      .go({ response: 'none' })
      .catch(() => undefined); // a missed lastUsedAt refresh must not fail the request
  }
  const caller: Authenticated = { workspaceId: data.workspaceId, userId: data.userId, role: data.role, tokenId: data.tokenId };
  if (authCache.size >= authCacheSize) authCache.delete(authCache.keys().next().value!);
  authCache.set(tokenHash, { caller, expiresAt: now + authCacheTtlMs });
  return caller;
}

/** Creates a token for the caller, or (owner/admin) for another user of the workspace; an owner's only by an owner. */
export async function createToken(deps: CoreDeps, caller: CallerContext, input: CreateTokenInput) {
  const userId = input.userId ?? caller.userId;
  if (userId !== caller.userId && !isManager(caller)) {
    throw forbidden("Only an owner or admin can create another user's token");
  }
  const userField = input.userId === undefined ? undefined : 'body.userId';
  const { data: user } = await deps.db.entities.user
    .get({ workspaceId: caller.workspaceId, userId })
    .go({ attributes: ['userId', 'role', 'status', 'tokenHashes', 'tokenSetVersion'], consistent: true });
  if (!user) throw userField ? invalidReference(userField, 'No user with this id in the workspace') : notFound('User');
  // A token is its user's power: an admin holding an owner's token would be an owner.
  if (user.role === 'owner' && userId !== caller.userId && caller.role !== 'owner') {
    throw forbidden("Only an owner can create another owner's token");
  }
  if (user.status !== 'active') throw conflict('user_deactivated', 'The user is deactivated');
  if ((user.tokenHashes?.length ?? 0) >= maxActiveTokensPerUser) {
    throw limitExceeded(
      userField ?? 'body',
      `A user can hold at most ${maxActiveTokensPerUser} active tokens: revoke one first`,
      maxActiveTokensPerUser,
    );
  }
  const { secret, item } = mintToken(deps, { workspaceId: caller.workspaceId, userId, role: user.role }, input.name);
  const event = newEvent(deps, caller, 'token.created', { type: 'token', id: item.tokenId }, {
    tokenId: item.tokenId,
    name: item.name,
    userId,
  });
  await writeTransaction(
    deps.db,
    (tx) => [
      tx.apiToken.create(item).commit(),
      tx.user
        .patch({ workspaceId: caller.workspaceId, userId })
        .add({ tokenHashes: [item.tokenHash], tokenSetVersion: 1 })
        // On the token set read too, so that two concurrent creates cannot pass the cap together.
        .where(
          (attr, { eq }) =>
            `${eq(attr.role, user.role)} AND ${eq(attr.status, 'active')} AND ${eq(attr.tokenSetVersion, user.tokenSetVersion)}`,
        )
        .commit(),
      appendEvent(tx, event),
    ],
    () => lostRace('The user'),
  );
  return { ...toApiToken(item), token: secret };
}

export async function listTokens(
  deps: CoreDeps,
  caller: CallerContext,
  query: PageQuery & { userId?: string },
): Promise<Page<ApiToken>> {
  let userId = query.userId;
  if (!isManager(caller)) {
    if (userId && userId !== caller.userId) throw forbidden("Only an owner or admin can list another user's tokens");
    userId = caller.userId;
  }
  // The cursor holds a token's table key (its hash): it reaches clients only sealed (http-handler).
  const cursor = checkIndexCursor(query.cursor, {
    name: 'gsi1',
    partition: `WS#${caller.workspaceId}#TOKENS`,
    sortPrefix: userId ? `${userId}#` : undefined,
  });
  const result = await deps.db.entities.apiToken.query
    .byWorkspace({ workspaceId: caller.workspaceId, ...(userId ? { userId } : {}) })
    .go({ limit: query.limit, cursor: cursor ?? null });
  return { items: result.data.map(toApiToken), nextCursor: result.cursor ?? null };
}

/** Revokes a token: the caller's own, or any in the workspace for owner/admin (an owner's only by an owner). Repeating it is harmless. */
export async function revokeToken(deps: CoreDeps, caller: CallerContext, tokenId: string): Promise<ApiToken> {
  const { data } = await deps.db.entities.apiToken.query
    .byTokenId({ workspaceId: caller.workspaceId, tokenId })
    .go({ limit: 1 });
  const found = data[0];
  if (!found) throw notFound('Token');
  if (found.userId !== caller.userId && !isManager(caller)) throw notFound('Token');
  if (found.userId !== caller.userId && caller.role !== 'owner') {
    // An admin may not lock an owner out: the role read now, as the token's own copy may be older.
    const { data: holder } = await deps.db.entities.user
      .get({ workspaceId: caller.workspaceId, userId: found.userId })
      .go({ attributes: ['role'], consistent: true });
    if (holder?.role === 'owner') throw forbidden("Only an owner can revoke an owner's token");
  }
  if (found.revokedAt) return toApiToken(found);
  const revokedAt = deps.clock.nowIso();
  const event = newEvent(deps, caller, 'token.revoked', { type: 'token', id: tokenId }, { tokenId, userId: found.userId });
  const alreadyRevoked = new Error('already revoked');
  const revoked = await writeTransaction(
    deps.db,
    (tx) => [
      tx.apiToken
        .patch({ tokenHash: found.tokenHash })
        .set({ revokedAt })
        .where((attr, { notExists }) => notExists(attr.revokedAt))
        .commit(),
      tx.user
        .patch({ workspaceId: caller.workspaceId, userId: found.userId })
        .delete({ tokenHashes: [found.tokenHash] })
        .add({ tokenSetVersion: 1 })
        .commit(),
      appendEvent(tx, event),
    ],
    () => alreadyRevoked,
  ).then(
    () => true,
    (error: unknown) => {
      if (error !== alreadyRevoked) throw error;
      return false;
    },
  );
  clearAuthCache();
  if (!revoked) {
    // Revoked meanwhile by another request: as a repeat, it changes nothing (the item, read by its key).
    const { data: current } = await deps.db.entities.apiToken.get({ tokenHash: found.tokenHash }).go({ consistent: true });
    if (current) return toApiToken(current);
  }
  return toApiToken({ ...found, revokedAt });
}
