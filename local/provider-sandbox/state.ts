/**
 * The provider sandbox's memory: the accounts a provider console would hold, every accepted send, every
 * callback it posted (with each attempt's outcome), and the knobs tests turn (behaviour, faults,
 * recipient errors). Everything random draws from a seeded generator, so a run with a seed repeats.
 */

export type SandboxProvider = 'whatsapp' | 'telegram' | 'twilio' | 'ses';

export interface WhatsAppAccount {
  provider: 'whatsapp';
  phoneNumberId: string;
  /** Digits, as Meta shows it in `metadata.display_phone_number` (a leading `+` is dropped). */
  displayPhoneNumber: string;
  accessToken: string;
  appSecret: string;
  webhookUrl: string;
  /** The WhatsApp Business Account id (`entry[].id`); made up when not given. */
  wabaId: string;
}

export interface TwilioAccount {
  provider: 'twilio';
  accountSid: string;
  authToken: string;
  /** E.164. */
  phoneNumber: string;
  smsUrl: string | null;
  voiceUrl: string | null;
}

export interface TelegramAccount {
  provider: 'telegram';
  botToken: string;
  botUsername: string;
  /** Set by `setWebhook`. */
  webhook: { url: string; secretToken: string | null; allowedUpdates: string[] } | null;
  nextUpdateId: number;
  /** Message ids are per chat in Telegram. */
  nextMessageId: Map<string, number>;
}

export interface SesAccount {
  provider: 'ses';
  /** Verified addresses, and/or a verified domain (every address at it, and its subdomains). */
  fromAddresses: string[];
  domain: string | null;
  /** The topic event notifications are published to (the configuration set's SNS destination). */
  topicArn: string;
  /** The HTTPS subscriber of `topicArn`: event notifications are posted here. */
  webhookUrl: string | null;
  /** The topic the receipt rule's SNS action publishes to (defaults to `topicArn`). */
  receiptTopicArn: string;
  /** The subscriber receipt notifications (inbound mail) are posted to. */
  receiptWebhookUrl: string | null;
}

export type SandboxAccount = WhatsAppAccount | TwilioAccount | TelegramAccount | SesAccount;

/** An accepted send: what the provider took, the id it gave, and the raw request. */
export interface SandboxSend {
  seq: number;
  provider: SandboxProvider;
  kind: 'message' | 'call' | 'email';
  /** WhatsApp phone number id, Twilio account SID, Telegram bot username, SES from address. */
  account: string;
  providerMessageId: string;
  to: string;
  text: string;
  at: string;
  request: { method: string; path: string; headers: Record<string, string>; body: string };
  /** Whatever else a later callback needs (Twilio StatusCallback, SES mail headers, ...). */
  meta: Record<string, unknown>;
}

export interface CallbackAttempt {
  at: string;
  status: number | null;
  error: string | null;
  ms: number;
}

/** One webhook the sandbox posts: a status callback, or an inbound message or call. */
export interface SandboxCallback {
  id: number;
  provider: SandboxProvider;
  kind: 'status' | 'inbound' | 'call_status';
  /** The provider's status word (`delivered`, `Bounce`, `ringing`, ...) or the inbound kind (`message`). */
  event: string;
  providerMessageId: string | null;
  url: string;
  body: string;
  headers: Record<string, string>;
  state: 'pending' | 'delivered' | 'failed' | 'dropped';
  attempts: CallbackAttempt[];
}

export interface Behaviour {
  /** Wait before each status callback of a send (ms). */
  delayMs: number;
  /** Post each callback this many times. */
  repeat: number;
  /** Post a send's callbacks in a shuffled order. */
  shuffle: boolean;
  /** The share (0..1) of callbacks never posted. */
  dropRate: number;
  /** The share (0..1) of accepted sends whose delivery then fails (with the provider's error code). */
  failRate: number;
  /** WhatsApp `read` after `delivered`. */
  read: boolean;
  /** SES `Open` after `Delivery`. */
  open: boolean;
  /** How a Twilio outbound call ends. */
  callOutcome: 'completed' | 'busy' | 'no-answer' | 'failed';
  /** Seconds a completed call lasted. */
  callDurationSeconds: number;
  /** Retries after a non-2xx or failed callback POST, and the wait before each (ms). */
  callbackRetries: number;
  callbackRetryDelayMs: number;
  /** Callback POSTs in flight at once. */
  concurrency: number;
  /** Timeout of one callback POST (ms). */
  callbackTimeoutMs: number;
  seed: number;
}

