/* eslint-disable @typescript-eslint/no-explicit-any -- response bodies */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliverMessageJob } from '../../domain/channels/deliveries/deliver-message.job';
import { applyProviderStatus, findDeliveredMessage, type MessageKey } from '../../domain/channels/deliveries/deliveries.service';
import { JobFailure, type JobKindDefinition } from '../../domain/jobs/job-kind';
import { findJob, type JobItem } from '../../domain/jobs/job-record';
import { failDeadLetteredJob, runJobMessage } from '../../domain/jobs/job-run.service';
import { sweepStalledJobs } from '../../domain/jobs/job-sweep.service';
import type { QueuedMessage } from '../../domain/shared/ports';
import { getJobQueue, setChannelAdapters, setJobQueue, withBlobStore, withDeliveryDeps } from '../../functions/shared/deps';
import { createFakeChannelAdapters } from '../support/fake-channel-adapters';
import { connect, inboundFrom, values } from '../support/send-setup';
import { startTestJobs, type TestJobs } from '../support/test-jobs';
import { createTestStack, seedWorkspace, type TestStack } from '../support/test-stack';

let stack: TestStack;
let acme: Awaited<ReturnType<typeof seedWorkspace>>;
let globex: Awaited<ReturnType<typeof seedWorkspace>>;
let connections: Record<string, string>;
let jobs: TestJobs;
const fake = createFakeChannelAdapters();
/** The delay the dispatcher chose for each job message it sent (the messages go out without it: tests do not wait). */
const dispatched: QueuedMessage[] = [];
/** What happens while a job's delayed message waits (by job id): a provider callback, say. */
const duringDelay = new Map<string, () => Promise<void>>();

beforeAll(async () => {
  stack = await createTestStack();
  setChannelAdapters(fake);
  acme = await seedWorkspace(stack, 'Acme');
  globex = await seedWorkspace(stack, 'Globex');
  connections = await connect(stack, acme, ['email', 'whatsapp', 'telegram', 'sms']);
  jobs = await startTestJobs(stack, ['deliver_message']);
  const queue = getJobQueue();
  setJobQueue({
    send: async (message) => {
      dispatched.push(message);
      const jobId = (message.body as { jobId: string }).jobId;
      const meanwhile = message.delaySeconds ? duringDelay.get(jobId) : undefined;
      if (meanwhile) {
        // The delayed message is on its way (the dispatch is done) and arrives after what happens meanwhile.
        duringDelay.delete(jobId);
        void meanwhile().then(() => queue.send({ queue: message.queue, body: message.body }));
        return { messageId: `deferred-${jobId}` };
      }
      return queue.send({ queue: message.queue, body: message.body });
    },
  });
});
let jobsStopped = false;
const stopJobs = async () => {
  if (jobsStopped) return;
  jobsStopped = true;
  await jobs?.stop();
};
afterAll(async () => {
  await stopJobs();
  setChannelAdapters(undefined);
  await stack?.destroy();
});

const keyOf = (conversationId: string, messageId: string): MessageKey => ({
  workspaceId: acme.workspace.id,
  conversationId,
  messageId,
});

/** The contact writes on the channel, and the owner answers: the message, its key and its job's id. */
async function replyOn(channel: 'email' | 'sms' | 'whatsapp' | 'telegram', payload?: Record<string, unknown>) {
  const v = values();
  const from = channel === 'email' ? v.email : channel === 'telegram' ? v.chat : v.phone;
  const inbound = await inboundFrom(stack, acme, channel, from, 'Hello?', payload);
  const res = await stack.api('POST', `/v1/conversations/${inbound.conversationId}/messages`, {
    token: acme.owner.token,
    body: { body: `Answer on ${channel}` },
  });
  expect(res.status).toBe(201);
  const key = keyOf(inbound.conversationId, res.body.id);
  const stored = await findDeliveredMessage(stack.deps, key);
  return { inbound, message: res.body, key, jobId: stored!.delivery.jobId, to: from };
}

const delaysOf = (jobId: string) =>
  dispatched.filter((message) => (message.body as { jobId: string }).jobId === jobId).map((message) => message.delaySeconds ?? 0);

