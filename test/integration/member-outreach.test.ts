/* eslint-disable @typescript-eslint/no-explicit-any -- response bodies */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setChannelAdapters } from '../../functions/shared/deps';
import { createFakeChannelAdapters } from '../support/fake-channel-adapters';
import { ok } from '../support/ok';
import { connect, contactWith, inboundFrom, values } from '../support/send-setup';
import { createTestStack, seedWorkspace, type TestStack } from '../support/test-stack';

/**
 * Seed 000 ownership: a member writes to their own or unclaimed contacts; reaching out to a contact
 * (a new conversation with it, a send to it) is writing to it. Replying in a pool conversation stays a member's.
 */

let stack: TestStack;
let acme: Awaited<ReturnType<typeof seedWorkspace>>;
/** A second member (Mia, acme.member, claims the contact). */
let max: { user: { id: string }; token: string };

beforeAll(async () => {
  stack = await createTestStack();
  setChannelAdapters(createFakeChannelAdapters());
  acme = await seedWorkspace(stack, 'Acme');
  await connect(stack, acme, ['email', 'sms']);
  const user = await ok(
    stack.api('POST', '/v1/users', {
      token: acme.owner.token,
      body: { name: 'Max Member', email: `max-${randomUUID().slice(0, 6)}@example.com`, role: 'member' },
    }),
    201,
  );
  const token = await ok(stack.api('POST', '/v1/tokens', { token: acme.owner.token, body: { userId: user.id } }), 201);
  max = { user, token: token.token };
});
afterAll(async () => {
  setChannelAdapters(undefined);
  await stack?.destroy();
});

const post = (token: string, path: string, body?: unknown) => stack.api('POST', path, { token, body });
const sendTo = (token: string, contactId: string, body: Record<string, unknown> = {}) =>
  post(token, `/v1/contacts/${contactId}/messages`, { body: 'Hello, Carla', ...body });
const openWith = (token: string, contactId: string, extra: Record<string, unknown> = {}) =>
  post(token, '/v1/conversations', { kind: 'contact', contactId, channel: 'email', ...extra });
const conversationsOf = async (contactId: string) =>
  (await ok(stack.api('GET', '/v1/conversations', { token: acme.owner.token, query: { contactId } }))).items as any[];

/** Carla, claimed by Mia (a member), who emailed her: her email conversation is Mia's. */
async function claimedCarla() {
  const v = values();
  const carla = await contactWith(stack, acme, [{ kind: 'email', value: v.email }, { kind: 'phone', value: v.phone }], 'Claimed Carla');
  await ok(post(acme.member.token, `/v1/contacts/${carla.id}/claim`));
  const sent = await ok(sendTo(acme.member.token, carla.id, { subject: 'Hello' }), 201);
  return { carla, phone: v.phone, miasConversationId: sent.conversationId as string };
}

const refusedAsClaimed = (res: { status: number; body: any }) => {
  expect(res.status, JSON.stringify(res.body)).toBe(403);
  expect(res.body.code).toBe('forbidden');
  expect(res.body.detail).toMatch(/claimed by another user/);
};

describe('a member reaching out to a contact claimed by another user', () => {
  it('may not open a new conversation with them: nothing is written', async () => {
    const { carla, miasConversationId } = await claimedCarla();
    refusedAsClaimed(await openWith(max.token, carla.id, { new: true }));
    refusedAsClaimed(await openWith(max.token, carla.id, { channel: 'sms' }));
    // Opening is answered with the conversation that exists: reading it is everyone's.
    const existing = await openWith(max.token, carla.id);
    expect(existing.status).toBe(200);
    expect(existing.body).toMatchObject({ id: miasConversationId, assigneeId: acme.member.user.id });
    expect((await conversationsOf(carla.id)).map((c) => c.id)).toEqual([miasConversationId]);
    // The contact's owner, and owners and admins, open new ones.
    expect((await openWith(acme.member.token, carla.id, { new: true })).status).toBe(201);
    expect((await openWith(acme.admin.token, carla.id, { channel: 'sms' })).status).toBe(201);
  });

  it('may not send to them through the contact, whichever conversation the send picks; a pool reply stays theirs', async () => {
    const { carla, phone, miasConversationId } = await claimedCarla();
    refusedAsClaimed(await sendTo(max.token, carla.id));
    // Carla writes by SMS: a pool conversation, where any member replies (and takes it).
    const inbound = await inboundFrom(stack, acme, 'sms', phone, 'Anyone there?');
    const pool = await ok(stack.api('GET', `/v1/conversations/${inbound.conversationId}`, { token: max.token }));
    expect(pool).toMatchObject({ contactId: carla.id, assigneeId: null });
    const reply = await ok(post(max.token, `/v1/conversations/${pool.id}/messages`, { body: 'Max here, how can I help?' }), 201);
    expect(reply.routing).toMatchObject({ to: phone });
    // The contact route stays refused, even to the SMS conversation now assigned to Max.
    refusedAsClaimed(await sendTo(max.token, carla.id, { channel: 'sms' }));
    refusedAsClaimed(await sendTo(max.token, carla.id, { channel: 'email' }));
    const messages = await ok(stack.api('GET', `/v1/conversations/${miasConversationId}/messages`, { token: acme.owner.token }));
    expect(messages.items).toHaveLength(1);
    // The owner of the contact, and owners and admins, send.
    expect((await sendTo(acme.member.token, carla.id, { channel: 'email' })).status).toBe(201);
    expect((await sendTo(acme.owner.token, carla.id, { channel: 'sms' })).status).toBe(201);
  });

  it('an unclaimed contact, or their own, a member reaches as before', async () => {
    const open = await contactWith(stack, acme, [{ kind: 'email', value: values().email }], 'Unclaimed Una');
    const sent = await ok(sendTo(max.token, open.id), 201);
    expect(sent.authorUserId).toBe(max.user.id);
    expect((await openWith(acme.member.token, open.id, { new: true })).status).toBe(201);
    const own = await contactWith(stack, acme, [{ kind: 'email', value: values().email }], 'Own Olga');
    await ok(post(max.token, `/v1/contacts/${own.id}/claim`));
    expect((await openWith(max.token, own.id, { new: true })).status).toBe(201);
    expect((await sendTo(max.token, own.id)).status).toBe(201);
  });
});