export const defaultBehaviour = (): Behaviour => ({
  delayMs: 200,
  repeat: 1,
  shuffle: false,
  dropRate: 0,
  failRate: 0,
  read: true,
  open: false,
  callOutcome: 'completed',
  callDurationSeconds: 42,
  callbackRetries: 3,
  callbackRetryDelayMs: 100,
  concurrency: 16,
  callbackTimeoutMs: 10_000,
  seed: 1,
});

/**
 * `timeout`: the request is held, then the connection dropped, and nothing is sent. `slow_accept`: the
 * send is accepted (recorded, its callbacks posted) but the answer is held `timeoutMs` first, so the
 * client gives up on a message the provider has: the case where a re-send would send it twice.
 */
export const faultKinds = ['5xx', '429', 'timeout', 'slow_accept', 'drop_callbacks'] as const;
export type FaultKind = (typeof faultKinds)[number];

export interface Faults {
  /** The share (0..1) of send requests that meet a fault. */
  rate: number;
  kinds: FaultKind[];
  /** How long a `timeout` fault holds the request before dropping the connection, and a `slow_accept` its answer (ms). */
  timeoutMs: number;
  /** What a 429 asks the client to wait (seconds). */
  retryAfterSeconds: number;
  /** Only these providers (all when empty). */
  providers: SandboxProvider[];
  /** A kind drawn for a provider not listed for it here is no fault (e.g. `slow_accept` only where callbacks name the send). */
  kindProviders: Partial<Record<FaultKind, SandboxProvider[]>>;
  seed: number;
}

export const defaultFaults = (): Faults => ({
  rate: 0,
  kinds: [],
  timeoutMs: 15_000,
  retryAfterSeconds: 1,
  providers: [],
  kindProviders: {},
  seed: 1,
});

/** What a recipient makes a send answer: a provider-specific refusal. */
export type RecipientError = 'blocked' | 'invalid' | 'unsubscribed';