describe('the deliver_message job', () => {
  it('sends once and records the provider’s id: the message is sent', async () => {
    const sent = await replyOn('whatsapp', { providerMessageId: 'wamid.INBOUND1' });
    fake.next({ accept: true, providerMessageId: 'wamid.OUT1', providerStatus: 'accepted' });
    const job = await jobs.finished(acme.workspace.id, sent.jobId);
    expect(job).toMatchObject({ status: 'succeeded', result: { status: 'sent', providerMessageId: 'wamid.OUT1' } });
    const calls = fake.sendsOf(sent.message.id);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.message).toMatchObject({
      to: sent.to,
      text: 'Answer on whatsapp',
      connection: { connectionId: connections.whatsapp, kind: 'whatsapp', secrets: { accessToken: 'EAAG-access-token-1' } },
      replyToProviderMessageId: 'wamid.INBOUND1',
      email: null,
      reference: { messageId: sent.message.id, attempt: 1 },
    });
    const message = await stack.api('GET', `/v1/conversations/${sent.key.conversationId}/messages/${sent.message.id}`, {
      token: acme.owner.token,
    });
    expect(message.body.delivery).toMatchObject({
      status: 'sent',
      attempts: [{ attempt: 1, status: 'sent', providerMessageId: 'wamid.OUT1', providerStatus: 'accepted', error: null }],
    });
    // The first dispatch had no delay.
    expect(delaysOf(sent.jobId)).toEqual([0]);
  });

  it('email: our Message-ID, the thread’s In-Reply-To and References, Reply-To; both ids kept for threading', async () => {
    const sent = await replyOn('email', {
      email: { messageIdHeader: '<Inbound-2@mail.example.com>', inReplyTo: '<first@x>', references: ['<first@x>'], subject: 'Help' },
    });
    fake.next({ accept: true, providerMessageId: '0100018c-ses-id' });
    await jobs.finished(acme.workspace.id, sent.jobId);
    const [call] = fake.sendsOf(sent.message.id);
    expect(call!.message.email).toEqual({
      subject: 'Re: Help',
      messageIdHeader: `<${sent.message.id.toLowerCase()}@reply.acme.test>`,
      inReplyTo: '<Inbound-2@mail.example.com>',
      references: ['<first@x>', '<Inbound-2@mail.example.com>'],
      replyTo: `reply+${sent.key.conversationId}@reply.acme.test`,
      fromName: 'Olivia Owner',
    });
    const guards = await stack.deps.db.entities.uniqueGuard
      .get([
        { workspaceId: acme.workspace.id, scope: 'mail-id', value: `${sent.message.id.toLowerCase()}@reply.acme.test` },
        { workspaceId: acme.workspace.id, scope: 'mail-id', value: '0100018c-ses-id@email.amazonses.com' },
      ])
      .go();
    expect(guards.data.map((guard) => guard.ownerId)).toEqual([sent.key.conversationId, sent.key.conversationId]);
  });

  it('a refusal fails the delivery at once with the provider’s code and message', async () => {
    const sent = await replyOn('sms');
    fake.next({ fail: 'rejected', code: '21211', message: "The 'To' number is not a valid phone number" });
    const job = await jobs.finished(acme.workspace.id, sent.jobId);
    expect(job.status).toBe('succeeded');
    expect(fake.sendsOf(sent.message.id)).toHaveLength(1);
    const message = await findDeliveredMessage(stack.deps, sent.key);
    expect(message!.delivery).toMatchObject({ status: 'failed', autoRetries: 0 });
    expect(message!.delivery.attempts[0]!.error).toEqual({ code: '21211', message: "The 'To' number is not a valid phone number" });
    // Unauthorized is as final.
    const other = await replyOn('telegram');
    fake.next({ fail: 'unauthorized', code: '401', message: 'Unauthorized' });
    await jobs.finished(acme.workspace.id, other.jobId);
    expect((await findDeliveredMessage(stack.deps, other.key))!.delivery.attempts[0]!.error).toEqual({ code: '401', message: 'Unauthorized' });
  });

  it('passing errors back off (5 s, 30 s, 2 min…, or the provider’s retry_after) and the next send is accepted', async () => {
    const sent = await replyOn('telegram');
    fake.next(
      { fail: 'rate_limited', code: '429', retryAfterSeconds: 40 },
      { fail: 'timeout', code: 'timeout' },
      { fail: 'provider_unavailable', code: '502' },
      { accept: true, providerMessageId: `${sent.to}:77` },
    );
    const job = await jobs.finished(acme.workspace.id, sent.jobId);
    expect(job).toMatchObject({ status: 'succeeded', result: { status: 'sent', providerMessageId: `${sent.to}:77` } });
    expect(fake.sendsOf(sent.message.id).map((call) => call.outcome)).toEqual(['rate_limited', 'timeout', 'provider_unavailable', 'accepted']);
    // The 429's retry_after beats the first back-off; then 30 s and 2 min.
    expect(delaysOf(sent.jobId)).toEqual([0, 40, 30, 120]);
    const message = await findDeliveredMessage(stack.deps, sent.key);
    expect(message!.delivery).toMatchObject({ status: 'sent', autoRetries: 3 });
    expect(message!.delivery.attempts).toHaveLength(1);
  });

  it('after 5 automatic re-sends: failed, retries_exhausted, naming the provider’s last error; never queued', async () => {
    const sent = await replyOn('whatsapp');
    fake.next(
      ...Array.from({ length: 5 }, () => ({ fail: 'provider_unavailable' as const, code: '503' })),
      { fail: 'rate_limited', code: '130429', message: 'Rate limit hit', retryAfterSeconds: 5000 },
    );
    const job = await jobs.finished(acme.workspace.id, sent.jobId);
    expect(job.status).toBe('succeeded');
    expect(fake.sendsOf(sent.message.id)).toHaveLength(6);
    expect(delaysOf(sent.jobId)).toEqual([0, 5, 30, 120, 600, 900]);
    const message = await findDeliveredMessage(stack.deps, sent.key);
    expect(message!.delivery.status).toBe('failed');
    expect(message!.delivery.attempts[0]!.error).toEqual({
      code: 'retries_exhausted',
      message: 'The provider kept failing after 5 automatic re-sends; its last error: 130429: Rate limit hit',
    });
  });

  it('a WhatsApp send with no answer waits 60 s for its status; the status naming the attempt marks it sent and nothing is sent twice', async () => {
    const sent = await replyOn('whatsapp');
    // The provider took it, but the answer never came back.
    fake.next({ fail: 'timeout', code: 'timeout', message: 'no answer within 10000 ms', providerMessageId: 'wamid.UNANSWERED' });
    duringDelay.set(sent.jobId, async () => {
      const reference = fake.sendsOf(sent.message.id)[0]!.message.reference;
      const outcome = await applyProviderStatus(stack.deps, { workspaceId: acme.workspace.id, connectionId: connections.whatsapp! }, {
        type: 'delivery_status',
        provider: 'whatsapp',
        channel: 'whatsapp',
        dedupeKeys: ['whatsapp:status:wamid.UNANSWERED:sent'],
        providerMessageId: 'wamid.UNANSWERED',
        recipient: sent.to,
        providerStatus: 'sent',
        status: 'sent',
        at: null,
        error: null,
        email: null,
        sendReference: { conversationId: reference.conversationId, messageId: reference.messageId, attempt: reference.attempt },
      });
      expect(outcome).toBe('applied');
    });
    const job = await jobs.finished(acme.workspace.id, sent.jobId);
    expect(job).toMatchObject({ status: 'succeeded', result: { status: 'sent', providerMessageId: 'wamid.UNANSWERED' } });
    expect(fake.sendsOf(sent.message.id)).toHaveLength(1);
    expect(delaysOf(sent.jobId)).toEqual([0, 60]);
    const message = await findDeliveredMessage(stack.deps, sent.key);
    expect(message!.delivery.attempts).toEqual([
      expect.objectContaining({ attempt: 1, status: 'sent', providerMessageId: 'wamid.UNANSWERED', error: null }),
    ]);
  });

  it('with no status in the wait, the unanswered send is sent again; a refused connection (never sent) backs off as usual', async () => {
    const sent = await replyOn('sms');
    fake.next({ fail: 'timeout', code: 'timeout' }, { fail: 'provider_unavailable', code: 'connection_failed' });
    const job = await jobs.finished(acme.workspace.id, sent.jobId);
    expect(job).toMatchObject({ status: 'succeeded', result: { status: 'sent' } });
    expect(fake.sendsOf(sent.message.id).map((call) => call.outcome)).toEqual(['timeout', 'provider_unavailable', 'accepted']);
    expect(delaysOf(sent.jobId)).toEqual([0, 60, 30]);
  });

  it('a multi-part message: the re-send after a passing error goes on after the parts already accepted', async () => {
    const sent = await replyOn('telegram');
    fake.next({ fail: 'rate_limited', code: '429', retryAfterSeconds: 3, acceptedParts: [`${sent.to}:901`] }, { accept: true, providerMessageId: `${sent.to}:901` });
    const job = await jobs.finished(acme.workspace.id, sent.jobId);
    expect(job).toMatchObject({ status: 'succeeded', result: { status: 'sent', providerMessageId: `${sent.to}:901` } });
    const calls = fake.sendsOf(sent.message.id);
    expect(calls.map((call) => call.message.partsSent)).toEqual([[], [`${sent.to}:901`]]);
    const message = await stack.api('GET', `/v1/conversations/${sent.key.conversationId}/messages/${sent.message.id}`, { token: acme.owner.token });
    expect(message.body.delivery.attempts).toEqual([
      expect.objectContaining({ status: 'sent', providerMessageId: `${sent.to}:901`, partsSent: [`${sent.to}:901`] }),
    ]);
  });

  it('a retry_after longer than 15 minutes waits 15 minutes (the SQS limit)', async () => {
    const sent = await replyOn('sms');
    fake.next({ fail: 'rate_limited', code: '20429', retryAfterSeconds: 3600 });
    await jobs.finished(acme.workspace.id, sent.jobId);
    expect(delaysOf(sent.jobId)).toEqual([0, 900]);
  });
});

