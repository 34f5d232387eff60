/**
 * What every provider module of the sandbox shares: the request as read once (raw body kept), answers
 * in JSON or bytes, form and JSON bodies, and the fault draw that decides whether a send request meets
 * a 5xx, a 429, a timeout or dropped callbacks before the provider logic sees it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from './dispatcher';
import type { FaultKind, SandboxProvider, SandboxState } from './state';

export interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  url: URL;
  path: string;
  rawBody: Buffer;
  state: SandboxState;
  dispatcher: Dispatcher;
  /** The sandbox's own base URL (`http://127.0.0.1:<port>`). */
  baseUrl: string;
  /** Requests held by a `timeout` fault: dropped on stop. */
  held: Set<ServerResponse>;
}

export const readBody = (req: IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });

export const sendJson = (ctx: Ctx, status: number, body: unknown, headers: Record<string, string> = {}) => {
  const text = JSON.stringify(body);
  ctx.res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  ctx.res.end(text);
};

export const sendBytes = (ctx: Ctx, status: number, bytes: Buffer, contentType: string) => {
  ctx.res.writeHead(status, { 'content-type': contentType, 'content-length': bytes.length });
  ctx.res.end(bytes);
};

/** The body's fields: JSON object, form-encoded, or (GET) the query string. Values of a repeated form name: the last wins except where `all` is asked. */
export const bodyFields = (ctx: Ctx): Record<string, unknown> => {
  const type = String(ctx.req.headers['content-type'] ?? '');
  const text = ctx.rawBody.toString('utf8');
  const fields: Record<string, unknown> = Object.fromEntries(ctx.url.searchParams);
  if (text.trim() === '') return fields;
  if (type.includes('json') || /^\s*[{[]/.test(text)) {
    try {
      const json = JSON.parse(text) as unknown;
      if (json && typeof json === 'object' && !Array.isArray(json)) return { ...fields, ...json };
    } catch {
      return { ...fields, __malformed: true };
    }
    return fields;
  }
  for (const [name, value] of new URLSearchParams(text)) fields[name] = value;
  return fields;
};

/** Every value of a repeated form parameter (Twilio's `MediaUrl`, `StatusCallbackEvent`). */
export const formValues = (ctx: Ctx, name: string): string[] => {
  const values = new URLSearchParams(ctx.rawBody.toString('utf8')).getAll(name);
  return values.flatMap((value) => value.split(/\s+/)).filter(Boolean);
};

export const headersOf = (ctx: Ctx): Record<string, string> => {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(ctx.req.headers)) {
    if (value === undefined) continue;
    // Credentials are kept out of what the inspection API shows.
    headers[name] = name === 'authorization' ? '[redacted]' : Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
};

export const rawRequest = (ctx: Ctx) => ({
  method: ctx.method,
  path: ctx.url.pathname + ctx.url.search,
  headers: headersOf(ctx),
  body: ctx.rawBody.toString('utf8'),
});

/**
 * Draws the fault for a send request. `timeout` is answered here (held, then the connection dropped:
 * nothing recorded), so the caller returns at once on `'timeout'`; `5xx` and `429` are left to the
 * provider module to answer in its own error shape; `drop_callbacks` lets the send through;
 * `slow_accept` lets it through and holds the answer.
 */
export const drawFault = (ctx: Ctx, provider: SandboxProvider): FaultKind | null => {
  const { faults } = ctx.state;
  if (faults.rate <= 0 || faults.kinds.length === 0) return null;
  if (faults.providers.length > 0 && !faults.providers.includes(provider)) return null;
  if (ctx.state.faultRandom() >= faults.rate) return null;
  const kind = faults.kinds[Math.floor(ctx.state.faultRandom() * faults.kinds.length)]!;
  const only = faults.kindProviders[kind];
  if (only && !only.includes(provider)) return null;
  const met = `${kind}:${provider}`;
  ctx.state.faultsMet.set(met, (ctx.state.faultsMet.get(met) ?? 0) + 1);
  if (kind === 'timeout') hold(ctx, faults.timeoutMs);
  if (kind === 'slow_accept') answerLate(ctx, faults.timeoutMs);
  return kind;
};

/** The answer, whatever the provider module writes, leaves `ms` later (if the client still listens). */
const answerLate = (ctx: Ctx, ms: number) => {
  const { res, held } = ctx;
  const end = res.end.bind(res) as (...args: unknown[]) => unknown;
  res.end = ((...args: unknown[]) => {
    held.add(res);
    const timer = setTimeout(() => {
      held.delete(res);
      if (!res.destroyed) end(...args);
    }, ms);
    res.on('close', () => {
      clearTimeout(timer);
      held.delete(res);
    });
    return res;
  }) as typeof res.end;
};

const hold = (ctx: Ctx, ms: number) => {
  const { res, held } = ctx;
  held.add(res);
  const timer = setTimeout(() => {
    held.delete(res);
    res.destroy();
  }, ms);
  res.on('close', () => {
    clearTimeout(timer);
    held.delete(res);
  });
};

/** `Authorization: Bearer <token>`'s token. */
export const bearer = (ctx: Ctx): string | null =>
  /^Bearer\s+(\S+)$/i.exec(String(ctx.req.headers.authorization ?? ''))?.[1] ?? null;

/** HTTP basic credentials. */
export const basicAuth = (ctx: Ctx): { user: string; password: string } | null => {
  const match = /^Basic\s+(\S+)$/i.exec(String(ctx.req.headers.authorization ?? ''));
  if (!match) return null;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? null : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
};

export const unixNow = () => Math.floor(Date.now() / 1000);

/** A tiny valid PNG (1×1), the bytes every sandbox "photo" has. */
export const samplePng = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);
