// Apart from webhooks.schemas.ts: the delivery code reads these, and importing a value from a schema
// module builds every schema of it at import (cold start).

/** Limits and timings of outbound webhooks (tests lower some). */
export const webhookSettings = {
  /** Subscriptions per workspace: every event reads them all (one Query). */
  maxSubscriptions: 20,
  /** One attempt's time to answer; a slower receiver counts as failed and is tried again later. */
  attemptTimeoutMs: 10_000,
  /** How long a delivery is retried (and a failing subscription kept) before giving up. */
  retryWindowMs: 3 * 24 * 3600_000,
  /** First retry delay; each next one is 4 times longer, at most `maxRetryDelayMs`. */
  firstRetryDelayMs: 5_000,
  maxRetryDelayMs: 12 * 3600_000,
  /** How long the previous secret keeps signing after a rotation. */
  rotationOverlapMs: 24 * 3600_000,
  /** Attempts kept in a delivery's log (the count goes on). */
  maxLoggedAttempts: 20,
  /** Bytes of a receiver's answer kept in the log. */
  maxResponseBytes: 1024,
  /** A pending delivery this long overdue has lost its message: the sweep sends it again. */
  sweepGraceMs: 60_000,
  /** An attempt holds its delivery this long (longer than the timeout and its writes). */
  leaseMs: 60_000,
  /** Deliveries expire this long after their event (the log's retention, and how far back a replay reaches). */
  deliveryRetentionMs: 30 * 24 * 3600_000,
  /** Deliveries a replay re-sends per request at most. */
  maxReplayDeliveries: 10_000,
};
