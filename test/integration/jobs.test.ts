import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import type { JobKindDefinition } from '../../domain/jobs/job-kind';
import { findJob, type JobItem } from '../../domain/jobs/job-record';
import { createJob, jobFileKey, newJobId } from '../../domain/jobs/jobs.service';
import type { JobKind } from '../../domain/jobs/jobs.schemas';
import type { CallerContext } from '../../domain/shared/context';
import { createJobHandler, type JobHandlerOptions } from '../../functions/jobs/job-runner';
import { deadLetterQueueDefinition, type JobQueueDefinition } from '../../functions/jobs/job-queues';
import { handler as deadLettersHandler } from '../../functions/jobs/job-dead-letters.handler';
import { createSqsJobQueue } from '../../functions/shared/adapters/sqs-job-queue';
import { setJobQueue } from '../../functions/shared/deps';
import { handler as dispatchHandler } from '../../functions/streams/job-dispatch.handler';
import { streamConsumers } from '../../functions/streams/stream-consumers';
import { ensureQueues, startQueueRunner, type QueueRunner, type SqsHandler } from '../../local/queue-runner';
import type { LocalLogger } from '../../local/runtime-support';
import { startStreamPoller, type StreamPoller } from '../../local/stream-poller';
import { createTestStack, seedWorkspace, type TestStack } from '../support/test-stack';

/**
 * Background jobs end to end on DynamoDB Local and fauxqs: the job item is the outbox (the real
 * `job-dispatch` consumer, fed by the local stream poller, sends each step's message), the real runner
 * (`createJobHandler`) and dead-letter consumer read the queues through the local queue runner. A test
 * kind counts to N, one unit at a time, and records every unit it counts: a unit counted twice, or a
 * unit skipped, shows.
 */

const endpoint = process.env.AWS_ENDPOINT_URL!;
const sqs = new SQSClient({ region: 'us-east-1', endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
const fileId = randomUUID().slice(0, 6);
const silent: LocalLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };
const jobDispatch = streamConsumers.find((consumer) => consumer.name === 'job-dispatch')!;

// ---- the test kinds -------------------------------------------------------------------------------

const countKind = 'count_to' as JobKind;
const failKind = 'always_fails' as JobKind;

const countQueue: JobQueueDefinition = {
  name: `jobs-count-${fileId}`,
  entry: 'unused',
  batchSize: 10,
  visibilityTimeoutSeconds: 10,
  maxReceiveCount: 2,
  timeoutSeconds: 10,
};
const failQueue: JobQueueDefinition = { ...countQueue, name: `jobs-fail-${fileId}` };
/** Where the real kinds' messages go in this file: a queue nobody reads (the API tests never run them). */
const sinkQueue: JobQueueDefinition = { ...countQueue, name: `jobs-sink-${fileId}` };

/** Every unit each job counted, in order. */
const counted = new Map<string, number[]>();
/** Per job: the unit whose counting throws (until the test clears it). */
const failAt = new Map<string, number>();
/** Per job: called after each unit, inside the run (to cancel mid-way, or to move the clock). */
const onUnit = new Map<string, (unit: number) => Promise<void> | void>();
/** Per job: what each call of the kind's `release` was given. */
const released = new Map<string, unknown[]>();
/** Jobs whose `release` throws. */
const releaseFails = new Set<string>();

const countInput = z.object({ to: z.number().int().positive(), saveEvery: z.number().int().positive().optional() });
const countJob: JobKindDefinition<z.infer<typeof countInput>, { at: number }, { counted: number }> = {
  kind: countKind,
  queue: countQueue.name,
  inputSchema: countInput,
  async step(_deps, job, control) {
    const { to, saveEvery } = job.input;
    let at = job.cursor?.at ?? 0;
    while (at < to) {
      const unit = at + 1;
      if (failAt.get(job.jobId) === unit) throw new Error(`cannot count past ${at}`);
      counted.set(job.jobId, [...(counted.get(job.jobId) ?? []), unit]);
      at = unit;
      await onUnit.get(job.jobId)?.(unit);
      if (saveEvery && at % saveEvery === 0) await control.saveProgress({ at }, { processed: at, total: to });
      if (at < to && control.deadlineReached()) return { done: false, cursor: { at }, progress: { processed: at, total: to } };
    }
    return { done: true, result: { counted: at }, progress: { processed: at, total: to } };
  },
  async release(_deps, { jobId, cursor, files }) {
    released.set(jobId, [...(released.get(jobId) ?? []), { cursor, files }]);
    if (releaseFails.has(jobId)) throw new Error('the bucket is down');
  },
};

const failJob: JobKindDefinition<Record<string, unknown>> = {
  kind: failKind,
  queue: failQueue.name,
  inputSchema: z.record(z.string(), z.unknown()),
  step: () => Promise.reject(new Error('the printer is on fire')),
};

/** The count runner's options: tests set the per-run budget (0: one unit per run). */
const countOptions: JobHandlerOptions = {};
const countRunner = createJobHandler(countJob, countOptions);
const failRunner = createJobHandler(failJob);

interface Received {
  jobId: string;
  seq: number;
  receiveCount: number;
}
/** Every message the count queue's handler was given. */
const received: Received[] = [];
/** When it says so for a message, the handler "crashes" after the run: the message is not acked. */
let crashAfter: ((message: Received) => boolean) | undefined;
/** When it says so for a message, the handler sends it once more (a duplicate delivery). */
let duplicate: ((message: Received) => boolean) | undefined;
/** Called after each batch the count handler ran (a test's way to act between runs). */
let afterRun: ((messages: Received[]) => Promise<void>) | undefined;

const countHandler: SqsHandler = async (event, context) => {
  const messages = event.Records.map((record) => ({
    ...(JSON.parse(record.body) as { jobId: string; seq: number }),
    receiveCount: Number(record.attributes.ApproximateReceiveCount),
  }));
  received.push(...messages);
  const response = await countRunner(event, context);
  for (const [index, message] of messages.entries()) {
    if (duplicate?.(message)) {
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrls.count!, MessageBody: event.Records[index]!.body }));
    }
  }
  if (messages.some((message) => crashAfter?.(message))) throw new Error('crashed after the run, before the ack');
  await afterRun?.(messages);
  return response;
};

