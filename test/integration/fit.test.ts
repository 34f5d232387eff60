import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fitScoreOf } from '../../domain/fit/fit-score';
import { inboundClassificationSettings } from '../../domain/qualification/inbound-classification';
import { startTestJobs, type TestJobs } from '../support/test-jobs';
import { createTestStack, seedWorkspace, type TestStack } from '../support/test-stack';
import { startTestStreams, type TestStreams } from '../support/test-streams';


let stack: TestStack;
let acme: Awaited<ReturnType<typeof seedWorkspace>>;
let globex: Awaited<ReturnType<typeof seedWorkspace>>;
let jobs: TestJobs;
let streams: TestStreams;

beforeAll(async () => {
  stack = await createTestStack();
  acme = await seedWorkspace(stack, 'Acme');
  globex = await seedWorkspace(stack, 'Globex');
  jobs = await startTestJobs(stack, ['apply_fit_rules', 'segment_membership', 'classify_conversation']);
  streams = await startTestStreams(stack, ['fit-rules', 'segments']);
  // Inbound messages queue their own classification a minute later: these tests ask for theirs.
  inboundClassificationSettings.enabled = false;
});
afterAll(async () => {
  inboundClassificationSettings.enabled = true;
  await streams?.stop();
  await jobs?.stop();
  await stack?.destroy();
});

interface Lead {
  contact: { id: string; name: string };
  score: number;
  coverage: number;
  reviewStatus: string;
}

const owner = () => acme.owner.token;
const call = async (method: string, path: string, body?: unknown, token = owner(), query?: Record<string, string | number>) => {
  stack.clock.advance(1000);
  return stack.api(method, path, { token, ...(body === undefined ? {} : { body }), ...(query ? { query } : {}) });
};
const createContact = async (name: string, city: string) => {
  const res = await call('POST', '/v1/contacts', { name, city });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string };
};
const leads = async (productId: string, query: Record<string, string | number> = {}) => {
  const res = await call('GET', `/v1/products/${productId}/leads`, undefined, owner(), { limit: 100, ...query });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return (res.body.items as Lead[]).map((lead) => [lead.contact.name, lead.score, lead.reviewStatus]);
};
const untilJobsDone = async () => {
  const list = await call('GET', '/v1/jobs', undefined, owner(), { limit: 20 });
  for (const job of list.body.items as { id: string; status: string }[]) {
    if (job.status === 'queued' || job.status === 'running') await jobs.finished(acme.workspace.id, job.id);
  }
};