describe('a job that fails by another route leaves its delivery failed, with the reason', () => {
  /** A reply whose job exists but is never run (no message reaches a runner: its stream record is skipped here). */
  async function queuedReply() {
    const sent = await replyOn('sms');
    // Let the dispatcher send it, then take the job and delivery as they stand, with nothing having run.
    return sent;
  }

  it('the dead-letter queue: retries_exhausted with the last run’s error', async () => {
    await stopJobs();
    const sent = await queuedReply();
    const item = (await findJob(stack.deps, acme.workspace.id, sent.jobId, true))!;
    await stack.deps.db.entities.job.patch({ workspaceId: acme.workspace.id, jobId: sent.jobId }).set({ lastError: 'socket hang up' }).go();
    expect(await failDeadLetteredJob(stack.deps, { workspaceId: acme.workspace.id, jobId: sent.jobId, seq: item.dispatchSeq })).toBe('failed');
    const message = await findDeliveredMessage(stack.deps, sent.key);
    expect(message!.delivery.status).toBe('failed');
    expect(message!.delivery.attempts[0]!.error).toEqual({ code: 'retries_exhausted', message: 'socket hang up' });
    // A redelivered dead letter changes nothing.
    expect(await failDeadLetteredJob(stack.deps, { workspaceId: acme.workspace.id, jobId: sent.jobId, seq: item.dispatchSeq })).toBe('ended');
  });

  it('the sweep: stalled', async () => {
    const sent = await queuedReply();
    const item = (await findJob(stack.deps, acme.workspace.id, sent.jobId, true))!;
    // Its step was sent again three times with no run taking it.
    await stack.deps.db.entities.job
      .patch({ workspaceId: acme.workspace.id, jobId: sent.jobId })
      .set({ redispatches: 3, redispatchedVersion: item.version })
      .go();
    stack.clock.advance(10 * 3_600_000);
    const report = await sweepStalledJobs(stack.deps, { staleAfterMs: { deliver_message: 210_000 } });
    expect(report.stalled.map((job) => job.jobId)).toContain(sent.jobId);
    const message = await findDeliveredMessage(stack.deps, sent.key);
    expect(message!.delivery.status).toBe('failed');
    expect(message!.delivery.attempts[0]!.error?.code).toBe('stalled');
  });

  it('the sweep leaves a step alone while its back-off delay runs', async () => {
    const sent = await queuedReply();
    const key = { workspaceId: acme.workspace.id, jobId: sent.jobId };
    await stack.deps.db.entities.job.patch(key).set({ dispatchDelaySeconds: 900 }).go();
    // Past its stale time (210 s) but within stale time + delay: not re-sent.
    stack.clock.advance(600_000);
    let report = await sweepStalledJobs(stack.deps, { staleAfterMs: { deliver_message: 210_000 } });
    expect(report.redispatched.map((job) => job.jobId)).not.toContain(sent.jobId);
    stack.clock.advance(600_000);
    report = await sweepStalledJobs(stack.deps, { staleAfterMs: { deliver_message: 210_000 } });
    expect(report.redispatched.map((job) => job.jobId)).toContain(sent.jobId);
    // The re-sent step goes without the delay.
    expect((await findJob(stack.deps, acme.workspace.id, sent.jobId, true))!.dispatchDelaySeconds).toBeUndefined();
  });

  it('the runner: a step that fails the job (JobFailure)', async () => {
    const sent = await queuedReply();
    const item = (await findJob(stack.deps, acme.workspace.id, sent.jobId, true)) as JobItem;
    const failing: JobKindDefinition<any, any, any> = {
      ...deliverMessageJob,
      step: async () => {
        throw new JobFailure('credentials_unreadable', 'The connection’s credentials could not be opened');
      },
    };
    const outcome = await runJobMessage(withDeliveryDeps(withBlobStore(stack.deps)), failing, {
      workspaceId: acme.workspace.id,
      jobId: sent.jobId,
      seq: item.dispatchSeq,
    }, { deadlineReached: () => false });
    expect(outcome).toBe('failed');
    const message = await findDeliveredMessage(stack.deps, sent.key);
    expect(message!.delivery.attempts[0]!.error).toEqual({
      code: 'credentials_unreadable',
      message: 'The connection’s credentials could not be opened',
    });
  });
});