/** mulberry32: a small seeded generator, good enough to spread faults evenly and repeatably. */
export const seededRandom = (seed: number): (() => number) => {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

export class SandboxState {
  readonly whatsapp = new Map<string, WhatsAppAccount>();
  readonly twilio = new Map<string, TwilioAccount>();
  readonly telegram = new Map<string, TelegramAccount>();
  readonly ses: SesAccount[] = [];
  /**
   * Under `npm start`: a well-formed bot token nobody registered is a bot (as any token @BotFather gave
   * is), so connecting Telegram works before the local registrar has told the sandbox about it.
   */
  acceptUnknownTelegramBots = false;
  /** `${provider}:${to}` → the error a send to them meets. */
  readonly recipientErrors = new Map<string, RecipientError>();
  /** WhatsApp media and Telegram files the contact "sent", and Twilio MMS media: id → bytes. */
  readonly media = new Map<string, { bytes: Buffer; mimeType: string; fileName: string; filePath: string }>();

  /** The Telegram account of a token: registered, or made on first use when `acceptUnknownTelegramBots`. */
  telegramAccount(botToken: string): TelegramAccount | undefined {
    const known = this.telegram.get(botToken);
    if (known || !this.acceptUnknownTelegramBots || !/^\d+:[A-Za-z0-9_-]+$/.test(botToken)) return known;
    const account: TelegramAccount = {
      provider: 'telegram',
      botToken,
      botUsername: `sandbox_${botToken.split(':')[0]}_bot`,
      webhook: null,
      nextUpdateId: 100_000_000 + Math.floor(Math.random() * 1_000_000),
      nextMessageId: new Map<string, number>(),
    };
    this.telegram.set(botToken, account);
    return account;
  }

  sends: SandboxSend[] = [];
  /** SNS subscriptions a subscriber confirmed by visiting its `SubscribeURL` (ses.ts `handleSnsApi`). */
  snsSubscriptions: { topicArn: string; token: string; subscriptionArn: string; confirmedAt: string }[] = [];
  readonly sendsById = new Map<string, SandboxSend>();
  callbacks: SandboxCallback[] = [];
  behaviour = defaultBehaviour();
  faults = defaultFaults();
  /** Faults met so far, by kind and provider (`slow_accept:whatsapp`): the failure run reports them. */
  faultsMet = new Map<string, number>();
  behaviourRandom = seededRandom(this.behaviour.seed);
  faultRandom = seededRandom(this.faults.seed);
  private seq = 0;
  private callbackSeq = 0;
  private idCounter = 0;

  recordSend(send: Omit<SandboxSend, 'seq' | 'at'>): SandboxSend {
    const recorded = { ...send, seq: ++this.seq, at: new Date().toISOString() };
    this.sends.push(recorded);
    this.sendsById.set(`${send.provider}:${send.providerMessageId}`, recorded);
    return recorded;
  }

  newCallback(callback: Omit<SandboxCallback, 'id' | 'state' | 'attempts'>): SandboxCallback {
    const recorded: SandboxCallback = { ...callback, id: ++this.callbackSeq, state: 'pending', attempts: [] };
    this.callbacks.push(recorded);
    return recorded;
  }

  /** A unique hex string of `length` characters (ids look like the provider's, and never repeat). */
  hexId(length: number): string {
    const counter = (++this.idCounter).toString(16).padStart(12, '0');
    let random = '';
    while (random.length < length - counter.length) random += Math.floor(Math.random() * 16).toString(16);
    return (random + counter).slice(-length);
  }

  setBehaviour(patch: Partial<Behaviour>) {
    this.behaviour = { ...this.behaviour, ...patch };
    if (patch.seed !== undefined) this.behaviourRandom = seededRandom(patch.seed);
  }

  setFaults(patch: Partial<Faults>) {
    this.faults = { ...this.faults, ...patch };
    if (patch.seed !== undefined) this.faultRandom = seededRandom(patch.seed);
  }

  /** Forgets sends, callbacks, media and knobs; keeps the accounts unless `accounts` is true. */
  reset(accounts = false) {
    this.sends = [];
    this.sendsById.clear();
    this.callbacks = [];
    this.snsSubscriptions = [];
    this.recipientErrors.clear();
    this.media.clear();
    this.behaviour = defaultBehaviour();
    this.faults = defaultFaults();
    this.faultsMet.clear();
    this.behaviourRandom = seededRandom(this.behaviour.seed);
    this.faultRandom = seededRandom(this.faults.seed);
    if (accounts) {
      this.whatsapp.clear();
      this.twilio.clear();
      this.telegram.clear();
      this.ses.length = 0;
    }
  }

  /** The SES account that may send from this address (an exact address, or its domain). */
  sesAccountFor(from: string): SesAccount | undefined {
    const address = (/<([^>]+)>/.exec(from)?.[1] ?? from).trim().toLowerCase();
    const domain = address.split('@')[1] ?? '';
    return this.ses.find(
      (account) =>
        account.fromAddresses.some((a) => a.toLowerCase() === address) ||
        (account.domain !== null && (domain === account.domain || domain.endsWith(`.${account.domain}`))),
    );
  }

  /** Sends grouped by (provider, to, text), for "nothing was sent twice" checks. */
  counts(sends: SandboxSend[]) {
    const counts = new Map<string, { provider: string; to: string; text: string; count: number }>();
    for (const send of sends) {
      const key = JSON.stringify([send.provider, send.to, send.text]);
      const entry = counts.get(key) ?? { provider: send.provider, to: send.to, text: send.text, count: 0 };
      entry.count++;
      counts.set(key, entry);
    }
    return [...counts.values()];
  }
}
