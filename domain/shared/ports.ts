/** Ports: the only ways the domain reaches the outside world. AWS adapters live in functions/shared/adapters. */

export interface Clock {
  /** Current time as an ISO-8601 string (UTC, millisecond precision). */
  nowIso(): string;
  nowMs(): number;
}

/** Returns a new sortable id with the given prefix, e.g. `usr_01J...`. */
export type IdGenerator = (prefix: string) => string;

export interface QueuedMessage {
  /** Which queue: one per job kind. */
  queue: string;
  body: unknown;
  /** Seconds before the message becomes visible (SQS DelaySeconds, at most 900). */
  delaySeconds?: number;
}

export interface JobQueue {
  send(message: QueuedMessage): Promise<{ messageId: string }>;
}

export interface BlobStore {
  put(key: string, body: string | Uint8Array, contentType: string): Promise<void>;
  get(key: string): Promise<Uint8Array | undefined>;
  /**
   * The object's bytes as a stream, from byte `start` (default 0) up to `end` (exclusive; default the
   * end of the object), or undefined when there is no object. A `start` at or past the end gives an
   * empty stream. Breaking out of the iteration releases the connection: never read a large object
   * with `get`.
   */
  read(key: string, range?: { start?: number; end?: number }): Promise<AsyncIterable<Uint8Array> | undefined>;
  /** The object's size and stored content type without its bytes, or undefined when there is none. */
  head(key: string): Promise<{ sizeBytes: number; contentType?: string } | undefined>;
  /** Removes the object; a no-op when there is none. */
  delete(key: string): Promise<void>;
  /**
   * A URL the client can PUT the object to, valid for `expiresInSeconds`. The PUT must carry this
   * `Content-Type`, and, when `sizeBytes` is given, a body of exactly that many bytes.
   */
  uploadUrl(key: string, contentType: string, expiresInSeconds: number, options?: { sizeBytes?: number }): Promise<string>;
  /**
   * A URL the client can GET the object from, valid for `expiresInSeconds`. With `fileName` the
   * response asks browsers to save it under that name (Content-Disposition: attachment).
   */
  downloadUrl(key: string, expiresInSeconds: number, options?: { fileName?: string }): Promise<string>;
  /**
   * Multipart upload (S3's rules): parts are numbered 1 to 10,000 and every part but the last holds at
   * least 5 MiB; uploading a part number again replaces it. The object appears only on complete, made
   * of the listed parts in order; abort discards the parts (and is a no-op on an upload already gone).
   */
  startMultipartUpload(key: string, contentType: string): Promise<{ uploadId: string }>;
  /** Stores one part; the returned ETag is what `completeMultipartUpload` must list for it. */
  uploadPart(key: string, uploadId: string, partNumber: number, bytes: Uint8Array): Promise<{ etag: string }>;
  completeMultipartUpload(key: string, uploadId: string, parts: readonly MultipartPart[]): Promise<void>;
  abortMultipartUpload(key: string, uploadId: string): Promise<void>;
}

/** One uploaded part of a multipart upload, as `completeMultipartUpload` lists it. */
export interface MultipartPart {
  partNumber: number;
  etag: string;
}

/** S3's smallest part but the last (5 MiB), its most parts per upload, and its largest part (5 GiB). */
export const multipartLimits = { minPartBytes: 5 * 1024 * 1024, maxParts: 10_000, maxPartBytes: 5 * 1024 ** 3 } as const;

export interface OutgoingMail {
  from: string;
  to: string[];
  subject: string;
  text: string;
  html?: string;
  /** Provider-side tags, e.g. the workspace and message ids, echoed back by SES event notifications. */
  tags?: Record<string, string>;
}

export interface Mailer {
  send(mail: OutgoingMail): Promise<{ providerMessageId: string }>;
}

/** One message of a conversation, as a classifier reads it. */
export interface ConversationLine {
  /** Who wrote it: the contact, a user of the workspace, or the system. */
  author: 'contact' | 'user' | 'system';
  text: string;
  /** ISO-8601 time it was written. */
  at: string;
}

/** What a classifier is told: a conversation's recent messages and its contact's profile. */
export interface ClassifyConversationInput {
  workspaceId: string;
  conversationId: string;
  channel: string;
  subject: string | null;
  /** The latest messages, oldest first (internal notes left out), at most a few dozen. */
  messages: ConversationLine[];
  /** The contact's profile as the API shows it (name, company, job title, tags, custom fields...). */
  contact: Record<string, unknown>;
  /** Fit criteria of kind `ai` to rate 1–5 (domain/fit), when the workspace's products have some. */
  criteria?: { id: string; name: string }[];
}

/**
 * A classifier's answer: a qualification key (domain/qualification/qualification.schemas.ts
 * `classificationKinds`), how strongly it applies (1–5), how sure the classifier is (0–1), and the
 * evidence it went by, in words a user can check.
 */
