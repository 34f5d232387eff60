/** Every outcome a caller can act on. The HTTP layer maps each code to one status. */
export type DomainErrorCode =
  | 'validation_failed'
  /** A `cursor` this list did not give out for this query (forged, altered, another list's): a 400. */
  | 'invalid_cursor'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'precondition_failed'
  | 'precondition_required'
  | 'idempotency_key_reused'
  | 'idempotency_in_progress'
  | 'unprocessable'
  | 'payload_too_large'
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
export const conflict = (why: string, details: Record<string, unknown> = {}) =>
  new DomainError('conflict', why, details);
export const invalid = (field: string, message: string) =>
  new DomainError('validation_failed', 'The request is invalid', { fields: [{ field, message }] });
/** A cursor the list cannot continue from: 400 `invalid_cursor`, with the field error on `query.cursor`. */
export const invalidCursor = () =>
  new DomainError('invalid_cursor', 'The cursor is not one this list gave out for this query', {
    fields: [{ field: 'query.cursor', message: 'Pass back the nextCursor of the same query, unchanged', code: 'invalid_cursor' }],
  });
export const stale = () =>
  new DomainError(
    'precondition_failed',
    'The record changed since you read it: fetch it again and retry with its current ETag',
  );
