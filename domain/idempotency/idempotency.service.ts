import { createHash } from 'node:crypto';
import type { CallerContext } from '../shared/context';
import type { CoreDeps } from '../shared/deps';
import { DomainError } from '../shared/errors';
import { isConditionFailure } from '../store/transaction';

/** How long a first response is kept for replay. */
export const idempotencyWindowSeconds = 24 * 60 * 60;

export interface StoredResponse {
  statusCode: number;
  body: string;
  headers: Record<string, string>;
}

export type IdempotencyStart = { outcome: 'new' } | { outcome: 'replay'; response: StoredResponse };

export const requestFingerprint = (method: string, path: string, body: string) =>
  createHash('sha256').update(`${method}\n${path}\n${body}`).digest('hex');

/**
 * Claims an Idempotency-Key for a request. The first request under a key proceeds; a repeat with the
 * same method, path and body gets the stored first response; a repeat with another request is a 422;
 * a repeat while the first is still running is a 409.
 */
export async function beginIdempotentRequest(
  deps: CoreDeps,
  caller: CallerContext,
  key: string,
  requestHash: string,
): Promise<IdempotencyStart> {
  const ids = { workspaceId: caller.workspaceId, userId: caller.userId, key };
  try {
    await deps.db.entities.idempotencyRecord
      .create({
        ...ids,
        requestHash,
        state: 'in_progress',
        createdAt: deps.clock.nowIso(),
        expiresAt: Math.floor(deps.clock.nowMs() / 1000) + idempotencyWindowSeconds,
      })
      .go({ response: 'none' });
    return { outcome: 'new' };
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
  const { data: existing } = await deps.db.entities.idempotencyRecord.get(ids).go({ consistent: true });
  if (!existing) return beginIdempotentRequest(deps, caller, key, requestHash); // expired in between
  if (existing.requestHash !== requestHash) {
    throw new DomainError(
      'idempotency_key_reused',
      'This Idempotency-Key was already used for a different request: use a new key for a new request',
    );
  }
  if (existing.state !== 'completed' || existing.statusCode === undefined) {
    throw new DomainError('idempotency_in_progress', 'A request with this Idempotency-Key is still in progress');
  }
  return {
    outcome: 'replay',
    response: {
      statusCode: existing.statusCode,
      body: existing.responseBody ?? '',
      headers: (existing.responseHeaders ?? {}) as Record<string, string>,
    },
  };
}

/** Stores the first (successful) response for replay. */
export async function completeIdempotentRequest(
  deps: CoreDeps,
  caller: CallerContext,
  key: string,
  response: StoredResponse,
): Promise<void> {
  await deps.db.entities.idempotencyRecord
    .patch({ workspaceId: caller.workspaceId, userId: caller.userId, key })
    .set({
      state: 'completed',
      statusCode: response.statusCode,
      responseBody: response.body,
      responseHeaders: response.headers,
    })
    .go({ response: 'none' });
}

/** Releases the key after a failed request, so the client may retry it. */
export async function abandonIdempotentRequest(deps: CoreDeps, caller: CallerContext, key: string): Promise<void> {
  await deps.db.entities.idempotencyRecord
    .delete({ workspaceId: caller.workspaceId, userId: caller.userId, key })
    .go({ response: 'none' });
}
