import type { ConnectionKind } from '../../domain/channels/connections/channel-connections.schemas';
import {
  ProviderSendError,
  type ChannelAdapters,
  type OutboundCall,
  type OutboundMessage,
  type ProviderFailureKind,
  type SendReceipt,
} from '../../domain/channels/outbound';

/** What the fake answers one send: accept (with an id, or one made up), a `ProviderSendError`, after a delay. */
export type FakeOutcome =
  | { accept: true; providerMessageId?: string; providerStatus?: string | null; delayMs?: number }
  | {
      fail: ProviderFailureKind;
      code?: string;
      message?: string;
      retryAfterSeconds?: number | null;
      delayMs?: number;
      providerMessageId?: string;
      /** The parts of a multi-part message accepted before the failure. */
      acceptedParts?: string[];
    };

export interface FakeChannelAdapters extends ChannelAdapters {
  /** Every call placed, in order; `callOutcomes` answers them (accepted when none is queued). */
  readonly calls: { connectionId: string; call: OutboundCall; providerCallId: string | null }[];
  nextCall(...outcomes: ({ accept: true; providerCallId: string } | { fail: ProviderFailureKind; code: string; message: string })[]): void;
  /** Every send, in order, as the provider saw it. */
  readonly sends: { kind: ConnectionKind; message: OutboundMessage; outcome: 'accepted' | ProviderFailureKind; providerMessageId: string | null }[];
  /** Outcomes for the next sends, first in first out; when none is queued, sends are accepted. */
  next(...outcomes: FakeOutcome[]): void;
  /** The sends of one message. */
  sendsOf(messageId: string): FakeChannelAdapters['sends'];
  reset(): void;
}

/** An in-process stand-in for the providers behind the `ChannelAdapters` port: records every call, answers as told. */
export function createFakeChannelAdapters(): FakeChannelAdapters {
  const sends: FakeChannelAdapters['sends'] = [];
  const calls: FakeChannelAdapters['calls'] = [];
  let callOutcomes: Parameters<FakeChannelAdapters['nextCall']> = [];
  let queued: FakeOutcome[] = [];
  let n = 0;
  const send = async (kind: ConnectionKind, message: OutboundMessage): Promise<SendReceipt> => {
    const outcome = queued.shift() ?? { accept: true };
    if (outcome.delayMs) await new Promise((resolve) => setTimeout(resolve, outcome.delayMs));
    if ('fail' in outcome) {
      // A `providerMessageId` on a failure: the provider took the message but its answer was lost (a timeout).
      sends.push({ kind, message, outcome: outcome.fail, providerMessageId: outcome.providerMessageId ?? null });
      throw new ProviderSendError(
        outcome.fail,
        outcome.code ?? outcome.fail,
        outcome.message ?? `The provider said ${outcome.fail}`,
        outcome.retryAfterSeconds ?? null,
        outcome.fail === 'rate_limited' ? 429 : outcome.fail === 'provider_unavailable' ? 503 : outcome.fail === 'timeout' ? null : 400,
        outcome.acceptedParts ?? [],
      );
    }
    n += 1;
    const providerMessageId = outcome.providerMessageId ?? `${kind}-fake-${n}`;
    sends.push({ kind, message, outcome: 'accepted', providerMessageId });
    return { providerMessageId, providerStatus: outcome.providerStatus ?? null };
  };
  return {
    sends,
    calls,
    nextCall: (...outcomes) => {
      callOutcomes.push(...outcomes);
    },
    placeCall: async (connection, call) => {
      const outcome = callOutcomes.shift() ?? { accept: true as const, providerCallId: `CA-fake-${calls.length + 1}` };
      if ('fail' in outcome) {
        calls.push({ connectionId: connection.connectionId, call, providerCallId: null });
        throw new ProviderSendError(outcome.fail, outcome.code, outcome.message);
      }
      calls.push({ connectionId: connection.connectionId, call, providerCallId: outcome.providerCallId });
      return { providerCallId: outcome.providerCallId, providerStatus: 'queued' };
    },
    next: (...outcomes) => {
      queued.push(...outcomes);
    },
    sendsOf: (messageId) => sends.filter((entry) => entry.message.reference.messageId === messageId),
    reset: () => {
      sends.length = 0;
      calls.length = 0;
      queued = [];
      callOutcomes = [];
    },
    sender: (kind) => ({ send: (message) => send(kind, message) }),
    // A bot token holding `Refused` is one Telegram does not know.
    telegramSetWebhook: async (connection) => {
      if (connection.secrets.botToken?.includes('Refused')) throw new ProviderSendError('unauthorized', '401', 'telegram: Unauthorized');
      return { botUsername: 'fake_bot' };
    },
    fetchMedia: async () => ({ bytes: new Uint8Array(), mimeType: null, fileName: null }),
  };
}
