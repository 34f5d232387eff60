import { randomUUID } from 'node:crypto';
import type { TestStack } from './test-stack';

type Seeded = { workspace: { id: string }; owner: { token: string } };

/** Settings and secrets of one connection per kind, as the API takes them. */
export const connectionInputs = {
  email: { kind: 'email', name: 'Mail', settings: { sesIdentity: 'acme.test', fromAddress: 'hello@acme.test', replyDomain: 'reply.acme.test' } },
  whatsapp: {
    kind: 'whatsapp',
    name: 'WhatsApp',
    settings: { phoneNumberId: '1234567890' },
    secrets: { accessToken: 'EAAG-access-token-1', appSecret: 'app-secret-0001', verifyToken: 'verify-me' },
  },
  telegram: { kind: 'telegram', name: 'Bot', settings: {}, secrets: { botToken: '123456:ABCdefGhIJKlmNoPQRsTUVwxyZ012345' } },
  sms: {
    kind: 'sms',
    name: 'Twilio',
    settings: { accountSid: `AC${'0123456789abcdef'.repeat(2)}`, senderNumber: '+15550001111' },
    secrets: { authToken: 'twilio-auth-token-1' },
  },
} as const;
export type Kind = keyof typeof connectionInputs;

/**
 * A domain's mail goes to one workspace: the first workspace a test connects email for has acme.test,
 * every other one a domain of its own.
 */
const mailDomains = new Map<string, string>();
function emailInputFor(ws: Seeded) {
  const domain = mailDomains.get(ws.workspace.id) ?? (mailDomains.size === 0 ? 'acme.test' : `${ws.workspace.id.slice(-8).toLowerCase()}.test`);
  mailDomains.set(ws.workspace.id, domain);
  return { ...connectionInputs.email, settings: { sesIdentity: domain, fromAddress: `hello@${domain}`, replyDomain: `reply.${domain}` } };
}

/** Connects channels to the workspace (owner's token); returns the connection ids by kind. */
export async function connect(stack: TestStack, ws: Seeded, kinds: Kind[]): Promise<Record<string, string>> {
  const ids: Record<string, string> = {};
  for (const kind of kinds) {
    const body = kind === 'email' ? emailInputFor(ws) : connectionInputs[kind];
    const res = await stack.api('POST', '/v1/channels', { token: ws.owner.token, body });
    if (res.status !== 201) throw new Error(`connect ${kind}: ${res.status} ${JSON.stringify(res.body)}`);
    ids[kind] = res.body.id;
  }
  return ids;
}

let n = 0;
/** A contact with the given channel values (a unique email and phone numbers unless given). */
export async function contactWith(
  stack: TestStack,
  ws: Seeded,
  channels: { kind: string; value: string; primary?: boolean }[],
  name = 'Carla Contact',
): Promise<{ id: string }> {
  const res = await stack.api('POST', '/v1/contacts', { token: ws.owner.token, body: { name, channels } });
  if (res.status !== 201) throw new Error(`contact: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Distinct values for a test: an email, an E.164 number, a Telegram chat id. */
export function values() {
  n += 1;
  const tag = randomUUID().slice(0, 6);
  const digits = String(n % 10000).padStart(4, '0');
  return { email: `c${n}-${tag}@example.com`, phone: `+44207946${digits}`, chat: String(700000000 + n * 1000 + Math.floor(Math.random() * 999)) };
}

/** The contact writes in (the inbox's ingest): returns the ingest result (conversation, message). */
export async function inboundFrom(
  stack: TestStack,
  ws: Seeded,
  channel: 'email' | 'sms' | 'whatsapp' | 'telegram',
  from: string,
  body = 'Hello?',
  payload?: Record<string, unknown>,
) {
  const res = await stack.api('POST', '/v1/inbound-messages', {
    token: ws.owner.token,
    body: { channel, from, externalId: `ext-${randomUUID()}`, body, ...(payload ? { payload } : {}) },
    headers: { 'idempotency-key': randomUUID() },
  });
  if (res.status !== 201) throw new Error(`inbound: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { conversationId: string; contactId: string; message: { id: string } };
}