// ---- the stack --------------------------------------------------------------------------------------

let stack: TestStack;
let acme: Awaited<ReturnType<typeof seedWorkspace>>;
let globex: Awaited<ReturnType<typeof seedWorkspace>>;
let poller: StreamPoller;
let runner: QueueRunner;
let dir: string;
const queueUrls: { count?: string; countDlq?: string; fail?: string; failDlq?: string } = {};

const startPoller = () =>
  startStreamPoller({
    endpoint: process.env.DYNAMODB_ENDPOINT!,
    tableName: stack.tableName,
    consumers: [{ definition: jobDispatch, handler: dispatchHandler }],
    checkpointFile: join(dir, 'checkpoints.json'),
    failureFile: join(dir, 'failures.jsonl'),
    pollIntervalMs: 20,
    retryBaseDelayMs: 5,
    logger: { debug: () => undefined, ...silent },
  });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'crm-jobs-'));
  stack = await createTestStack();
  [acme, globex] = await Promise.all([seedWorkspace(stack, 'Acme'), seedWorkspace(stack, 'Globex')]);
  const [count, fail, sink] = await ensureQueues(sqs, [countQueue, failQueue, sinkQueue]);
  Object.assign(queueUrls, { count: count!.queueUrl, countDlq: count!.dlqUrl, fail: fail!.queueUrl, failDlq: fail!.dlqUrl });
  setJobQueue(
    createSqsJobQueue({
      client: sqs,
      queueUrls: {
        [countKind]: count!.queueUrl,
        [failKind]: fail!.queueUrl,
        import_contacts: sink!.queueUrl,
        export_contacts: sink!.queueUrl,
      },
    }),
  );
  poller = await startPoller();
  runner = await startQueueRunner({
    endpoint,
    logger: silent,
    waitTimeSeconds: 1,
    queues: [
      { definition: countQueue, queueUrl: count!.queueUrl, handler: countHandler },
      { definition: failQueue, queueUrl: fail!.queueUrl, handler: failRunner },
      { definition: deadLetterQueueDefinition(countQueue), queueUrl: count!.dlqUrl, handler: deadLettersHandler, deadLetters: true },
      { definition: deadLetterQueueDefinition(failQueue), queueUrl: fail!.dlqUrl, handler: deadLettersHandler, deadLetters: true },
    ],
  });
});

