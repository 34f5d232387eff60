import { setChannelAdapters } from '../../../functions/shared/deps';
import { createFakeChannelAdapters } from '../../support/fake-channel-adapters';
import type { Ctx } from '../scenarios';

/** The providers, faked in-process: every send and every call placed is accepted, during the request. */
const providers = createFakeChannelAdapters();

const connectionBodies = {
  email: {
    kind: 'email',
    name: 'Mail',
    settings: { sesIdentity: 'example.com', fromAddress: 'team@example.com', replyDomain: 'reply.example.com' },
  },
  sms: {
    kind: 'sms',
    name: 'Twilio',
    settings: { accountSid: `AC${'0123456789abcdef'.repeat(2)}`, senderNumber: '+15017122661' },
    secrets: { authToken: 'f0e1d2c3b4a5968778695a4b3c2d1e0f' },
  },
} as const;

const connected = new WeakMap<object, Map<string, Promise<unknown>>>();

/**
 * The workspace's connection of `kind`, made once per workspace (the oldest active one serves every
 * send), with the faked providers in place.
 */
export async function providerConnected(ctx: Ctx, kind: keyof typeof connectionBodies) {
  setChannelAdapters(providers);
  const made = connected.get(ctx.ws) ?? new Map<string, Promise<unknown>>();
  connected.set(ctx.ws, made);
  if (!made.has(kind)) made.set(kind, ctx.call('POST', '/v1/channels', connectionBodies[kind]));
  await made.get(kind);
}