describe('a user’s retry really resends', () => {
  const retry = (token: string, conversationId: string, messageId: string) =>
    stack.api('POST', `/v1/conversations/${conversationId}/messages/${messageId}/retry`, { token });

  /** A reply whose delivery failed (the provider refused it), run through the job step directly. */
  async function failedReply(channel: 'sms' | 'telegram' = 'sms') {
    const sent = await replyOn(channel);
    fake.next({ fail: 'rejected', code: '30007', message: 'Carrier violation' });
    const item = (await findJob(stack.deps, acme.workspace.id, sent.jobId, true))!;
    await runJobMessage(withDeliveryDeps(withBlobStore(stack.deps)), deliverMessageJob, {
      workspaceId: acme.workspace.id,
      jobId: sent.jobId,
      seq: item.dispatchSeq,
    }, { deadlineReached: () => false });
    expect((await findDeliveredMessage(stack.deps, sent.key))!.delivery.status).toBe('failed');
    return sent;
  }

  it('accepted: 200 with the new attempt sent and its own provider id; the delayed job then finds nothing to do', async () => {
    const sent = await failedReply();
    fake.next({ accept: true, providerMessageId: 'SM-RETRY-1', providerStatus: 'queued' });
    const res = await retry(acme.owner.token, sent.key.conversationId, sent.message.id);
    expect(res.status).toBe(200);
    expect(res.body.delivery).toMatchObject({ status: 'sent', attempt: 2 });
    expect(res.body.delivery.attempts.map((a: any) => [a.attempt, a.trigger, a.status, a.providerMessageId])).toEqual([
      [1, 'send', 'failed', null],
      [2, 'manual_retry', 'sent', 'SM-RETRY-1'],
    ]);
    expect(res.body.delivery.attempts[1].requestedBy).toBe(acme.owner.user.id);
    // The safety net: a new job, its first message delayed 60 s.
    const stored = await findDeliveredMessage(stack.deps, sent.key);
    const safetyNet = (await findJob(stack.deps, acme.workspace.id, stored!.delivery.jobId, true))!;
    expect(safetyNet).toMatchObject({ kind: 'deliver_message', status: 'queued', dispatchDelaySeconds: 60, input: { attempt: 2 } });
    const outcome = await runJobMessage(withDeliveryDeps(withBlobStore(stack.deps)), deliverMessageJob, {
      workspaceId: acme.workspace.id,
      jobId: safetyNet.jobId,
      seq: 1,
    }, { deadlineReached: () => false });
    expect(outcome).toBe('succeeded');
    expect(fake.sendsOf(sent.message.id)).toHaveLength(2);
    // Sent now: a second retry is refused.
    const again = await retry(acme.owner.token, sent.key.conversationId, sent.message.id);
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'delivery_not_failed', deliveryStatus: 'sent' });
  });

  it('refused again: 200 with the new attempt failed and the provider’s error', async () => {
    const sent = await failedReply('telegram');
    fake.next({ fail: 'rejected', code: '403', message: 'Forbidden: bot was blocked by the user' });
    const res = await retry(acme.admin.token, sent.key.conversationId, sent.message.id);
    expect(res.status).toBe(200);
    expect(res.body.delivery).toMatchObject({ status: 'failed', attempt: 2 });
    expect(res.body.delivery.attempts[1].error).toEqual({ code: '403', message: 'Forbidden: bot was blocked by the user' });
  });

  it('a passing error: 200 with the attempt queued (the job retries it), never sent', async () => {
    const sent = await failedReply();
    fake.next({ fail: 'provider_unavailable', code: '503', message: 'Service Unavailable' });
    const res = await retry(acme.owner.token, sent.key.conversationId, sent.message.id);
    expect(res.status).toBe(200);
    expect(res.body.delivery).toMatchObject({ status: 'queued', attempt: 2, autoRetries: 1 });
    expect(res.body.delivery.attempts[1]).toMatchObject({ status: 'queued', providerMessageId: null, error: { code: '503' } });
    // The job sends it when its delay has passed.
    const stored = await findDeliveredMessage(stack.deps, sent.key);
    fake.next({ accept: true, providerMessageId: 'SM-LATER' });
    await runJobMessage(withDeliveryDeps(withBlobStore(stack.deps)), deliverMessageJob, {
      workspaceId: acme.workspace.id,
      jobId: stored!.delivery.jobId,
      seq: 1,
    }, { deadlineReached: () => false });
    expect((await findDeliveredMessage(stack.deps, sent.key))!.delivery).toMatchObject({ status: 'sent' });
  });

  it('a delivery that has not failed: 409; a note: 422', async () => {
    const sent = await replyOn('sms');
    const queued = await retry(acme.owner.token, sent.key.conversationId, sent.message.id);
    expect(queued.status).toBe(409);
    expect(queued.body.deliveryStatus).toBe('queued');
    const note = await stack.api('POST', `/v1/conversations/${sent.key.conversationId}/messages`, {
      token: acme.owner.token,
      body: { body: 'internal', note: true },
    });
    const refused = await retry(acme.owner.token, sent.key.conversationId, note.body.id);
    expect(refused.status).toBe(422);
    expect(refused.body.reason).toBe('not_deliverable');
  });

  it('a member retries only where they may reply; another workspace gets a 404', async () => {
    const sent = await failedReply();
    await stack.api('POST', `/v1/conversations/${sent.key.conversationId}/assign`, {
      token: acme.owner.token,
      body: { assigneeId: acme.admin.user.id },
    });
    const calls = fake.sends.length;
    expect((await retry(acme.member.token, sent.key.conversationId, sent.message.id)).status).toBe(403);
    expect((await retry(globex.owner.token, sent.key.conversationId, sent.message.id)).status).toBe(404);
    expect(fake.sends.length).toBe(calls);
    // Once it is theirs, the member may.
    await stack.api('POST', `/v1/conversations/${sent.key.conversationId}/assign`, {
      token: acme.owner.token,
      body: { assigneeId: acme.member.user.id },
    });
    expect((await retry(acme.member.token, sent.key.conversationId, sent.message.id)).status).toBe(200);
  });
});
