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

/**
 * How a request waits for the first request under its key: it re-reads the key's record after 25 ms,
 * 50, 100, ... at most 400 ms apart, for at most 3 s in all (an API Gateway request may take 30 s),
 * then answers 409 `idempotency_in_progress` with `Retry-After: 1`. A first request that started
 * more than `abandonedAfterSeconds` ago died without releasing its key (a Lambda timeout): a
 * repeat takes the key over. Tests shorten the waits.
 */
export const idempotencyWaitSettings = {
  firstDelayMs: 25,
  maxDelayMs: 400,
  maxWaitMs: 3_000,
  retryAfterSeconds: 1,
  abandonedAfterSeconds: 120,
  sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
};

export const requestFingerprint = (method: string, path: string, body: string) =>
  createHash('sha256').update(`${method}\n${path}\n${body}`).digest('hex');

type RecordKey = { workspaceId: string; userId: string; key: string };

/**
 * Claims an Idempotency-Key for a request:
 * - the first request under a key proceeds (`new`);
 * - a repeat with the same method, path and body gets the stored first response (`replay`);
 * - a repeat with another request is a 422 `idempotency_key_reused`;
 * - a repeat while the first is still running waits for it (`idempotencyWaitSettings`) and then
 *   replays its response; if the first failed meanwhile (its key released), the repeat runs itself
 *   (`new`); if the first is still running after the wait, 409 `idempotency_in_progress` with
 *   Retry-After.
 */
export async function beginIdempotentRequest(
  deps: CoreDeps,
  caller: CallerContext,
  key: string,
  requestHash: string,
): Promise<IdempotencyStart> {
  const settings = idempotencyWaitSettings;
  const ids: RecordKey = { workspaceId: caller.workspaceId, userId: caller.userId, key };
  let waitedMs = 0;
  let delayMs = settings.firstDelayMs;
  const stillRunning = () =>
    new DomainError(
      'idempotency_in_progress',
      `A request with this Idempotency-Key is still in progress after ${waitedMs} ms: retry after a moment to get its response`,
      { retryAfterSeconds: settings.retryAfterSeconds },
    );
  // A round claims the key, or reads its record until the first request is done. The key comes free
  // again only when a first request failed (or its record expired): a few rounds at most.
  for (let round = 0; round < 5; round += 1) {
    if (await claim(deps, ids, requestHash)) return { outcome: 'new' };
    for (;;) {
      const { data: existing } = await deps.db.entities.idempotencyRecord.get(ids).go({ consistent: true });
      if (!existing) break; // released by a failed first request, or expired: claim it
      if (await takeOverStale(deps, ids, requestHash, existing)) return { outcome: 'new' };
      if (existing.requestHash !== requestHash) {
        throw new DomainError(
          'idempotency_key_reused',
          'This Idempotency-Key was already used for a different request: use a new key for a new request',
        );
      }
      if (existing.state === 'completed' && existing.statusCode !== undefined) {
        return {
          outcome: 'replay',
          response: {
            statusCode: existing.statusCode,
            body: existing.responseBody ?? '',
            headers: (existing.responseHeaders ?? {}) as Record<string, string>,
          },
        };
      }
      if (waitedMs >= settings.maxWaitMs) throw stillRunning();
      await settings.sleep(delayMs);
      waitedMs += delayMs;
      delayMs = Math.min(delayMs * 2, settings.maxDelayMs);
    }
  }
  throw stillRunning();
}

/** Puts the key's record `in_progress`, only if there is none: true when this request got the key. */
async function claim(deps: CoreDeps, ids: RecordKey, requestHash: string): Promise<boolean> {
  try {
    await deps.db.entities.idempotencyRecord
      .create(newRecord(deps, ids, requestHash))
      .go({ response: 'none' });
    return true;
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    return false;
  }
}

const newRecord = (deps: CoreDeps, ids: RecordKey, requestHash: string) => ({
  ...ids,
  requestHash,
  state: 'in_progress' as const,
  createdAt: deps.clock.nowIso(),
  expiresAt: Math.floor(deps.clock.nowMs() / 1000) + idempotencyWindowSeconds,
});

/**
 * A record this request may replace: one past its 24 hours that TTL has not deleted yet, or a first
 * request that started `abandonedAfterSeconds` ago and is still `in_progress` (it died: no request
 * runs that long). Replaced conditionally on being that very record; true when this request got the key.
 */
async function takeOverStale(
  deps: CoreDeps,
  ids: RecordKey,
  requestHash: string,
  existing: { state: string; createdAt: string; expiresAt: number },
): Promise<boolean> {
  const expired = existing.expiresAt <= Math.floor(deps.clock.nowMs() / 1000);
  const ageSeconds = (deps.clock.nowMs() - Date.parse(existing.createdAt)) / 1000;
  const abandoned = existing.state === 'in_progress' && ageSeconds > idempotencyWaitSettings.abandonedAfterSeconds;
  if (!expired && !abandoned) return false;
  try {
    await deps.db.entities.idempotencyRecord
      .put(newRecord(deps, ids, requestHash))
      .where((attr, { eq }) => `${eq(attr.state, existing.state)} AND ${eq(attr.createdAt, existing.createdAt)}`)
      .go({ response: 'none' });
    return true;
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    return false; // another repeat took it over first
  }
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
