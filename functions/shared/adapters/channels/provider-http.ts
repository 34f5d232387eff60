/**
 * The one HTTP client the channel adapters call providers through (WhatsApp Cloud API, Telegram Bot
 * API, Twilio REST API, and the media files they host). It bounds every call by `PROVIDER_TIMEOUT_MS`,
 * turns a timeout or a broken connection into `ProviderSendError('timeout', 'timeout', ...)` (the
 * provider may or may not have acted on it; a connection never made is `provider_unavailable`), reads `Retry-After`, and answers every HTTP status as
 * data: each sender maps its provider's error bodies itself.
 *
 * Credentials never reach an error message: messages name the call (`WhatsApp POST messages`), never
 * its URL (a Telegram URL holds the bot token), and every text that came from a provider passes
 * through `redact` with the connection's secrets first.
 *
 * Sources:
 * - https://developer.mozilla.org/en-US/docs/Web/API/AbortSignal/timeout_static (`TimeoutError`)
 * - https://www.rfc-editor.org/rfc/rfc9110#field.retry-after (delay-seconds or an HTTP-date)
 * - https://fetch.spec.whatwg.org/#http-redirect-fetch (an `Authorization` header is dropped on a
 *   cross-origin redirect: Twilio media redirect to signed storage URLs that need none)
 */
import { ProviderSendError, type ProviderFailureKind } from '../../../../domain/channels/outbound';

export interface ProviderHttpOptions {
  /** How long one call (answer and body) may take. */
  timeoutMs: number;
  /** Epoch milliseconds now: turns a `Retry-After` HTTP-date into seconds. */
  now?: () => number;
  /** The fetch implementation (tests may wrap it). */
  fetch?: typeof fetch;
}

export interface ProviderRequest {
  method: 'GET' | 'POST';
  url: string;
  headers?: Record<string, string>;
  /** A JSON body (sent with `Content-Type: application/json`). */
  json?: unknown;
  /** A form body (sent as `application/x-www-form-urlencoded`). */
  form?: URLSearchParams;
  /** Names the call in error messages (`Telegram sendMessage`): never the URL. */
  what: string;
  /** Values that must never appear in an error message: the connection's credentials. */
  secrets: readonly string[];
}

export interface ProviderAnswer {
  status: number;
  ok: boolean;
  /** The body parsed as JSON, or null when it is empty or not JSON. */
  json: unknown;
  /** `Retry-After` in whole seconds, when the provider sent one. */
  retryAfterSeconds: number | null;
}

export interface DownloadRequest {
  url: string;
  headers?: Record<string, string>;
  what: string;
  secrets: readonly string[];
  maxBytes: number;
}

export interface Download {
  bytes: Uint8Array;
  /** The `Content-Type` media type, parameters dropped. */
  mimeType: string | null;
  /** The `filename` of a `Content-Disposition` header, when there is one. */
  fileName: string | null;
}

export interface ProviderHttp {
  /** One call; resolves with any HTTP answer, throws `ProviderSendError('timeout')` when there is none. */
  call(request: ProviderRequest): Promise<ProviderAnswer>;
  /** A GET of a file, following redirects, refused past `maxBytes` (`rejected`, `too_large`). */
  download(request: DownloadRequest): Promise<Download>;
}

const redactedText = '[redacted]';

/**
 * A provider's or the network's text, safe to keep: no credential, no Telegram `/bot<token>/` path,
 * and at most 500 characters.
 */
export const redact = (text: string, secrets: readonly string[]): string => {
  let safe = text.replace(/\/bot[^/\s?#"']+/g, `/bot${redactedText}`);
  for (const secret of secrets) {
    if (secret.length >= 4) safe = safe.split(secret).join(redactedText);
  }
  return safe.length > 500 ? `${safe.slice(0, 497)}...` : safe;
};

/** `Retry-After` as whole seconds (delay-seconds or an HTTP-date); null when absent or unreadable. */
export const retryAfterSeconds = (value: string | null, nowMs: number): number | null => {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - nowMs) / 1000));
};

/** The usual meaning of an HTTP status, for answers a provider gives without its own error code. */
export const kindOfHttpStatus = (status: number): ProviderFailureKind =>
  status === 429
    ? 'rate_limited'
    : status >= 500
      ? 'provider_unavailable'
      : status === 401 || status === 403
        ? 'unauthorized'
        : 'rejected';

/** A 2xx answer whose body does not say what the provider did: treated as "maybe sent", like a timeout. */
export const unreadableAnswer = (what: string, status: number) =>
  new ProviderSendError(
    'timeout',
    'unreadable_answer',
    `${what}: answered ${status} without the id of the message; it may have been sent`,
    null,
    status,
  );

/** Socket errors raised before a connection exists (https://nodejs.org/api/errors.html#common-system-errors; undici's connect timeout). */
export const notConnectedCodes = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

