/**
 * The 409s, each naming what the request conflicts with (the problem's `code`; the HTTP status of
 * all of them is 409):
 * - `concurrent_change`: other writes to the same records kept winning the race, retries ran out;
 * - `already_exists`: a record with this id or key exists (a custom field key, an id collision);
 * - `channel_taken` / `domain_taken` / `email_taken`: the value belongs to another contact / company / user;
 * - `tag_exists`: the library has a tag with this key;
 * - `record_merged` / `record_archived`: the record was merged into another / is archived;
 * - `already_claimed`: another user holds the contact or task;
 * - `task_done`: a done task cannot be claimed;
 * - `tag_deleting` / `tag_renaming`: a delete / rename of the tag is under way;
 * - `stage_removing`: the stage is being removed; `stage_not_empty`: it holds deals;
 *   `stage_required`: a pipeline keeps its won and lost stages;
 * - `last_owner`: the workspace must keep one active owner; `user_deactivated`: the user is;
 * - `type_immutable`: a custom field's type never changes; `option_removed`: select options stay;
 * - `invalid_transition`: the record's status cannot go to the one asked (a call's status table);
 * - `idempotency_in_progress`: the first request under this Idempotency-Key is still running;
 * - `secret_shown_once`: the first request under this Idempotency-Key made a token or webhook whose
 *   secret is not shown again;
 * - `attachment_used`: the uploaded attachment is on another message already (one upload, one message).
 * - `delivery_not_failed`: a retry of a message delivery that has not failed (only a failed one is resent).
 */
export const conflictCodes = [
  'concurrent_change',
  'already_exists',
  'channel_taken',
  'domain_taken',
  'email_taken',
  'tag_exists',
  'record_merged',
  'record_archived',
  'already_claimed',
  'task_done',
  'tag_deleting',
  'tag_renaming',
  'stage_removing',
  'stage_not_empty',
  'stage_required',
  'last_owner',
  'user_deactivated',
  'type_immutable',
  'option_removed',
  'invalid_transition',
  'idempotency_in_progress',
  'secret_shown_once',
  'attachment_used',
  'delivery_not_failed',
] as const;
export type ConflictCode = (typeof conflictCodes)[number];

/** Every outcome a caller can act on. The HTTP layer maps each code to one status. */
export type DomainErrorCode =
  | 'validation_failed'
  /** A `cursor` this list did not give out for this query (forged, altered, another list's): a 400. */
  | 'invalid_cursor'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | ConflictCode
  | 'precondition_failed'
  | 'precondition_required'
  | 'idempotency_key_reused'
  /** A cap (channels per contact, tags per contact, stages, ...) would be passed: 422 naming the field. */
  | 'limit_exceeded'
  /** An id in the body or query names no usable record of the workspace: 422 naming the field. */
  | 'invalid_reference'
  | 'unprocessable'
  | 'payload_too_large'
  /** The record a write would leave is past DynamoDB's 400 KB item limit: a 413, nothing written. */
  | 'record_too_large'
  | 'unsupported_media_type'
  | 'rate_limited';

export interface FieldIssue {
  /** Dotted path of the offending field, e.g. `body.email` or `query.limit`. */
  field: string;
  message: string;
  code?: string;
}

export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly details: { fields?: FieldIssue[]; [key: string]: unknown } = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

/**
 * A write that lost a race: its condition on the version it read failed, or DynamoDB cancelled its
 * transaction for a concurrent one (TransactionConflict). Nothing was written. The operation is run
 * again from its read (`retryLostRaces`, once per request in the HTTP handler): it then sees the
 * other change and applies itself on top, or (with If-Match) answers 412. Should it escape all
 * retries, it is a 409 `concurrent_change`.
 */
export class LostRace extends DomainError {
  constructor(what = 'A record') {
    super('concurrent_change', `${what} changed while this request ran: retry the request`);
    this.name = 'LostRace';
  }
}

/**
 * Bounded work that stopped with work left (e.g. a merge moving many records): not a failure. The HTTP
 * layer answers 202 `{ status: 'in_progress', detail, ...progress }`; the client repeats the request.
 */
export class WorkInProgress extends Error {
  constructor(
    message: string,
    readonly progress: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'WorkInProgress';
  }
}

export const notFound = (what: string) => new DomainError('not_found', `${what} not found`);
export const forbidden = (why: string) => new DomainError('forbidden', why);
export const conflict = (code: ConflictCode, why: string, details: { fields?: FieldIssue[]; [key: string]: unknown } = {}) =>
  new DomainError(code, why, details);
export const lostRace = (what?: string) => new LostRace(what);
/** True for every 409 (whatever its code). */
export const isConflict = (error: unknown): boolean =>
  error instanceof DomainError && (conflictCodes as readonly string[]).includes(error.code);
export const invalid = (field: string, message: string) =>
  new DomainError('validation_failed', 'The request is invalid', { fields: [{ field, message }] });
/** A cursor the list cannot continue from: 400 `invalid_cursor`, with the field error on `query.cursor`. */
export const invalidCursor = () =>
  new DomainError('invalid_cursor', 'The cursor is not one this list gave out for this query', {
    fields: [{ field: 'query.cursor', message: 'Pass back the nextCursor of the same query, unchanged', code: 'invalid_cursor' }],
  });
/** A cap would be passed: 422 `limit_exceeded` naming the field, with the cap as `limit`. */
export const limitExceeded = (field: string, message: string, limit: number) =>
  new DomainError('limit_exceeded', message, { limit, fields: [{ field, message, code: 'limit_exceeded' }] });
/** An id in the request names no (usable) record: 422 `invalid_reference` naming the field. */
export const invalidReference = (field: string, message: string) =>
  new DomainError('invalid_reference', message, { fields: [{ field, message, code: 'invalid_reference' }] });
/** A request the rules refuse for what it asks, not for its shape: 422 `unprocessable` (details say more). */
export const unprocessable = (why: string, details: Record<string, unknown> = {}) => new DomainError('unprocessable', why, details);
export const stale = () =>
  new DomainError(
    'precondition_failed',
    'The record changed since you read it: fetch it again and retry with its current ETag',
  );
