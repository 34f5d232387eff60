import { AccessDeniedException, BedrockRuntimeClient, ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { classifyConversationJob, classifySegmentSettings, type ClassifyJobDeps } from '../../domain/qualification/classify-job';
import { inboundClassificationSettings } from '../../domain/qualification/inbound-classification';
import { localQualifier } from '../../domain/qualification/local-qualifier';
import { QualifierError } from '../../domain/qualification/qualifier-error';
import type { Qualifier } from '../../domain/shared/ports';
import { classificationToolName, createBedrockQualifier } from '../../functions/shared/adapters/bedrock-qualifier';
import { setQualifier } from '../../functions/shared/deps';
import { startTestJobs, type TestJobs } from '../support/test-jobs';
import { createTestStack, seedWorkspace, type TestStack } from '../support/test-stack';
import { ok } from '../support/ok';

let stack: TestStack;
let acme: Awaited<ReturnType<typeof seedWorkspace>>;
let globex: Awaited<ReturnType<typeof seedWorkspace>>;
let jobs: TestJobs;

beforeAll(async () => {
  stack = await createTestStack();
  [acme, globex] = await Promise.all([seedWorkspace(stack, 'Acme'), seedWorkspace(stack, 'Globex')]);
  jobs = await startTestJobs(stack, ['classify_conversation']);
  // Inbound messages queue their own classification: only the debounce tests turn it on.
  inboundClassificationSettings.enabled = false;
});
afterAll(async () => {
  inboundClassificationSettings.enabled = true;
  await jobs?.stop();
  await stack?.destroy();
});
afterEach(() => setQualifier(undefined));

interface JobDto {
  id: string;
  kind: string;
  status: string;
  input: Record<string, unknown>;
  result: Record<string, unknown> | null;
  error: { code: string; message: string } | null;
}
interface QualificationDto {
  kind: string;
  score: number | null;
  source: string;
  confidence: number | null;
  reasons: string[];
  userId: string;
}

const post = (token: string, path: string, body?: unknown) => stack.api('POST', path, { token, body });
const get = (token: string, path: string, query: Record<string, string> = {}) => stack.api('GET', path, { token, query });
/** Each request a second after the last: what a test writes is never "at the same time" as a job's request. */
const later = () => stack.clock.advance(1000);

let externalIds = 0;
/** A contact's message brought in through the API: its conversation and contact. */
const inbound = async (from: string, body: string, workspace = acme) => {
  later();
  const res = await ok(
    post(workspace.owner.token, '/v1/inbound-messages', { channel: 'email', from, body, externalId: `q-${++externalIds}`, name: from.split('@')[0] }),
    201,
  );
  return { conversationId: res.conversationId as string, contactId: res.contactId as string };
};
const classify = async (conversationId: string, body: Record<string, unknown> = {}, token = acme.owner.token) => {
  later();
  return (await ok(post(token, `/v1/conversations/${conversationId}/classify`, body), 201)) as JobDto;
};
const finished = async (jobId: string) => {
  await jobs.finished(acme.workspace.id, jobId);
  return (await ok(get(acme.owner.token, `/v1/jobs/${jobId}`))) as JobDto;
};
const conversationQualifications = async (conversationId: string) =>
  (await ok(get(acme.owner.token, `/v1/conversations/${conversationId}/qualifications`))).items as QualificationDto[];
const contactQualification = async (contactId: string) =>
  (await ok(get(acme.owner.token, `/v1/contacts/${contactId}/qualification`))) as { current: QualificationDto | null; history: QualificationDto[] };

describe('classifying a conversation on request (the local qualifier)', () => {
  it('queues a job that writes the answer as the conversation’s qualification, source ai, with its confidence and reasons', async () => {
    const { conversationId } = await inbound('pat@prospect.example', 'Hello! What is your pricing for 20 seats, and can we book a demo?');
    const job = await classify(conversationId);
    expect(job).toMatchObject({ kind: 'classify_conversation', status: 'queued', input: { mode: 'conversation', conversationId, contact: false, trigger: 'request' } });

    const done = await finished(job.id);
    expect(done.status).toBe('succeeded');
    expect(done.result).toMatchObject({ status: 'classified', kind: 'prospect', score: 3, confidence: 0.7, conversation: 'applied', contact: 'not_asked' });
    const conversation = await ok(get(acme.owner.token, `/v1/conversations/${conversationId}`));
    expect(conversation.qualification).toMatchObject({ kind: 'prospect', score: 3, source: 'ai', confidence: 0.7 });
    const [latest] = await conversationQualifications(conversationId);
    expect(latest).toMatchObject({ kind: 'prospect', source: 'ai', confidence: 0.7, userId: 'system' });
    expect(latest!.reasons[0]).toContain('“pricing”');
    const events = await ok(get(acme.owner.token, '/v1/events', { entityType: 'conversation', entityId: conversationId }));
    expect(events.items[0]).toMatchObject({ type: 'conversation.qualified', payload: { kind: 'prospect', source: 'ai', confidence: 0.7 } });
  });

  it('writes the contact’s qualification too when asked', async () => {
    const { conversationId, contactId } = await inbound('rita@support.example', 'My export is broken and I need a refund');
    const done = await finished((await classify(conversationId, { contact: true })).id);
    expect(done.result).toMatchObject({ kind: 'support', conversation: 'applied', contact: 'applied' });
    const { current, history } = await contactQualification(contactId);
    expect(current).toMatchObject({ kind: 'support', source: 'ai', confidence: 0.7, userId: 'system' });
    expect(history[0]!.reasons[0]).toContain('“broken”');
    const contact = await ok(get(acme.owner.token, `/v1/contacts/${contactId}`));
    expect(contact.qualification).toMatchObject({ kind: 'support', source: 'ai', confidence: 0.7 });
  });

  it('a user’s later value overrides the AI’s, and the history keeps both', async () => {
    const { conversationId, contactId } = await inbound('lee@lead.example', 'I am interested, tell me more');
    await finished((await classify(conversationId, { contact: true })).id);
    later();
    await ok(post(acme.owner.token, `/v1/conversations/${conversationId}/qualifications`, { kind: 'customer', score: 5 }), 201);
    later();
    await ok(stack.api('PUT', `/v1/contacts/${contactId}/qualification`, { token: acme.owner.token, body: { kind: 'customer' } }));

    expect((await conversationQualifications(conversationId)).map((q) => [q.kind, q.source, q.confidence])).toEqual([
      ['customer', 'manual', null],
      ['lead', 'ai', 0.7],
    ]);
    const { current, history } = await contactQualification(contactId);
    expect(current).toMatchObject({ kind: 'customer', source: 'manual', confidence: null });
    expect(history.map((q) => [q.kind, q.source])).toEqual([
      ['customer', 'manual'],
      ['lead', 'ai'],
    ]);

    // And a later classification is the latest again: the last write wins.
    const again = await finished((await classify(conversationId, { contact: true })).id);
    expect(again.result).toMatchObject({ kind: 'lead', conversation: 'applied', contact: 'applied' });
    expect((await conversationQualifications(conversationId)).map((q) => q.source)).toEqual(['ai', 'manual', 'ai']);
  });

  it('never replaces a manual value written after classification was asked for (checked when it writes)', async () => {
    const { conversationId, contactId } = await inbound('max@late.example', 'Can I get a quote?');
    // The user qualifies by hand while the classifier thinks.
    const slowQualifier: Qualifier = {
      async classifyConversation(input) {
        later();
        await ok(post(acme.admin.token, `/v1/conversations/${conversationId}/qualifications`, { kind: 'not_a_fit' }), 201);
        await ok(stack.api('PUT', `/v1/contacts/${contactId}/qualification`, { token: acme.admin.token, body: { kind: 'not_a_fit' } }));
        return localQualifier.classifyConversation(input);
      },
    };
    setQualifier(slowQualifier);
    const done = await finished((await classify(conversationId, { contact: true })).id);

    expect(done.status).toBe('succeeded');
    expect(done.result).toMatchObject({ kind: 'prospect', conversation: 'kept_manual', contact: 'kept_manual' });
    expect((await conversationQualifications(conversationId)).map((q) => [q.kind, q.source])).toEqual([['not_a_fit', 'manual']]);
    expect((await contactQualification(contactId)).current).toMatchObject({ kind: 'not_a_fit', source: 'manual' });
  });

  it('skips a conversation with nothing but internal notes', async () => {
    const contact = await ok(post(acme.owner.token, '/v1/contacts', { name: 'Quiet Quinn' }), 201);
    const conversation = await ok(post(acme.owner.token, '/v1/conversations', { kind: 'contact', contactId: contact.id, channel: 'email' }), 201);
    await ok(post(acme.owner.token, `/v1/conversations/${conversation.id}/messages`, { body: 'Call them Monday', note: true }), 201);
    const done = await finished((await classify(conversation.id)).id);
    expect(done).toMatchObject({ status: 'succeeded', result: { status: 'skipped', reason: 'no_messages' } });
    expect(await conversationQualifications(conversation.id)).toEqual([]);
  });
});

describe('who may classify', () => {
  it('a member: pool conversations and their own, not another user’s (403); with contact, not a contact another user claimed', async () => {
    const pool = await inbound('pool@rules.example', 'Pricing please');
    const memberJob = await classify(pool.conversationId, {}, acme.member.token);
    expect(memberJob.status).toBe('queued');
    // The member sees the job they started.
    await ok(get(acme.member.token, `/v1/jobs/${memberJob.id}`));

    const held = await inbound('held@rules.example', 'Pricing please');
    await ok(post(acme.owner.token, `/v1/conversations/${held.conversationId}/assign`, { assigneeId: acme.admin.user.id }));
    const refused = await post(acme.member.token, `/v1/conversations/${held.conversationId}/classify`, {});
    expect(refused.status).toBe(403);
    await classify(held.conversationId, {}, acme.admin.token);

    await ok(post(acme.owner.token, `/v1/contacts/${pool.contactId}/assign`, { ownerId: acme.admin.user.id }));
    expect((await post(acme.member.token, `/v1/conversations/${pool.conversationId}/classify`, { contact: true })).status).toBe(403);
    await classify(pool.conversationId, { contact: true }, acme.admin.token);
    await finished(memberJob.id);
  });

  it('another workspace’s conversation is a 404, a direct conversation a 422', async () => {
    const { conversationId } = await inbound('far@rules.example', 'Pricing please');
    const foreign = await post(globex.owner.token, `/v1/conversations/${conversationId}/classify`, {});
    expect(foreign.status).toBe(404);
    const direct = await ok(post(acme.owner.token, '/v1/conversations', { kind: 'direct', userIds: [acme.admin.user.id] }), 201);
    const refused = await post(acme.owner.token, `/v1/conversations/${direct.id}/classify`, {});
    expect(refused.status).toBe(422);
    expect(refused.body.code).toBe('unprocessable');
    // A member not in the direct conversation does not see it at all.
    expect((await post(acme.member.token, `/v1/conversations/${direct.id}/classify`, {})).status).toBe(404);
  });
});

describe('classifying with Amazon Bedrock (mocked)', () => {
  const bedrock = mockClient(BedrockRuntimeClient);
  const bedrockQualifier = () => createBedrockQualifier({ client: new BedrockRuntimeClient({ region: 'us-east-1' }), modelId: 'test-model' });
  afterAll(() => bedrock.restore());

  it('writes the model’s answer given through the classification tool', async () => {
    bedrock.reset();
    bedrock.on(ConverseCommand).resolves({
      output: {
        message: {
          role: 'assistant',
          content: [
            { toolUse: { toolUseId: 'tu_1', name: classificationToolName, input: { kind: 'customer', score: 4, confidence: 0.91, reasons: ['Mentions their renewal'] } } },
          ],
        },
      },
      stopReason: 'tool_use',
      usage: { inputTokens: 300, outputTokens: 40, totalTokens: 340 },
      metrics: { latencyMs: 900 },
    });
    setQualifier(bedrockQualifier());
    const { conversationId } = await inbound('bea@bedrock.example', 'Hi, about our renewal next month');
    const done = await finished((await classify(conversationId)).id);
    expect(done.result).toMatchObject({ kind: 'customer', score: 4, confidence: 0.91, conversation: 'applied' });
    const [latest] = await conversationQualifications(conversationId);
    expect(latest).toMatchObject({ kind: 'customer', score: 4, source: 'ai', confidence: 0.91, reasons: ['Mentions their renewal'] });
    const sent = bedrock.commandCalls(ConverseCommand)[0]!.args[0].input;
    expect(sent.messages![0]!.content![0]!.text).toContain('contact: Hi, about our renewal next month');
  });

  it('fails the job at once when the model cannot be used, and leaves the conversation as it was', async () => {
    bedrock.reset();
    bedrock.on(ConverseCommand).rejects(new AccessDeniedException({ message: 'You do not have access to the model', $metadata: {} }));
    setQualifier(bedrockQualifier());
    const { conversationId } = await inbound('den@bedrock.example', 'Pricing?');
    const done = await finished((await classify(conversationId)).id);
    expect(done).toMatchObject({ status: 'failed', error: { code: 'qualifier_refused' } });
    expect(await conversationQualifications(conversationId)).toEqual([]);
  });

  it('a passing failure (throttling) throws from the run, for SQS to retry it', async () => {
    const { conversationId } = await inbound('thr@bedrock.example', 'Pricing?');
    const throttled: Qualifier = {
      classifyConversation: () => Promise.reject(new QualifierError('qualifier_unavailable', 'Bedrock ThrottlingException', true)),
    };
    const deps: ClassifyJobDeps = { ...stack.deps, blobs: stack.blobs, qualifier: throttled };
    const run = classifyConversationJob.step(
      deps,
      {
        workspaceId: acme.workspace.id,
        jobId: 'job_01JF3Q5Z8V2N6M4K7T9R1X3C5B',
        kind: 'classify_conversation',
        createdBy: acme.owner.user.id,
        input: { mode: 'conversation', conversationId, contact: false, trigger: 'request', requestedAt: stack.clock.nowIso() },
        cursor: undefined,
        progress: { processed: 0 },
        files: {},
        attempts: 0,
        dispatchSeq: 1,
      },
      { deadlineReached: () => false, saveProgress: async () => undefined, reportProgress: async () => undefined },
    );
    await expect(run).rejects.toMatchObject({ name: 'QualifierError', retryable: true });
  });
});

describe('inbound messages classify their conversation, debounced', () => {
  // Long enough for the burst below to be stored before the job runs (real time: an SQS delay), on a
  // machine a third as fast as this one with the suite's other files beside it (5 s was outrun there).
  beforeAll(() => Object.assign(inboundClassificationSettings, { enabled: true, delaySeconds: 15 }));
  afterAll(() => Object.assign(inboundClassificationSettings, { enabled: false, delaySeconds: 60 }));

  const classifyJobsOf = async (conversationId: string) => {
    const page = await ok(get(acme.owner.token, '/v1/jobs', { kind: 'classify_conversation', limit: '100' }));
    return (page.items as JobDto[]).filter((job) => job.input.conversationId === conversationId && job.input.trigger === 'inbound');
  };

  it('a burst of messages gives one job per window, which reads them all', async () => {
    const first = await inbound('burst@inbound.example', 'Hello there');
    // Within the window: sequential and concurrent messages add no job.
    stack.clock.advance(200);
    await ok(post(acme.owner.token, '/v1/inbound-messages', { channel: 'email', from: 'burst@inbound.example', body: 'What is your pricing?', externalId: `q-${++externalIds}` }), 201);
    await Promise.all(
      ['Do you offer a demo?', 'And a trial?'].map((body) =>
        ok(post(acme.owner.token, '/v1/inbound-messages', { channel: 'email', from: 'burst@inbound.example', body, externalId: `q-${++externalIds}` }), 201),
      ),
    );
    const queued = await classifyJobsOf(first.conversationId);
    expect(queued).toHaveLength(1);
    expect(queued[0]!.input).toMatchObject({ mode: 'conversation', contact: false, trigger: 'inbound' });

    const done = await finished(queued[0]!.id);
    // pricing, demo, trial: the job read the whole burst.
    expect(done.result).toMatchObject({ status: 'classified', kind: 'prospect', score: 4, trigger: 'inbound' });
    expect((await conversationQualifications(first.conversationId))[0]).toMatchObject({ kind: 'prospect', source: 'ai' });

    // After the window, the next message queues the next classification.
    stack.clock.advance(16_000);
    await inbound('burst@inbound.example', 'Forget it: it is broken, an error, a bug; I want a refund');
    const jobsNow = await classifyJobsOf(first.conversationId);
    expect(jobsNow).toHaveLength(2);
    const next = await finished(jobsNow[0]!.id);
    // The whole conversation is read again: four support phrases outweigh the three of buying.
    expect(next.result).toMatchObject({ kind: 'support' });
  });

  it('never replace a person’s qualification, however old; a user asking for a classification again may', async () => {
    const { conversationId, contactId } = await inbound('kept@inbound.example', 'Hello there');
    later();
    await ok(post(acme.owner.token, `/v1/conversations/${conversationId}/qualifications`, { kind: 'not_a_fit', score: 1, source: 'manual' }), 201);
    await ok(stack.api('PUT', `/v1/contacts/${contactId}/qualification`, { token: acme.owner.token, body: { kind: 'not_a_fit' } }));
    // The contact writes again after the window: a classification queued after the person's value.
    stack.clock.advance(16_000);
    await inbound('kept@inbound.example', 'I want to buy now, send the quote and pricing');
    const queued = await classifyJobsOf(conversationId);
    expect(queued).toHaveLength(2);
    const [latest] = await Promise.all(queued.map((job) => finished(job.id)));
    expect(latest!.result).toMatchObject({ status: 'classified', kind: 'prospect', conversation: 'kept_manual', trigger: 'inbound' });
    const conversation = await ok(get(acme.owner.token, `/v1/conversations/${conversationId}`));
    expect(conversation.qualification).toMatchObject({ kind: 'not_a_fit', source: 'manual' });
    expect((await conversationQualifications(conversationId)).map((q) => [q.kind, q.source])).toEqual([['not_a_fit', 'manual']]);
    expect((await contactQualification(contactId)).current).toMatchObject({ kind: 'not_a_fit', source: 'manual' });

    // Asked for by a user, the classifier's answer replaces the older manual value.
    const asked = await finished((await classify(conversationId)).id);
    expect(asked.result).toMatchObject({ kind: 'prospect', conversation: 'applied' });
    expect((await ok(get(acme.owner.token, `/v1/conversations/${conversationId}`))).qualification).toMatchObject({ kind: 'prospect', source: 'ai' });
  });

  it('only a contact’s inbound message queues one: what users write does not', async () => {
    const { conversationId } = await inbound('reply@inbound.example', 'Hello');
    stack.clock.advance(15_000);
    await ok(post(acme.owner.token, `/v1/conversations/${conversationId}/messages`, { body: 'Ask them about seats', note: true }), 201);
    expect(await classifyJobsOf(conversationId)).toHaveLength(1);
  });
});

describe('classifying a segment in bulk', () => {
  it('classifies each member’s latest conversation, page by page, continuing itself (owner/admin only)', async () => {
    const buyer = await inbound('buyer@bulk.example', 'Could you send a quote and your pricing?');
    const unhappy = await inbound('unhappy@bulk.example', 'The app is not working, there is an error');
    const silent = await ok(post(acme.owner.token, '/v1/contacts', { name: 'Silent Sam' }), 201);
    const segment = await ok(post(acme.owner.token, '/v1/segments', { name: 'Bulk', kind: 'static' }), 201);
    await ok(post(acme.owner.token, `/v1/segments/${segment.id}/members`, { contactIds: [buyer.contactId, unhappy.contactId, silent.id] }));

    expect((await post(acme.member.token, '/v1/conversations/classify', { segmentId: segment.id })).status).toBe(403);
    const foreign = await post(globex.owner.token, '/v1/conversations/classify', { segmentId: segment.id });
    expect(foreign.status).toBe(422);
    expect(foreign.body.code).toBe('invalid_reference');

    const saved = { ...classifySegmentSettings };
    classifySegmentSettings.pageSize = 1;
    process.env.JOB_RUN_BUDGET_MS = '0'; // one page per run: every page continues in a new message
    try {
      later();
      const job = (await ok(post(acme.admin.token, '/v1/conversations/classify', { segmentId: segment.id, contact: true }), 201)) as JobDto;
      expect(job.input).toMatchObject({ mode: 'segment', segmentId: segment.id, contact: true });
      const done = await finished(job.id);
      expect(done.status).toBe('succeeded');
      expect(done.result).toEqual({
        segmentId: segment.id,
        processed: 3,
        classified: 2,
        keptManual: 0,
        skipped: 1,
        failed: 0,
        kinds: { prospect: 1, support: 1 },
      });
    } finally {
      Object.assign(classifySegmentSettings, saved);
      delete process.env.JOB_RUN_BUDGET_MS;
    }
    expect((await contactQualification(buyer.contactId)).current).toMatchObject({ kind: 'prospect', source: 'ai' });
    expect((await contactQualification(unhappy.contactId)).current).toMatchObject({ kind: 'support', source: 'ai' });
    expect((await contactQualification(silent.id)).current).toBeNull();
  });
});