export function createProviderHttp({ timeoutMs, now = Date.now, fetch: fetchImpl = fetch }: ProviderHttpOptions): ProviderHttp {
  const failed = (error: unknown, what: string, secrets: readonly string[]): ProviderSendError => {
    if (error instanceof ProviderSendError) return error;
    const name = (error as { name?: string } | null)?.name;
    if (name === 'TimeoutError' || name === 'AbortError') {
      return new ProviderSendError('timeout', 'timeout', `${what}: no answer within ${timeoutMs} ms`);
    }
    // undici: TypeError('fetch failed') with the socket error as its cause (ECONNREFUSED, ECONNRESET, ...).
    const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
    const detail = typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : String(error);
    // No connection was made, so the provider cannot have the request: a plain passing error, not "maybe sent".
    if (typeof cause?.code === 'string' && notConnectedCodes.has(cause.code)) {
      return new ProviderSendError('provider_unavailable', 'connection_failed', `${what}: could not connect (${cause.code})`);
    }
    return new ProviderSendError('timeout', 'timeout', `${what}: the connection failed (${redact(detail, secrets)})`);
  };

  return {
    async call({ method, url, headers = {}, json, form, what, secrets }) {
      const signal = AbortSignal.timeout(timeoutMs);
      try {
        const response = await fetchImpl(url, {
          method,
          headers: {
            accept: 'application/json',
            ...(json !== undefined ? { 'content-type': 'application/json' } : {}),
            ...(form !== undefined ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
            ...headers,
          },
          body: json !== undefined ? JSON.stringify(json) : form !== undefined ? form.toString() : undefined,
          signal,
        });
        const text = await response.text();
        let parsed: unknown = null;
        try {
          parsed = text ? JSON.parse(text) : null;
        } catch {
          parsed = null;
        }
        return {
          status: response.status,
          ok: response.ok,
          json: parsed,
          retryAfterSeconds: retryAfterSeconds(response.headers.get('retry-after'), now()),
        };
      } catch (error) {
        throw failed(error, what, secrets);
      }
    },

    async download({ url, headers = {}, what, secrets, maxBytes }) {
      const tooLarge = () =>
        new ProviderSendError('rejected', 'too_large', `${what}: the file is larger than ${maxBytes} bytes`);
      const stop = new AbortController();
      const signal = AbortSignal.any([AbortSignal.timeout(timeoutMs), stop.signal]);
      try {
        const response = await fetchImpl(url, { method: 'GET', headers, redirect: 'follow', signal });
        if (!response.ok) {
          await response.body?.cancel();
          const kind = response.status === 404 ? 'rejected' : kindOfHttpStatus(response.status);
          throw new ProviderSendError(
            kind,
            String(response.status),
            `${what}: the file could not be fetched (HTTP ${response.status})`,
            kind === 'rate_limited' ? retryAfterSeconds(response.headers.get('retry-after'), now()) : null,
            response.status,
          );
        }
        const declared = Number(response.headers.get('content-length') ?? Number.NaN);
        if (Number.isFinite(declared) && declared > maxBytes) {
          stop.abort();
          throw tooLarge();
        }
        const chunks: Uint8Array[] = [];
        let size = 0;
        if (response.body) {
          const reader = response.body.getReader();
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            size += value.byteLength;
            if (size > maxBytes) {
              stop.abort();
              await reader.cancel().catch(() => undefined);
              throw tooLarge();
            }
            chunks.push(value);
          }
        }
        const bytes = new Uint8Array(size);
        let offset = 0;
        for (const chunk of chunks) {
          bytes.set(chunk, offset);
          offset += chunk.byteLength;
        }
        return {
          bytes,
          mimeType: response.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase() || null,
          fileName: fileNameOf(response.headers.get('content-disposition')),
        };
      } catch (error) {
        throw failed(error, what, secrets);
      }
    },
  };
}

/** `filename*=UTF-8''…` or `filename="…"` of a Content-Disposition header (RFC 6266). */
const fileNameOf = (header: string | null): string | null => {
  if (!header) return null;
  const extended = /filename\*\s*=\s*(?:UTF-8|utf-8)''([^;]+)/.exec(header);
  if (extended?.[1]) {
    try {
      return decodeURIComponent(extended[1].trim());
    } catch {
      // fall through to the plain parameter
    }
  }
  const plain = /filename\s*=\s*(?:"([^"]*)"|([^;]+))/.exec(header);
  const name = (plain?.[1] ?? plain?.[2])?.trim();
  return name || null;
};

/**
 * A later part of a message sent in several calls (one file per call) failed after earlier parts were
 * accepted: the same failure, saying which id already went out (a retry would send those parts again).
 */
/**
 * A part's error, carrying the parts accepted before it (`accepted`: their ids, earlier calls' first), so
 * a re-send goes on after them instead of sending them again.
 */
export const afterAcceptedParts = (error: unknown, accepted: readonly string[]): unknown =>
  error instanceof ProviderSendError && accepted.length > 0
    ? new ProviderSendError(
        error.kind,
        error.code,
        `${error.message} (after ${accepted.length} part${accepted.length === 1 ? '' : 's'} accepted, the first as ${accepted[0]})`,
        error.retryAfterSeconds,
        error.httpStatus,
        accepted,
      )
    : error;

/** Basic authentication for `user:password` (Twilio: account SID and auth token). */
export const basicAuth = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;

/** A connection secret the sender cannot work without: its absence is a configuration fault. */
export const requiredSecret = (secrets: Record<string, string>, name: string, provider: string): string => {
  const value = secrets[name];
  if (!value) {
    throw new ProviderSendError('unauthorized', 'missing_credentials', `${provider}: the connection has no ${name}`);
  }
  return value;
};

/** A connection setting the sender cannot work without. */
export const requiredSetting = (settings: Record<string, unknown>, name: string, provider: string): string => {
  const value = settings[name];
  if (typeof value !== 'string' || !value) {
    throw new ProviderSendError('unauthorized', 'missing_settings', `${provider}: the connection has no ${name}`);
  }
  return value;
};