describe('fit scoring and leads', () => {
  let berlin: { id: string };
  let paris: { id: string };
  let productId: string;

  beforeAll(async () => {
    berlin = await createContact('Bea Berlin', 'Berlin');
    paris = await createContact('Pia Paris', 'Paris');
    await streams.drain();
  });

  it('creates a product (owner/admin) whose rule criteria a job applies to every contact', async () => {
    const criteria = [
      { id: 'budget', name: 'Budget', weight: 3, kind: 'manual' },
      { id: 'region', name: 'Region', weight: 1, kind: 'rule', rules: [{ when: { field: 'city', op: 'eq', value: 'Berlin' }, value: 5 }], otherwise: 2 },
    ];
    expect((await call('POST', '/v1/products', { name: 'CRM Pro', criteria }, acme.member.token)).status).toBe(403);
    const bad = await call('POST', '/v1/products', { name: 'Bad', criteria: [{ ...criteria[1], rules: [{ when: { field: 'colour', op: 'eq', value: 'x' }, value: 3 }] }] });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].field).toBe('body.criteria.0.rules.0.when.field');
    const res = await call('POST', '/v1/products', { name: 'CRM Pro', criteria });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    productId = res.body.id;
    await untilJobsDone();
    expect(await leads(productId)).toEqual([
      ['Bea Berlin', 100, 'pending'],
      ['Pia Paris', 25, 'pending'],
    ]);
  });

  it('a user’s assessment with evidence moves the weighted score, history kept, on the contact too', async () => {
    const res = await call('POST', `/v1/contacts/${paris.id}/fit/${productId}/assessments`, { criterionId: 'budget', value: 5, evidence: 'Signed budget of 40k for Q3' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    // (3 × 1 + 1 × 0.25) / 4 = 0.8125
    expect(res.body).toMatchObject({ score: 81, coverage: 1 });
    expect(res.body.criteria[0].latest).toMatchObject({ value: 5, source: 'user', evidence: 'Signed budget of 40k for Q3', userId: acme.owner.user.id });
    const contact = await call('GET', `/v1/contacts/${paris.id}`);
    expect(contact.body.fitScores).toEqual({ [productId]: 81 });
    const history = await call('GET', `/v1/contacts/${paris.id}/fit/${productId}/assessments`);
    expect(history.body.items.map((item: { criterionId: string; source: string }) => [item.criterionId, item.source])).toEqual([
      ['budget', 'user'],
      ['region', 'rule'],
    ]);
    await streams.drain();
    expect(await leads(productId)).toEqual([
      ['Bea Berlin', 100, 'pending'],
      ['Pia Paris', 81, 'pending'],
    ]);
  });

  it('rule criteria follow contact changes from the stream; a user’s value is never overridden by a rule', async () => {
    await call('PATCH', `/v1/contacts/${berlin.id}`, { city: 'Paris', name: 'Bea Moved' });
    await streams.drain();
    expect(await leads(productId)).toEqual([
      ['Pia Paris', 81, 'pending'],
      ['Bea Moved', 25, 'pending'],
    ]);
    await call('POST', `/v1/contacts/${berlin.id}/fit/${productId}/assessments`, { criterionId: 'region', value: 4, evidence: 'Opening a Berlin office' });
    await call('PATCH', `/v1/contacts/${berlin.id}`, { city: 'Berlin' });
    await streams.drain();
    const fit = await call('GET', `/v1/contacts/${berlin.id}/fit/${productId}`);
    expect(fit.body.criteria[1].latest).toMatchObject({ value: 4, source: 'user' });
    expect(fit.body.score).toBe(75);
  });

  it('segments read fit scores', async () => {
    const segment = await call('POST', '/v1/segments', { name: 'Strong fits', kind: 'dynamic', rule: { field: `fitScore.${productId}`, op: 'gte', value: 80 } });
    expect(segment.status, JSON.stringify(segment.body)).toBe(201);
    await untilJobsDone();
    const members = await call('GET', `/v1/segments/${segment.body.id}/members`, undefined, owner(), { sort: 'name' });
    expect(members.body.items.map((member: { contact: { name: string } }) => member.contact.name)).toEqual(['Pia Paris']);
    await call('POST', `/v1/contacts/${berlin.id}/fit/${productId}/assessments`, { criterionId: 'budget', value: 5 });
    await streams.drain();
    await streams.drain();
    const after = await call('GET', `/v1/segments/${segment.body.id}/members`, undefined, owner(), { sort: 'name' });
    expect(after.body.items.map((member: { contact: { name: string } }) => member.contact.name)).toEqual(['Bea Moved', 'Pia Paris']);
  });

  it('reviews leads (owner/admin): accepting assigns an owner and creates a deal, every review kept', async () => {
    expect((await call('POST', `/v1/products/${productId}/leads/${paris.id}/review`, { status: 'rejected' }, acme.member.token)).status).toBe(403);
    const res = await call('POST', `/v1/products/${productId}/leads/${paris.id}/review`, {
      status: 'accepted',
      reason: 'Budget confirmed',
      ownerId: acme.admin.user.id,
      deal: { title: 'CRM Pro for Pia', value: 4_000_000, currency: 'EUR' },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.reviewStatus).toBe('accepted');
    expect(res.body.review).toMatchObject({ status: 'accepted', reason: 'Budget confirmed', ownerId: acme.admin.user.id, userId: acme.owner.user.id });
    const deal = await call('GET', `/v1/deals/${res.body.review.dealId}`);
    // The deal is the new owner's to work, as the contact is: it is among their deals.
    expect(deal.body).toMatchObject({ title: 'CRM Pro for Pia', contactId: paris.id, ownerId: acme.admin.user.id });
    expect((await call('GET', `/v1/contacts/${paris.id}`)).body.ownerId).toBe(acme.admin.user.id);
    const theirs = await call('GET', '/v1/deals', undefined, acme.admin.token, { ownerId: acme.admin.user.id });
    expect(theirs.body.items.map((item: { id: string }) => item.id)).toContain(res.body.review.dealId);
    await call('POST', `/v1/products/${productId}/leads/${paris.id}/review`, { status: 'pending', reason: 'Re-open' }, acme.admin.token);
    const reviews = await call('GET', `/v1/products/${productId}/leads/${paris.id}/reviews`);
    expect(reviews.body.items.map((review: { status: string }) => review.status)).toEqual(['pending', 'accepted']);
    await call('POST', `/v1/products/${productId}/leads/${berlin.id}/review`, { status: 'rejected', reason: 'Competitor customer' });
    expect(await leads(productId, { reviewStatus: 'rejected' })).toEqual([['Bea Moved', 94, 'rejected']]);
    expect(await leads(productId, { reviewStatus: 'pending' })).toEqual([['Pia Paris', 81, 'pending']]);
    const noLead = await call('POST', '/v1/contacts', { name: 'Never Assessed' });
    expect((await call('POST', `/v1/products/${productId}/leads/${noLead.body.id}/review`, { status: 'accepted' })).status).toBe(404);
  });

  it('writes nothing for a review whose deal cannot be created: no owner change, no deal, no review', async () => {
    const before = (await call('GET', `/v1/contacts/${berlin.id}`)).body;
    const reviewsBefore = (await call('GET', `/v1/products/${productId}/leads/${berlin.id}/reviews`)).body.items.length;
    const res = await call('POST', `/v1/products/${productId}/leads/${berlin.id}/review`, {
      status: 'accepted',
      ownerId: acme.member.user.id,
      deal: { title: 'In no pipeline', pipelineId: 'pl_missing' },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(422);
    expect(res.body.errors.map((issue: { field: string }) => issue.field)).toEqual(['body.deal.pipelineId']);
    const noOwner = await call('POST', `/v1/products/${productId}/leads/${berlin.id}/review`, {
      status: 'accepted',
      ownerId: 'usr_missing',
      deal: { title: 'In no pipeline' },
    });
    expect(noOwner.status, JSON.stringify(noOwner.body)).toBe(422);
    expect(noOwner.body.errors.map((issue: { field: string }) => issue.field)).toEqual(['body.ownerId']);
    expect((await call('GET', `/v1/contacts/${berlin.id}`)).body).toMatchObject({ ownerId: before.ownerId, version: before.version });
    expect((await call('GET', `/v1/products/${productId}/leads/${berlin.id}/reviews`)).body.items).toHaveLength(reviewsBefore);
    const deals = await call('GET', `/v1/deals?contactId=${berlin.id}`);
    expect(deals.body.items.filter((deal: { title: string }) => deal.title === 'In no pipeline')).toEqual([]);
  });

  it('keeps other workspaces out', async () => {
    for (const path of [`/v1/products/${productId}`, `/v1/products/${productId}/leads`, `/v1/contacts/${paris.id}/fit/${productId}`]) {
      expect((await call('GET', path, undefined, globex.owner.token)).status).toBe(404);
    }
    const globexProduct = await call('POST', '/v1/products', { name: 'Globex product' }, globex.owner.token);
    expect((await call('GET', `/v1/products/${globexProduct.body.id}/leads/${paris.id}/reviews`, undefined, globex.owner.token)).status).toBe(404);
    const foreign = await call('POST', `/v1/contacts/${paris.id}/fit/${productId}/assessments`, { criterionId: 'budget', value: 1 }, globex.owner.token);
    expect(foreign.status).toBe(404);
    expect((await call('GET', '/v1/products', undefined, globex.owner.token)).body.items.map((product: { name: string }) => product.name)).toEqual(['Globex product']);
  });
});

describe('AI criteria', () => {
  it('are rated by the qualifier when a conversation is classified, with evidence; a later user value stands', async () => {
    const product = await call('POST', '/v1/products', {
      name: 'Analytics add-on',
      criteria: [
        { id: 'budget', name: 'Budget approved', weight: 2, kind: 'ai' },
        { id: 'team', name: 'Team size', weight: 1, kind: 'manual' },
      ],
    });
    expect(product.status, JSON.stringify(product.body)).toBe(201);
    const inbound = await call('POST', '/v1/inbound-messages', {
      channel: 'email',
      from: 'ida@buyer.example',
      name: 'Ida Buyer',
      externalId: 'fit-ai-1',
      body: 'Hi, our budget is approved for Q3 and we would like a quote for the analytics add-on.',
    });
    expect(inbound.status, JSON.stringify(inbound.body)).toBe(201);
    const { conversationId, contactId } = inbound.body as { conversationId: string; contactId: string };
    const job = await call('POST', `/v1/conversations/${conversationId}/classify`, {});
    expect(job.status, JSON.stringify(job.body)).toBe(201);
    const done = await jobs.finished(acme.workspace.id, job.body.id);
    expect(done.result).toMatchObject({ status: 'classified', fitAssessed: 1 });
    const fit = await call('GET', `/v1/contacts/${contactId}/fit/${product.body.id}`);
    expect(fit.body.criteria[0].latest).toMatchObject({ value: 5, source: 'ai', userId: 'system', evidence: expect.stringContaining('budget') });
    expect(fit.body.score).toBe(100);
    // A user's value given after the request is newer knowledge: a classification asked before keeps it.
    const asked = await call('POST', `/v1/conversations/${conversationId}/classify`, {});
    await call('POST', `/v1/contacts/${contactId}/fit/${product.body.id}/assessments`, { criterionId: 'budget', value: 2, evidence: 'Budget was pulled last week' });
    await jobs.finished(acme.workspace.id, asked.body.id);
    const after = await call('GET', `/v1/contacts/${contactId}/fit/${product.body.id}`);
    expect(after.body.criteria[0].latest).toMatchObject({ value: 2, source: 'user' });
  });

  it('a user’s value, however old, stands against the classification an inbound message queues by itself', async () => {
    const product = await call('POST', '/v1/products', { name: 'Hosting', criteria: [{ id: 'budget', name: 'Budget approved', weight: 1, kind: 'ai' }] });
    expect(product.status, JSON.stringify(product.body)).toBe(201);
    const message = (externalId: string, body: string) =>
      call('POST', '/v1/inbound-messages', { channel: 'email', from: 'oli@host.example', name: 'Oli Host', externalId, body });
    const first = await message('fit-ai-old-1', 'Hello');
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    const { contactId } = first.body as { contactId: string };
    const assessed = await call('POST', `/v1/contacts/${contactId}/fit/${product.body.id}/assessments`, { criterionId: 'budget', value: 1, evidence: 'No budget this year' });
    expect(assessed.status, JSON.stringify(assessed.body)).toBe(200);

    Object.assign(inboundClassificationSettings, { enabled: true, delaySeconds: 1 });
    try {
      expect((await message('fit-ai-old-2', 'Good news: our budget is approved now')).status).toBe(201);
    } finally {
      Object.assign(inboundClassificationSettings, { enabled: false, delaySeconds: 60 });
    }
    const queued = await call('GET', '/v1/jobs', undefined, owner(), { kind: 'classify_conversation', limit: 1 });
    const done = await jobs.finished(acme.workspace.id, queued.body.items[0].id);
    expect(done.input).toMatchObject({ trigger: 'inbound' });
    expect(done.result).toMatchObject({ status: 'classified' });
    const fit = await call('GET', `/v1/contacts/${contactId}/fit/${product.body.id}`);
    expect(fit.body.criteria[0].latest).toMatchObject({ value: 1, source: 'user' });
  });
});

describe('the fit score', () => {
  const at = { assessmentId: 'fa_1', source: 'user' as const, userId: 'u', at: '2026-01-01T00:00:00.000Z' };
  it('is the weighted mean of the assessed criteria on 0–100, with the assessed share as coverage', () => {
    const criteria = [
      { id: 'a', weight: 3 },
      { id: 'b', weight: 1 },
      { id: 'c', weight: 4 },
    ];
    expect(fitScoreOf(criteria, {})).toEqual({ score: 0, coverage: 0 });
    expect(fitScoreOf(criteria, { a: { ...at, value: 5 } })).toEqual({ score: 100, coverage: 0.375 });
    expect(fitScoreOf(criteria, { a: { ...at, value: 5 }, b: { ...at, value: 1 } })).toEqual({ score: 75, coverage: 0.5 });
    expect(fitScoreOf(criteria, { a: { ...at, value: 3 }, b: { ...at, value: 3 }, c: { ...at, value: 1 } })).toEqual({ score: 25, coverage: 1 });
    // A criterion the product no longer has does not count.
    expect(fitScoreOf(criteria, { gone: { ...at, value: 5 } })).toEqual({ score: 0, coverage: 0 });
  });
});
