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

/**
 * What identifies a request under its key, two ways:
 * - `meaning`: SHA-256 of method, path and the body's canonical JSON (parsed; object keys sorted at
 *   every level, no whitespace; strings and numbers written as JSON.stringify writes them), so the same
 *   JSON written another way (keys reordered, pretty-printed, `\u0057` for `W`) is the same request. A
 *   body that is not JSON (or is empty) counts by its bytes: the same as `bytes`.
 * - `bytes`: SHA-256 of method, path and the body's bytes: the only fingerprint of records written
 *   before `meaning` was (and still written, for a function not yet updated that reads the record).
 */
export interface RequestFingerprint {
  meaning: string;
  bytes: string;
}

export function requestFingerprint(method: string, path: string, body: string): RequestFingerprint {
  const bytes = sha256(`${method}\n${path}\n${body}`);
  const canonical = canonicalJson(body);
  return { bytes, meaning: canonical === undefined ? bytes : sha256(`${method}\n${path}\njson:${canonical}`) };
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The body's JSON with object keys sorted at every level and no whitespace; undefined when it is not JSON. */
export function canonicalJson(body: string): string | undefined {
  if (body.trim() === '') return undefined;
  try {
    return canonical(JSON.parse(body));
  } catch {
    return undefined; // not JSON, or nested too deep to walk: its bytes identify it
  }
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    // Sorted by UTF-16 code units; JSON.parse makes `__proto__` an own key, sorted like any other.
    const keys = Object.keys(record).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonical(record[key])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Whether a stored record was claimed by this request: by meaning, or by bytes for a record that has no meaning stored. */
const sameRequest = (existing: { requestHash: string; requestMeaningHash?: string }, fingerprint: RequestFingerprint) =>
  existing.requestMeaningHash !== undefined
    ? existing.requestMeaningHash === fingerprint.meaning
    : existing.requestHash === fingerprint.bytes;

type RecordKey = { workspaceId: string; userId: string; key: string };

/**
 * Claims an Idempotency-Key for a request:
 * - the first request under a key proceeds (`new`);
 * - a repeat with the same method, path and body gets the stored first response (`replay`); the body
 *   counts by its meaning, not its bytes (`requestFingerprint`);
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
  fingerprint: RequestFingerprint,
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
    if (await claim(deps, ids, fingerprint)) return { outcome: 'new' };
    for (;;) {
      const { data: existing } = await deps.db.entities.idempotencyRecord.get(ids).go({ consistent: true });
      if (!existing) break; // released by a failed first request, or expired: claim it
      if (await takeOverStale(deps, ids, fingerprint, existing)) return { outcome: 'new' };
      if (!sameRequest(existing, fingerprint)) {
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
async function claim(deps: CoreDeps, ids: RecordKey, fingerprint: RequestFingerprint): Promise<boolean> {
  try {
    await deps.db.entities.idempotencyRecord
      .create(newRecord(deps, ids, fingerprint))
      .go({ response: 'none' });
    return true;
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    return false;
  }
}

const newRecord = (deps: CoreDeps, ids: RecordKey, fingerprint: RequestFingerprint) => ({
  ...ids,
  requestHash: fingerprint.bytes,
  requestMeaningHash: fingerprint.meaning,
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
  fingerprint: RequestFingerprint,
  existing: { state: string; createdAt: string; expiresAt: number },
): Promise<boolean> {
  const expired = existing.expiresAt <= Math.floor(deps.clock.nowMs() / 1000);
  const ageSeconds = (deps.clock.nowMs() - Date.parse(existing.createdAt)) / 1000;
  const abandoned = existing.state === 'in_progress' && ageSeconds > idempotencyWaitSettings.abandonedAfterSeconds;
  if (!expired && !abandoned) return false;
  try {
    await deps.db.entities.idempotencyRecord
      .put(newRecord(deps, ids, fingerprint))
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