export interface Classification {
  kind: string;
  score?: number;
  confidence: number;
  reasons: string[];
  /** Ratings of the criteria asked about that the conversation or profile says something about. */
  criteria?: { id: string; value: number; evidence: string }[];
}

/**
 * Seed 001 Qualifier: the AI classifier. The `classify_conversation` job calls it and writes the answer
 * as the conversation's (and, when asked, the contact's) qualification with source `ai`. The latest
 * write wins: a user's manual qualification simply becomes the latest, which is seed 001's
 * `overrideContactQualification` ("user overrides on the latest value"), and the history keeps both.
 * Adapters: Amazon Bedrock (functions/shared/adapters/bedrock-qualifier.ts) and the deterministic local
 * rules (domain/qualification/local-qualifier.ts). A failure throws `QualifierError`, which says whether
 * trying again may help.
 */
export interface Qualifier {
  classifyConversation(input: ClassifyConversationInput): Promise<Classification>;
}

/** One address a host name resolved to. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** One webhook POST, to an address already checked (the URL's host is still the Host header and TLS name). */
export interface WebhookPost {
  url: string;
  address: ResolvedAddress;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  /** Bytes of the answer's body kept; the rest is not read. */
  maxResponseBytes: number;
}

/** What came back: the status and the first `maxResponseBytes` of the body, and how long it took. */
export interface WebhookAnswer {
  status: number;
  bodyExcerpt: string;
  latencyMs: number;
}

/** A webhook POST that got no answer (refused, reset, TLS failure, timeout). */
export class WebhookTransportError extends Error {
  constructor(
    message: string,
    readonly latencyMs: number,
  ) {
    super(message);
    this.name = 'WebhookTransportError';
  }
}

/**
 * Outbound webhooks' way out (functions/shared/adapters/webhook-transport.ts): DNS lookups, and POSTs
 * that connect to the address given (the domain checked it) with the URL's host as Host and SNI, follow
 * no redirect, and read at most `maxResponseBytes` of the answer.
 */
export interface WebhookTransport {
  resolve(hostname: string): Promise<ResolvedAddress[]>;
  /** Resolves with any HTTP status; rejects with `WebhookTransportError` when nothing came back in time. */
  post(request: WebhookPost): Promise<WebhookAnswer>;
}

/** The deployment's secrets, by name. */
export type SecretName = 'cursor-key';

/**
 * Per-deployment secrets, held outside the code and the table: on AWS a Secrets Manager secret the
 * stack generates, under `npm start` a key file in `.data/`, in tests a key the test chooses.
 */
export interface SecretStore {
  /** The secret's bytes (high-entropy key material, at least 32 bytes). Adapters read it once and keep it. */
  get(name: SecretName): Promise<Uint8Array>;
}

/**
 * What a sealed secret is bound to, e.g. `{ workspaceId, connectionId, secret }`: the AES-GCM additional
 * data locally, the KMS encryption context on AWS. Opening with any other context fails, so a sealed
 * value copied to another record (or another field) never opens there.
 */
export type SealContext = Readonly<Record<string, string>>;

/**
 * Encrypts credentials that must be kept but never shown (a channel's access tokens): on AWS with KMS,
 * under `npm start` and in tests with AES-256-GCM under a local key file. (Not `SecretStore`, which
 * hands out the deployment's own key material.)
 */
export interface SecretSealer {
  /** The plaintext encrypted and bound to `context`: an opaque string to store. */
  seal(plaintext: string, context: SealContext): Promise<string>;
  /** The plaintext back; throws when the value was altered or the context differs. */
  open(sealed: string, context: SealContext): Promise<string>;
}

/** What the autoreply bot asks a responder about: the contact's latest message, in its conversation. */
export interface RespondInput {
  workspaceId: string;
  conversationId: string;
  channel: string;
  /** The latest messages, oldest first (notes left out); the last is the one to answer. */
  messages: ConversationLine[];
  /** The contact's profile as the API shows it (name, company, tags, custom fields...). */
  contact: Record<string, unknown>;
  /** The intents the workspace's reply rules name: the responder says which one the message shows, if any. */
  intents: string[];
}

/**
 * A responder's answer: the intent among those asked about (or null), a reply it would send (or
 * null when it has none), and how sure it is of them (0–1). The bot escalates below the workspace's
 * confidence threshold.
 */
export interface BotAnswer {
  intent: string | null;
  reply: string | null;
  confidence: number;
}

/**
 * The autoreply bot's language model (domain/bot): reads an inbound message and says what it is
 * about, and, when the workspace lets it write its own replies, what to answer. Adapters: Amazon
 * Bedrock (functions/shared/adapters/bedrock-responder.ts) and the deterministic local rules
 * (domain/bot/local-responder.ts). A failure throws; the stream retries the event.
 */
export interface Responder {
  respond(input: RespondInput): Promise<BotAnswer>;
}