afterAll(async () => {
  await runner?.stop();
  await poller?.stop();
  setJobQueue(undefined);
  await stack?.destroy();
  sqs.destroy();
  rmSync(dir, { recursive: true, force: true });
});

afterEach(() => {
  countOptions.runBudgetMs = undefined;
  crashAfter = undefined;
  duplicate = undefined;
  afterRun = undefined;
});

// ---- helpers ------------------------------------------------------------------------------------------

type Actor = { user: { id: string }; token: string };
const callerOf = (workspace: { workspace: { id: string } }, actor: Actor, role: CallerContext['role']): CallerContext => ({
  workspaceId: workspace.workspace.id,
  userId: actor.user.id,
  role,
});
const owner = () => callerOf(acme, acme.owner, 'owner');

const startCount = (input: z.infer<typeof countInput>, caller = owner()) =>
  createJob(stack.deps, caller, { kind: countKind, input, total: input.to });

const terminal = new Set(['succeeded', 'failed', 'canceled']);

/** Lets the stream and the queues work until the job has ended and nothing is left in flight. */
async function settle(jobId: string, workspaceId = acme.workspace.id): Promise<JobItem> {
  const deadline = Date.now() + 45_000;
  for (;;) {
    await poller.drain();
    await runner.drain();
    const job = await findJob(stack.deps, workspaceId, jobId, true);
    if (job && terminal.has(job.status)) {
      await poller.drain();
      await runner.drain({ untilEmpty: true });
      return (await findJob(stack.deps, workspaceId, jobId, true))!;
    }
    if (Date.now() > deadline) throw new Error(`Job ${jobId} did not end: ${JSON.stringify(job)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const api = (method: string, path: string, token: string) => stack.api(method, path, { token });
const jobEvents = async (jobId: string, token = acme.owner.token) => {
  const res = await api('GET', `/v1/events?entityType=job&entityId=${jobId}`, token);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return (res.body.items as { type: string; actorUserId: string; payload: Record<string, unknown> }[]).reverse();
};
const messagesOf = (jobId: string) => received.filter((message) => message.jobId === jobId);

// ---- running ---------------------------------------------------------------------------------------------

describe('running a job', () => {
  it('is dispatched by its write, continues itself from its cursor over several runs, and ends with its result and end event', async () => {
    // Prepare: one unit per run, and a second of clock per unit
    countOptions.runBudgetMs = 0;
    const job = await startCount({ to: 5 });
    onUnit.set(job.id, () => stack.clock.advance(1000));
    expect(job).toMatchObject({ status: 'queued', progress: { processed: 0, total: 5 }, startedAt: null });

    // Act
    const ended = await settle(job.id);

    // Assess: five runs (steps 1-5), each from the cursor the one before saved, each unit once
    expect(counted.get(job.id)).toEqual([1, 2, 3, 4, 5]);
    expect(messagesOf(job.id).map((message) => message.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(ended.dispatchSeq).toBe(5);
    const res = await api('GET', `/v1/jobs/${job.id}`, acme.owner.token);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: job.id,
      kind: countKind,
      status: 'succeeded',
      createdBy: acme.owner.user.id,
      input: { to: 5 },
      result: { counted: 5 },
      error: null,
      progress: { processed: 5, total: 5, ratePerSecond: 1, estimatedSecondsLeft: 0 },
      attempts: 0,
      files: [],
    });
    expect(res.body.startedAt).toEqual(expect.any(String));
    expect(res.body.finishedAt).toEqual(expect.any(String));
    expect(await jobEvents(job.id)).toEqual([
      expect.objectContaining({
        type: 'job.finished',
        actorUserId: 'system',
        payload: { jobId: job.id, kind: countKind, status: 'succeeded', result: { counted: 5 }, error: null },
      }),
    ]);
  });

  it('runs in one go when the run has the time', async () => {
    const job = await startCount({ to: 4 });

    await settle(job.id);

    expect(counted.get(job.id)).toEqual([1, 2, 3, 4]);
    expect(messagesOf(job.id)).toHaveLength(1);
  });

  it('repeats nothing for a redelivered message, mid-way or after the end', async () => {
    // Prepare: every message is delivered twice
    countOptions.runBudgetMs = 0;
    const job = await startCount({ to: 4 });
    const duplicated = new Set<number>();
    duplicate = (message) => message.jobId === job.id && !duplicated.has(message.seq) && Boolean(duplicated.add(message.seq));

    // Act
    const ended = await settle(job.id);
    duplicate = undefined;
    // And every step's message once more, after the end
    for (let seq = 1; seq <= 4; seq += 1) {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: queueUrls.count!,
          MessageBody: JSON.stringify({ workspaceId: acme.workspace.id, jobId: job.id, seq }),
        }),
      );
    }
    await runner.drain({ untilEmpty: true });

    // Assess: each unit counted once; the duplicates found their step done and changed nothing
    expect(counted.get(job.id)).toEqual([1, 2, 3, 4]);
    expect(messagesOf(job.id).length).toBeGreaterThanOrEqual(4 + 4 + 4);
    expect(await findJob(stack.deps, acme.workspace.id, job.id, true)).toEqual(ended);
  });

  it('still runs a job written while nothing sent it (the stream sends it once read again)', async () => {
    // Prepare: the dispatcher is down when the job is written (a crash between the write and a send)
    await poller.stop();
    const job = await startCount({ to: 2 });
    await runner.drain();
    expect(messagesOf(job.id)).toEqual([]);
    expect((await findJob(stack.deps, acme.workspace.id, job.id))?.status).toBe('queued');

    // Act: it comes back, from its checkpoint
    poller = await startPoller();
    const ended = await settle(job.id);

    // Assess
    expect(ended.status).toBe('succeeded');
    expect(counted.get(job.id)).toEqual([1, 2]);
  });

  it('goes on when a run dies after its write and before its ack: the next step is already sent', async () => {
    // Prepare: the first run of each step crashes once it has written the job
    countOptions.runBudgetMs = 0;
    const job = await startCount({ to: 3 });
    crashAfter = (message) => message.jobId === job.id && message.receiveCount === 1;

    // Act
    const ended = await settle(job.id);

    // Assess: each step's message came back (receive 2) and found its step done; nothing counted twice
    expect(ended.status).toBe('succeeded');
    expect(counted.get(job.id)).toEqual([1, 2, 3]);
    const redelivered = messagesOf(job.id).filter((message) => message.receiveCount === 2);
    expect(redelivered.map((message) => message.seq).sort()).toEqual([1, 2, 3]);
  });

  it('fails at once, without retries, when its input is not what its kind takes', async () => {
    const job = await createJob(stack.deps, owner(), { kind: countKind, input: { to: 'ten' } });

    const ended = await settle(job.id);

    expect(ended).toMatchObject({ status: 'failed', attempts: 0, error: { code: 'invalid_input' } });
    expect(messagesOf(job.id)).toHaveLength(1);
  });
});

describe('canceling', () => {
  it('stops a running job at its next save, keeping what it did', async () => {
    // Prepare: the member's job saves after each unit; at unit 3 the member cancels it
    const member = callerOf(acme, acme.member, 'member');
    const job = await startCount({ to: 10, saveEvery: 1 }, member);
    const canceled: { status: number; body: unknown }[] = [];
    onUnit.set(job.id, async (unit) => {
      if (unit === 3) canceled.push(await api('POST', `/v1/jobs/${job.id}/cancel`, acme.member.token));
    });

    // Act
    const ended = await settle(job.id);

    // Assess: the run stopped at its save of unit 3, and nothing else ran
    expect(canceled).toEqual([
      expect.objectContaining({ status: 200, body: expect.objectContaining({ status: 'canceled', progress: expect.objectContaining({ processed: 2 }) }) }),
    ]);
    expect(counted.get(job.id)).toEqual([1, 2, 3]);
    expect(ended).toMatchObject({ status: 'canceled', progress: { processed: 2, total: 10 }, cursor: { at: 2 } });
    expect(messagesOf(job.id)).toHaveLength(1);
    // The kind gave back what the job held at its last save
    expect(released.get(job.id)).toEqual([{ cursor: { at: 2 }, files: {} }]);
    expect(await jobEvents(job.id)).toEqual([
      expect.objectContaining({
        type: 'job.finished',
        actorUserId: acme.member.user.id,
        payload: expect.objectContaining({ status: 'canceled', result: null, error: null }),
      }),
    ]);
  });

  it('gives back what the step returned when the job was canceled while the step ran', async () => {
    // Prepare: one unit per run; during the second run (which saves nothing) the owner cancels
    countOptions.runBudgetMs = 0;
    const job = await startCount({ to: 5 });
    onUnit.set(job.id, async (unit) => {
      if (unit === 2) expect((await api('POST', `/v1/jobs/${job.id}/cancel`, acme.owner.token)).status).toBe(200);
    });

    // Act
    const ended = await settle(job.id);

    // Assess: the run's continuation lost to the cancel; the cursor it returned was released, not the saved one
    expect(ended).toMatchObject({ status: 'canceled', cursor: { at: 1 } });
    expect(counted.get(job.id)).toEqual([1, 2]);
    expect(released.get(job.id)).toEqual([{ cursor: { at: 2 }, files: {} }]);
  });

  it('gives back what a job canceled between runs holds once its next message arrives, and only then', async () => {
    // Prepare: one unit per run; the owner cancels once the first run has continued
    countOptions.runBudgetMs = 0;
    const job = await startCount({ to: 5 });
    afterRun = async (messages) => {
      if (messages.some((message) => message.jobId === job.id && message.seq === 1)) {
        expect(released.get(job.id)).toBeUndefined();
        expect((await api('POST', `/v1/jobs/${job.id}/cancel`, acme.owner.token)).status).toBe(200);
      }
    };

    // Act
    const ended = await settle(job.id);

    // Assess: the second message found the job canceled, ran nothing, and released its cursor
    expect(ended).toMatchObject({ status: 'canceled', cursor: { at: 1 }, dispatchSeq: 2 });
    expect(counted.get(job.id)).toEqual([1]);
    expect(messagesOf(job.id).map((message) => message.seq)).toEqual([1, 2]);
    expect(released.get(job.id)).toEqual([{ cursor: { at: 1 }, files: {} }]);
  });

  it('acks the message of a canceled job whose release fails (the failure is logged, not retried)', async () => {
    const job = await startCount({ to: 10, saveEvery: 1 });
    releaseFails.add(job.id);
    onUnit.set(job.id, async (unit) => {
      if (unit === 2) expect((await api('POST', `/v1/jobs/${job.id}/cancel`, acme.owner.token)).status).toBe(200);
    });

    const ended = await settle(job.id);

    expect(ended.status).toBe('canceled');
    expect(released.get(job.id)).toEqual([{ cursor: { at: 1 }, files: {} }]);
    expect(messagesOf(job.id)).toEqual([expect.objectContaining({ seq: 1, receiveCount: 1 })]);
  });

  it('refuses to cancel a job that has ended: 409 invalid_transition', async () => {
    const job = await startCount({ to: 1 });
    await settle(job.id);

    const res = await api('POST', `/v1/jobs/${job.id}/cancel`, acme.owner.token);

    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ code: 'invalid_transition', status: 409, jobStatus: 'succeeded' });
  });
});

describe('failing and retrying', () => {
  it('fails the job with the reason once its message has exhausted its retries (dead-letter queue)', async () => {
    const job = await createJob(stack.deps, owner(), { kind: failKind, input: {} });

    const ended = await settle(job.id);

    expect(ended).toMatchObject({
      status: 'failed',
      attempts: 2,
      lastError: 'the printer is on fire',
      error: { code: 'retries_exhausted', message: 'the printer is on fire' },
    });
    expect(ended.finishedAt).toEqual(expect.any(String));
    expect(await jobEvents(job.id)).toEqual([
      expect.objectContaining({
        type: 'job.finished',
        actorUserId: 'system',
        payload: expect.objectContaining({ status: 'failed', error: { code: 'retries_exhausted', message: 'the printer is on fire' } }),
      }),
    ]);
    const res = await api('GET', `/v1/jobs/${job.id}`, acme.owner.token);
    expect(res.body).toMatchObject({ status: 'failed', attempts: 2, error: { code: 'retries_exhausted' } });

    // A dead letter delivered again changes nothing
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrls.failDlq!,
        MessageBody: JSON.stringify({ workspaceId: acme.workspace.id, jobId: job.id, seq: 1 }),
      }),
    );
    await runner.drain({ untilEmpty: true });
    expect(await findJob(stack.deps, acme.workspace.id, job.id, true)).toEqual(ended);
    expect(await jobEvents(job.id)).toHaveLength(1);
    expect(await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrls.failDlq! }))).not.toHaveProperty('Messages.0');
  });

  it('resumes a retried job from its cursor: nothing counted twice, nothing skipped', async () => {
    // Prepare: one unit per run; unit 4 cannot be counted until the test says so
    countOptions.runBudgetMs = 0;
    const job = await startCount({ to: 6 });
    failAt.set(job.id, 4);
    const failed = await settle(job.id);
    expect(failed).toMatchObject({
      status: 'failed',
      cursor: { at: 3 },
      error: { code: 'retries_exhausted', message: 'cannot count past 3' },
    });
    expect(counted.get(job.id)).toEqual([1, 2, 3]);
    // A failed job may be retried from its cursor: nothing of it is released
    expect(released.get(job.id)).toBeUndefined();

    // Act
    failAt.delete(job.id);
    const res = await api('POST', `/v1/jobs/${job.id}/retry`, acme.owner.token);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ status: 'queued', error: null, attempts: 0, finishedAt: null, progress: { processed: 3, total: 6 } });
    const ended = await settle(job.id);

    // Assess
    expect(ended).toMatchObject({ status: 'succeeded', result: { counted: 6 }, attempts: 0 });
    expect(ended.error).toBeUndefined();
    expect(ended.lastError).toBeUndefined();
    expect(counted.get(job.id)).toEqual([1, 2, 3, 4, 5, 6]);
    expect((await jobEvents(job.id)).map((event) => [event.type, event.payload.status ?? null])).toEqual([
      ['job.finished', 'failed'],
      ['job.retried', null],
      ['job.finished', 'succeeded'],
    ]);
  });

  it('refuses to retry a job that has not failed: 409 invalid_transition', async () => {
    const job = await startCount({ to: 1 });
    await settle(job.id);

    const res = await api('POST', `/v1/jobs/${job.id}/retry`, acme.owner.token);

    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ code: 'invalid_transition' });
  });
});

// ---- who sees what ------------------------------------------------------------------------------------

describe('access', () => {
  let other: Actor;
  let ownersJob: string;
  let membersJob: string;
  let othersJob: string;
  let globexJob: string;

  beforeAll(async () => {
    // A second member, with a token
    const user = await stack.api('POST', '/v1/users', {
      token: acme.owner.token,
      body: { name: 'Otto Other', email: `other-${randomUUID().slice(0, 6)}@example.com`, role: 'member' },
    });
    const token = await stack.api('POST', '/v1/tokens', { token: acme.owner.token, body: { userId: user.body.id, name: 't' } });
    other = { user: user.body, token: token.body.token };
    const exportJob = async (caller: CallerContext) => {
      const id = newJobId(stack.deps);
      const files = { 'contacts.csv': jobFileKey('exports', caller.workspaceId, id, 'contacts.csv') };
      await stack.blobs.put(files['contacts.csv'], 'Name,Email\nAda,ada@example.com\n', 'text/csv');
      return (await createJob(stack.deps, caller, { kind: 'export_contacts', input: { format: 'csv' }, files, jobId: id })).id;
    };
    ownersJob = await exportJob(owner());
    membersJob = await exportJob(callerOf(acme, acme.member, 'member'));
    othersJob = await exportJob(callerOf(acme, other, 'member'));
    globexJob = await exportJob(callerOf(globex, globex.owner, 'owner'));
  });

  it('shows a member their own jobs only; owner and admin every job of the workspace; another workspace none', async () => {
    const seen = async (token: string, jobId: string) => (await api('GET', `/v1/jobs/${jobId}`, token)).status;
    expect(await seen(acme.member.token, membersJob)).toBe(200);
    expect(await seen(acme.member.token, ownersJob)).toBe(404);
    expect(await seen(acme.member.token, othersJob)).toBe(404);
    expect(await seen(acme.admin.token, membersJob)).toBe(200);
    expect(await seen(acme.owner.token, othersJob)).toBe(200);
    expect(await seen(globex.owner.token, ownersJob)).toBe(404);
    expect(await seen(acme.owner.token, globexJob)).toBe(404);

    const listed = async (token: string, query = '') =>
      ((await api('GET', `/v1/jobs?limit=100${query}`, token)).body.items as { id: string }[]).map((job) => job.id);
    const mine = await listed(acme.member.token);
    expect(mine).toContain(membersJob);
    expect(mine).not.toContain(ownersJob);
    expect(mine).not.toContain(othersJob);
    expect(await listed(acme.admin.token, '&kind=export_contacts')).toEqual([othersJob, membersJob, ownersJob]);
    expect(await listed(globex.owner.token)).toEqual([globexJob]);

    // A job's events follow the job
    expect((await api('GET', `/v1/events?entityType=job&entityId=${ownersJob}`, acme.member.token)).status).toBe(404);
    expect((await api('GET', `/v1/events?entityType=job&entityId=${ownersJob}`, globex.owner.token)).status).toBe(404);
  });

  it('gives a fresh, short-lived link to a file the job lists, to those who see the job', async () => {
    const res = await api('GET', `/v1/jobs/${membersJob}/files/contacts.csv`, acme.member.token);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const expiresAt = new Date(stack.clock.nowMs() + 5 * 60_000).toISOString();
    expect(res.body).toEqual({ name: 'contacts.csv', url: expect.any(String), expiresAt });
    const download = await fetch(res.body.url);
    expect(await download.text()).toBe('Name,Email\nAda,ada@example.com\n');
    // Saved under its name (S3 answers with the signed Content-Disposition; the emulator ignores it).
    expect(new URL(res.body.url).searchParams.get('response-content-disposition')).toContain('contacts.csv');

    expect((await api('GET', `/v1/jobs/${membersJob}/files/other.csv`, acme.member.token)).status).toBe(404);
    expect((await api('GET', `/v1/jobs/${ownersJob}/files/contacts.csv`, acme.member.token)).status).toBe(404);
    expect((await api('GET', `/v1/jobs/${membersJob}/files/contacts.csv`, globex.owner.token)).status).toBe(404);
    expect((await api('GET', `/v1/jobs/${membersJob}/files/..%2Fsecret`, acme.member.token)).status).toBe(404);
    expect((await api('GET', `/v1/jobs/${membersJob}/files/.env`, acme.member.token)).status).toBe(400);
    // Listed, but no longer in the bucket
    const gone = await createJob(stack.deps, owner(), {
      kind: 'export_contacts',
      input: {},
      files: { 'old.csv': jobFileKey('exports', acme.workspace.id, 'job_gone', 'old.csv') },
    });
    expect((await api('GET', `/v1/jobs/${gone.id}/files/old.csv`, acme.owner.token)).status).toBe(404);
  });

  it('lets a member cancel and retry only their own jobs; another workspace’s are 404s', async () => {
    for (const action of ['cancel', 'retry']) {
      expect((await api('POST', `/v1/jobs/${othersJob}/${action}`, acme.member.token)).status).toBe(404);
      expect((await api('POST', `/v1/jobs/${ownersJob}/${action}`, acme.member.token)).status).toBe(404);
      expect((await api('POST', `/v1/jobs/${ownersJob}/${action}`, globex.owner.token)).status).toBe(404);
    }
    expect((await api('POST', `/v1/jobs/${membersJob}/retry`, acme.member.token)).status).toBe(409);
    expect((await api('POST', `/v1/jobs/${membersJob}/cancel`, acme.member.token)).status).toBe(200);
    expect((await api('POST', `/v1/jobs/${othersJob}/cancel`, acme.admin.token)).status).toBe(200);
    expect((await api('GET', `/v1/jobs/${othersJob}`, other.token)).body).toMatchObject({ status: 'canceled' });
    expect((await api('GET', `/v1/jobs/${ownersJob}`, acme.owner.token)).body).toMatchObject({ status: 'queued' });
  });
});

// ---- lists ----------------------------------------------------------------------------------------------

describe('listing', () => {
  it('filters by kind and status, newest first, and pages with cursors', async () => {
    // Prepare: a workspace of its own; the owner's five jobs (two canceled), the member's two
    const listco = await seedWorkspace(stack, 'Listco');
    const ownerCaller = callerOf(listco, listco.owner, 'owner');
    const memberCaller = callerOf(listco, listco.member, 'member');
    const make = async (caller: CallerContext, kind: JobKind) => {
      stack.clock.advance(1000);
      return (await createJob(stack.deps, caller, { kind, input: {} })).id;
    };
    const e1 = await make(ownerCaller, 'export_contacts');
    const i1 = await make(ownerCaller, 'import_contacts');
    const e2 = await make(ownerCaller, 'export_contacts');
    const m1 = await make(memberCaller, 'import_contacts');
    const i2 = await make(ownerCaller, 'import_contacts');
    const e3 = await make(ownerCaller, 'export_contacts');
    const m2 = await make(memberCaller, 'export_contacts');
    for (const id of [e2, i2]) expect((await api('POST', `/v1/jobs/${id}/cancel`, listco.owner.token)).status).toBe(200);

    /** Every page of a query, at `limit` 2. */
    const all = async (token: string, query: Record<string, string> = {}) => {
      const ids: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const res = await stack.api('GET', '/v1/jobs', { token, query: { ...query, limit: 2, cursor } });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        expect(res.body.items.length).toBeLessThanOrEqual(2);
        ids.push(...(res.body.items as { id: string }[]).map((job) => job.id));
        cursor = res.body.nextCursor ?? undefined;
        pages += 1;
      } while (cursor && pages < 20);
      return ids;
    };

    // Assess
    expect(await all(listco.owner.token)).toEqual([m2, e3, i2, m1, e2, i1, e1]);
    expect(await all(listco.admin.token, { kind: 'export_contacts' })).toEqual([m2, e3, e2, e1]);
    expect(await all(listco.owner.token, { status: 'canceled' })).toEqual([i2, e2]);
    expect(await all(listco.owner.token, { status: 'queued', kind: 'import_contacts' })).toEqual([m1, i1]);
    expect(await all(listco.member.token)).toEqual([m2, m1]);
    expect(await all(listco.member.token, { kind: 'import_contacts' })).toEqual([m1]);
    expect(await all(listco.member.token, { status: 'canceled' })).toEqual([]);
    const page = await stack.api('GET', '/v1/jobs', { token: listco.owner.token, query: { kind: 'export_contacts', status: 'running' } });
    expect(page.body).toEqual({ items: [], nextCursor: null });

    // A cursor belongs to its query
    const first = await stack.api('GET', '/v1/jobs', { token: listco.owner.token, query: { limit: 2 } });
    const moved = await stack.api('GET', '/v1/jobs', {
      token: listco.owner.token,
      query: { limit: 2, kind: 'import_contacts', cursor: first.body.nextCursor },
    });
    expect(moved.status).toBe(400);
    expect(moved.body).toMatchObject({ code: 'invalid_cursor' });
  });
});
