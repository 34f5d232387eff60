/**
 * Seed 001 Delivery's state machine, pure: `queued` → `sent` → `delivered` → `read`, and `failed` from
 * any state before `read`. Monotonic: a late or repeated lower status never moves a delivery back (a
 * late "sent" after "delivered" changes nothing), `read` implies delivered, and a failed attempt stays
 * failed (only a retry, which is a new attempt, sends again).
 *
 * A delivery holds its attempts: the first send and each retry is one provider call with its own
 * provider message id and its own status. The delivery's status is its latest attempt's; a status for
 * an earlier attempt (a callback arriving after a retry) updates that attempt only.
 */
import type { DeliveryStatus } from '../inbound-events';

export const deliveryStates = ['queued', 'sent', 'delivered', 'read', 'failed'] as const;
export type DeliveryState = (typeof deliveryStates)[number];

/** What started an attempt: the message's send, the job's automatic retry, or a user's retry. */
export const attemptTriggers = ['send', 'auto_retry', 'manual_retry'] as const;
export type AttemptTrigger = (typeof attemptTriggers)[number];

export interface DeliveryError {
  code: string;
  message: string;
}

/** One provider call (seed 001's Delivery fields, per attempt). */
export interface DeliveryAttempt {
  attempt: number;
  trigger: AttemptTrigger;
  /** The user who asked for a manual retry. */
  requestedBy: string | null;
  status: DeliveryState;
  /** Set when the provider accepted the message (never before). */
  providerMessageId: string | null;
  /** The provider's own latest word for it (`accepted`, `queued`, `undelivered`, `Bounce/Permanent`, ...). */
  providerStatus: string | null;
  /** The latest error the provider (or the call to it) reported; also set on a delivery that stays `sent` after a transient bounce. */
  error: DeliveryError | null;
  queuedAt: string;
  /** When the provider call started (the attempt left `queued` for the provider). */
  calledAt: string | null;
  sentAt: string | null;
  deliveredAt: string | null;
  readAt: string | null;
  failedAt: string | null;
  /** A multi-part message (WhatsApp, Telegram: one file per provider message): the ids of the parts accepted so far. */
  partsSent?: string[];
}

/** The delivery of an outbound message, kept on the message item (`delivery`). */
export interface DeliveryRecord {
  deliveryId: string;
  connectionId: string;
  /** The contact's channel value it goes to (canonical). */
  to: string;
  /** The current attempt's state, mirrored. */
  status: DeliveryState;
  attempt: number;
  attempts: DeliveryAttempt[];
  /** The job that sends the current attempt. */
  jobId: string;
  /** Automatic re-sends of the current attempt so far (429, 5xx, timeouts). */
  autoRetries: number;
  createdAt: string;
  updatedAt: string;
}

const rank: Record<DeliveryState, number> = { queued: 0, sent: 1, delivered: 2, read: 3, failed: -1 };

/** A status report for one attempt, from the provider (callbacks) or from the provider call itself. */
export interface AttemptUpdate {
  status: DeliveryStatus | null;
  providerStatus: string | null;
  at: string;
  error: DeliveryError | null;
}

/**
 * The attempt after the update, or null when it changes nothing (a repeat, a late lower status, a
 * status after the attempt failed or was read). An error with no status, or with the status the
 * attempt already has (an SES transient bounce or delivery delay on a `sent` mail), records the error
 * and keeps the state.
 */
export function advanceAttempt(attempt: DeliveryAttempt, update: AttemptUpdate): DeliveryAttempt | null {
  const { status, at } = update;
  const current = attempt.status;
  if (current === 'failed' || current === 'read') return null;
  if (status === null || status === current) return withError(attempt, update);
  if (status === 'failed') {
    return {
      ...attempt,
      status: 'failed',
      failedAt: at,
      providerStatus: update.providerStatus ?? attempt.providerStatus,
      error: update.error ?? attempt.error ?? { code: 'failed', message: 'The provider reported the message failed' },
    };
  }
  if (rank[status] <= rank[current]) return null;
  return {
    ...attempt,
    status,
    providerStatus: update.providerStatus ?? attempt.providerStatus,
    sentAt: attempt.sentAt ?? at,
    deliveredAt: status === 'delivered' || status === 'read' ? (attempt.deliveredAt ?? at) : attempt.deliveredAt,
    readAt: status === 'read' ? at : attempt.readAt,
    ...(update.error ? { error: update.error } : {}),
  };
}

/** The attempt with the update's error recorded, its state kept; null without a new error. */
function withError(attempt: DeliveryAttempt, update: AttemptUpdate): DeliveryAttempt | null {
  if (!update.error) return null;
  if (attempt.error?.code === update.error.code && attempt.error.message === update.error.message) return null;
  return { ...attempt, error: update.error, providerStatus: update.providerStatus ?? attempt.providerStatus };
}

/** A new attempt, queued. */
export const newAttempt = (attempt: number, trigger: AttemptTrigger, requestedBy: string | null, at: string): DeliveryAttempt => ({
  attempt,
  trigger,
  requestedBy,
  status: 'queued',
  providerMessageId: null,
  providerStatus: null,
  error: null,
  queuedAt: at,
  calledAt: null,
  sentAt: null,
  deliveredAt: null,
  readAt: null,
  failedAt: null,
});

/** The delivery with one attempt replaced, the current state mirrored. */
export function withAttempt(delivery: DeliveryRecord, attempt: DeliveryAttempt, at: string): DeliveryRecord {
  const attempts = delivery.attempts.map((each) => (each.attempt === attempt.attempt ? attempt : each));
  const current = attempts.find((each) => each.attempt === delivery.attempt)!;
  return { ...delivery, attempts, status: current.status, updatedAt: at };
}

export const currentAttempt = (delivery: DeliveryRecord): DeliveryAttempt =>
  delivery.attempts.find((each) => each.attempt === delivery.attempt)!;

/** Only a failed delivery is retried by a user (anything else is on its way, or arrived). */
export const canRetry = (delivery: DeliveryRecord) => delivery.status === 'failed';
