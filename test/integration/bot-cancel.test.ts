import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { botJobId } from '../../domain/bot/bot-turn';
import { findJob } from '../../domain/jobs/job-record';
import { failDeadLetteredJob } from '../../domain/jobs/job-run.service';
import { inboundClassificationSettings } from '../../domain/qualification/inbound-classification';
import { ok } from '../support/ok';
import { connect, values } from '../support/send-setup';
import { createTestStack, seedWorkspace, type TestStack } from '../support/test-stack';
import { startTestStreams, type TestStreams } from '../support/test-streams';

/* eslint-disable @typescript-eslint/no-explicit-any -- records read back from the API */

/*
 * A `bot_reply` job that ends without answering leaves the contact's message to people: failed for good
 * (the dead-letter path) or canceled by a user (`POST /v1/jobs/{id}/cancel`, which runs no kind's
 * module). No job runner here: the bot's job stays queued until the test cancels or fails it.
 */

let stack: TestStack;
let acme: Awaited<ReturnType<typeof seedWorkspace>>;
let other: Awaited<ReturnType<typeof seedWorkspace>>;
let streams: TestStreams;

beforeAll(async () => {
  inboundClassificationSettings.enabled = false;
  stack = await createTestStack();
  acme = await seedWorkspace(stack, 'Acme');
  other = await seedWorkspace(stack, 'Other');
  await connect(stack, acme, ['sms']);
  streams = await startTestStreams(stack, ['event-fanout']);
  const current = await stack.api('GET', '/v1/bot', { token: acme.owner.token });
  await ok(
    stack.api('PUT', '/v1/bot', {
      token: acme.owner.token,
      body: { enabled: true, replyWhen: 'always', rules: [] },
      headers: { 'if-match': `"${current.body.version}"` },
    }),
  );
});
afterAll(async () => {
  await streams?.stop();
  await stack?.destroy();
  inboundClassificationSettings.enabled = true;
});

const get = (path: string, token = acme.owner.token) => stack.api('GET', path, { token });
const post = (path: string, token = acme.owner.token) => stack.api('POST', path, { token, body: {} });

/** A contact owned by the member writes in; the bot's consumer queues its job. */
async function unansweredMessage() {
  const { phone } = values();
  const contact = await ok(stack.api('POST', '/v1/contacts', { token: acme.owner.token, body: { name: 'Cai Cancel', channels: [{ kind: 'phone', value: phone }], ownerId: acme.member.user.id } }), 201);
  const inbound = await ok(
    stack.api('POST', '/v1/inbound-messages', {
      token: acme.owner.token,
      body: { channel: 'sms', from: phone, externalId: `ext-${randomUUID()}`, body: 'Where is my package?' },
    }),
    201,
  );
  await streams.drain();
  const events = (await ok(get(`/v1/events?entityType=message&entityId=${inbound.message.id}`))).items as any[];
  const replied = events.find((event) => event.type === 'sms.replied');
  const jobId = botJobId(replied.id);
  const job = await findJob(stack.deps, acme.workspace.id, jobId, true);
  expect(job).toMatchObject({ kind: 'bot_reply', status: 'queued' });
  return { contactId: contact.id as string, conversationId: inbound.conversationId as string, messageId: inbound.message.id as string, jobId, seq: job!.dispatchSeq };
}

/** Where the conversation stands for people: its status and assignee, the bot's state, who has the message unread, the escalations. */
async function handedOver(turn: { conversationId: string; messageId: string }) {
  const conversation = await ok(get(`/v1/conversations/${turn.conversationId}`));
  const bot = await ok(get(`/v1/conversations/${turn.conversationId}/bot`));
  const unread = ((await ok(get('/v1/inbox/unread-messages?limit=50', acme.member.token))).items as any[]).map((item) => item.id);
  const escalations = ((await ok(get(`/v1/events?entityType=conversation&entityId=${turn.conversationId}&limit=100`))).items as any[]).filter(
    (event) => event.type === 'bot.escalated',
  );
  return {
    status: conversation.status,
    assigneeId: conversation.assigneeId,
    botActive: bot.active,
    reason: bot.reason,
    unreadForAssignee: unread.includes(turn.messageId),
    escalations: escalations.map((event) => ({ reason: event.payload.reason, assigneeId: event.payload.assigneeId, messageId: event.payload.messageId })),
  };
}

describe('a bot_reply job that ends unanswered', () => {
  it('canceled through the API: people take the conversation exactly as after a failure', async () => {
    const failing = await unansweredMessage();
    expect(await failDeadLetteredJob(stack.deps, { workspaceId: acme.workspace.id, jobId: failing.jobId, seq: failing.seq })).toBe('failed');
    const afterFailure = await handedOver(failing);
    expect(afterFailure).toMatchObject({
      status: 'open',
      assigneeId: acme.member.user.id,
      botActive: false,
      reason: 'model_unavailable',
      unreadForAssignee: true,
      escalations: [{ reason: 'model_unavailable', assigneeId: acme.member.user.id, messageId: failing.messageId }],
    });

    const canceled = await unansweredMessage();
    expect((await ok(post(`/v1/jobs/${canceled.jobId}/cancel`))).status).toBe('canceled');
    await streams.drain();
    const afterCancel = await handedOver(canceled);
    const sameAs = (state: typeof afterFailure, reason: string) => ({
      ...state,
      reason,
      escalations: state.escalations.map((escalation) => ({ ...escalation, reason, messageId: canceled.messageId })),
    });
    expect(afterCancel).toEqual(sameAs(afterFailure, 'reply_canceled'));

    // The stream record handed over again changes nothing: one escalation.
    await streams.drain();
    expect((await handedOver(canceled)).escalations).toHaveLength(1);
  });

  it('a member may not cancel the system’s job, nor another workspace (404): nothing is handed over', async () => {
    const turn = await unansweredMessage();
    expect((await post(`/v1/jobs/${turn.jobId}/cancel`, acme.member.token)).status).toBe(404);
    expect((await post(`/v1/jobs/${turn.jobId}/cancel`, other.owner.token)).status).toBe(404);
    await streams.drain();
    expect(await handedOver(turn)).toMatchObject({ assigneeId: null, botActive: true, escalations: [] });
  });
});
