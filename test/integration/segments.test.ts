import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContactItem } from '../../domain/contacts/contact-record';
import { exportContactsStep } from '../../domain/exports/contact-export.service';
import { exportContactsInput } from '../../domain/exports/exports.schemas';
import { readContactSegments } from '../../domain/segments/membership.service';
import { applyContactChangeToSegments } from '../../domain/segments/segment-stream.service';
import { enqueueSegmentRecomputes, previewSettings, segmentSettings } from '../../domain/segments/segments.service';
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
  jobs = await startTestJobs(stack, ['segment_membership']);
  streams = await startTestStreams(stack, ['segments']);
});
afterAll(async () => {
  await streams?.stop();
  await jobs?.stop();
  await stack?.destroy();
});

interface Member {
  contact: { id: string; name: string };
  joinedAt: string;
  reason: string;
}
interface SegmentDto {
  id: string;
  memberCount: number;
  computing: boolean;
  computeJobId: string | null;
  ruleVersion: number;
  version: number;
}

const owner = () => acme.owner.token;
const createContact = async (name: string, extra: { tags?: string[]; [field: string]: unknown } = {}, token = owner()) => {
  stack.clock.advance(1000);
  const { tags, ...fields } = extra;
  const res = await stack.api('POST', '/v1/contacts', { token, body: { name, ...fields } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  if (tags) await tag(res.body.id, tags);
  return res.body as { id: string; version: number };
};
const patchContact = async (contactId: string, body: Record<string, unknown>) => {
  stack.clock.advance(1000);
  const res = await stack.api('PATCH', `/v1/contacts/${contactId}`, { token: owner(), body });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as { version: number };
};
const tag = async (contactId: string, tags: string[]) => {
  const res = await stack.api('POST', `/v1/contacts/${contactId}/tags`, { token: owner(), body: { tags } });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
};
const createSegment = async (body: Record<string, unknown>, token = owner()) => {
  const res = await stack.api('POST', '/v1/segments', { token, body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const segment = res.body as SegmentDto;
  if (segment.computeJobId) {
    expect((await jobs.finished(acme.workspace.id, segment.computeJobId)).status).toBe('succeeded');
  }
  return segment;
};
const getSegment = async (segmentId: string, token = owner()) => (await stack.api('GET', `/v1/segments/${segmentId}`, { token })).body as SegmentDto;
const members = async (segmentId: string, sort: 'joined' | 'name' = 'name') => {
  const res = await stack.api('GET', `/v1/segments/${segmentId}/members`, { token: owner(), query: { sort, limit: 100 } });
  expect(res.status).toBe(200);
  return res.body.items as Member[];
};
const memberNames = async (segmentId: string) => (await members(segmentId)).map((member) => member.contact.name);
const segmentEvents = async (segmentId: string) =>
  (await stack.api('GET', '/v1/events', { token: owner(), query: { entityType: 'segment', entityId: segmentId, limit: 100 } })).body.items as {
    type: string;
    payload: { reason?: string };
    contactId?: string;
  }[];
const readContactItem = async (contactId: string) =>
  (await stack.deps.db.entities.contact.get({ workspaceId: acme.workspace.id, contactId }).go({ consistent: true })).data as ContactItem;

describe('dynamic segments', () => {
  let ana: { id: string };
  let ben: { id: string };
  let cleo: { id: string };
  let vipsInBerlin: SegmentDto;

  beforeAll(async () => {
    ana = await createContact('Ana Berlin', { city: 'Berlin', tags: ['VIP'] });
    ben = await createContact('Ben Berlin', { city: 'berlin' });
    cleo = await createContact('Cleo Paris', { city: 'Paris', tags: ['vip'] });
    await streams.drain();
  });

  it('fills from a job applying the rule to every contact, with events naming the reason', async () => {
    vipsInBerlin = await createSegment({
      name: 'VIPs in Berlin',
      kind: 'dynamic',
      rule: { all: [{ field: 'tags', op: 'has', value: 'vip' }, { field: 'city', op: 'eq', value: 'BERLIN' }] },
    });
    expect(vipsInBerlin.computing).toBe(true);
    expect(await memberNames(vipsInBerlin.id)).toEqual(['Ana Berlin']);
    const after = await getSegment(vipsInBerlin.id);
    expect(after).toMatchObject({ memberCount: 1, computing: false, computeJobId: null });
    const events = await segmentEvents(vipsInBerlin.id);
    expect(events.filter((event) => event.type === 'segment.joined')).toEqual([
      expect.objectContaining({ contactId: ana.id, payload: expect.objectContaining({ reason: 'rule_change', segmentName: 'VIPs in Berlin' }) }),
    ]);
    const contactSegments = await stack.api('GET', `/v1/contacts/${ana.id}/segments`, { token: acme.member.token });
    expect(contactSegments.body.items).toEqual([
      { segmentId: vipsInBerlin.id, name: 'VIPs in Berlin', kind: 'dynamic', joinedAt: expect.any(String), reason: 'rule_change' },
    ]);
  });

  it('follows contact changes through the stream: join, leave, nothing when nothing changed', async () => {
    await tag(ben.id, ['vip']);
    await streams.drain();
    expect(await memberNames(vipsInBerlin.id)).toEqual(['Ana Berlin', 'Ben Berlin']);
    await patchContact(ana.id, { city: 'Hamburg' });
    await streams.drain();
    expect(await memberNames(vipsInBerlin.id)).toEqual(['Ben Berlin']);
    // A change no rule reads: no event, no write.
    const before = await readContactSegments(stack.deps, acme.workspace.id, ben.id);
    await patchContact(ben.id, { jobTitle: 'CTO' });
    await streams.drain();
    expect(await readContactSegments(stack.deps, acme.workspace.id, ben.id)).toEqual(before);
    const events = (await segmentEvents(vipsInBerlin.id)).filter((event) => event.type !== 'segment.created');
    expect(events.map((event) => [event.type, event.contactId, event.payload.reason])).toEqual([
      ['segment.left', ana.id, 'contact_change'],
      ['segment.joined', ben.id, 'contact_change'],
      ['segment.joined', ana.id, 'rule_change'],
    ]);
    expect((await getSegment(vipsInBerlin.id)).memberCount).toBe(1);
  });

  it('member items follow the contact’s summary (a rename moves it in the name order)', async () => {
    await patchContact(ben.id, { name: 'Aaron Berlin' });
    await streams.drain();
    const [member] = await members(vipsInBerlin.id);
    expect(member!.contact).toMatchObject({ id: ben.id, name: 'Aaron Berlin' });
  });

  it('a replayed or late stream record changes nothing', async () => {
    const now = await readContactItem(ben.id);
    const older = { ...now, version: now.version - 1, city: 'Paris' };
    expect(await applyContactChangeToSegments(stack.deps, { before: older, after: now })).toBe('unchanged');
    // The record of an older version arriving after the newer one was applied.
    expect(await applyContactChangeToSegments(stack.deps, { before: { ...older, city: 'Berlin' }, after: older })).toBe('stale');
    expect(await memberNames(vipsInBerlin.id)).toEqual(['Aaron Berlin']);
  });

  it('a recompute agrees with the stream: it writes nothing', async () => {
    await createContact('Dora Berlin', { city: 'Berlin', tags: ['vip'] });
    await tag(cleo.id, ['ignored']);
    await streams.drain();
    const { createJob } = await import('../../domain/jobs/jobs.service');
    const { systemActor } = await import('../../domain/shared/context');
    const recompute = await createJob(stack.deps, systemActor(acme.workspace.id), { kind: 'segment_membership', input: { mode: 'recompute' } });
    const done = await jobs.finished(acme.workspace.id, recompute.id);
    expect(done.status).toBe('succeeded');
    expect(done.result).toMatchObject({ joined: 0, left: 0, transactions: 0 });
    expect(await memberNames(vipsInBerlin.id)).toEqual(['Aaron Berlin', 'Dora Berlin']);
  });

  it('a changed rule is applied to every contact (reason rule_change) and bumps the rule version', async () => {
    const res = await stack.api('PATCH', `/v1/segments/${vipsInBerlin.id}`, {
      token: owner(),
      body: { rule: { field: 'tags', op: 'has', value: 'vip' } },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ ruleVersion: 2, computing: true });
    await jobs.finished(acme.workspace.id, res.body.computeJobId);
    expect(await memberNames(vipsInBerlin.id)).toEqual(['Aaron Berlin', 'Ana Berlin', 'Cleo Paris', 'Dora Berlin']);
    expect((await getSegment(vipsInBerlin.id)).memberCount).toBe(4);
  });

  it('a relative date drifts with time: the scheduled recompute takes the contact out', async () => {
    const fresh = await createSegment({ name: 'New this week', kind: 'dynamic', rule: { field: 'createdAt', op: 'in_last', value: { amount: 7, unit: 'days' } } });
    expect((await getSegment(fresh.id)).memberCount).toBeGreaterThanOrEqual(4);
    stack.clock.advance(8 * 86_400_000);
    const late = await createContact('Late Comer');
    await streams.drain();
    const queued = await enqueueSegmentRecomputes(stack.deps);
    expect(queued).toContain(acme.workspace.id);
    const list = await stack.api('GET', '/v1/jobs', { token: owner(), query: { kind: 'segment_membership', limit: 5 } });
    await jobs.finished(acme.workspace.id, list.body.items[0].id);
    expect(await memberNames(fresh.id)).toEqual(['Late Comer']);
    const left = (await segmentEvents(fresh.id)).filter((event) => event.type === 'segment.left');
    expect(left.length).toBeGreaterThanOrEqual(4);
    expect(left.every((event) => event.payload.reason === 'recompute')).toBe(true);
    void late;
  });

  it('refuses a rule naming an unknown field or a bad value, naming the path', async () => {
    const res = await stack.api('POST', '/v1/segments', {
      token: owner(),
      body: { name: 'Bad', kind: 'dynamic', rule: { all: [{ field: 'city', op: 'eq', value: 'x' }, { field: 'colour', op: 'eq', value: 'red' }, { field: 'score', op: 'gt', value: 'high' }] } },
    });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ field: 'body.rule.all.1.field' }),
        expect.objectContaining({ field: 'body.rule.all.2.value' }),
      ]),
    );
    const noRule = await stack.api('POST', '/v1/segments', { token: owner(), body: { name: 'No rule', kind: 'dynamic' } });
    expect(noRule.status).toBe(400);
  });

  it('takes the workspace’s custom fields: a text field compared by value, a select field against its options', async () => {
    const initech = await seedWorkspace(stack, 'Initech');
    const token = initech.owner.token;
    for (const body of [
      { entityType: 'contact', key: 'industry', label: 'Industry', type: 'text' },
      { entityType: 'contact', key: 'plan', label: 'Plan', type: 'select', options: [{ value: 'free', label: 'Free' }, { value: 'pro', label: 'Pro' }] },
    ]) {
      expect((await stack.api('POST', '/v1/custom-fields', { token, body })).status).toBe(201);
    }
    for (const [name, customFields] of [['Fin One', { industry: 'Fintech', plan: 'pro' }], ['Health Two', { industry: 'Healthcare', plan: 'free' }]] as const) {
      expect((await stack.api('POST', '/v1/contacts', { token, body: { name, customFields } })).status).toBe(201);
    }
    const preview = (rule: unknown) => stack.api('POST', '/v1/segments/preview', { token, body: { rule } });
    for (const rule of [
      { field: 'customFields.industry', op: 'eq', value: 'fintech' },
      { field: 'customFields.industry', op: 'in', value: ['Fintech', 'Retail'] },
      { all: [{ field: 'customFields.industry', op: 'neq', value: 'Healthcare' }, { field: 'customFields.plan', op: 'eq', value: 'pro' }] },
    ]) {
      const res = await preview(rule);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.sample.map((contact: { name: string }) => contact.name)).toEqual(['Fin One']);
    }
    const bad = await preview({ field: 'customFields.plan', op: 'in', value: ['pro', 'gold'] });
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([expect.objectContaining({ field: 'body.rule.value', message: expect.stringMatching(/"gold" is not one of free, pro/) })]);
  });

  it('previews a rule’s count with a sample', async () => {
    const res = await stack.api('POST', '/v1/segments/preview', { token: acme.member.token, body: { rule: { field: 'city', op: 'in', value: ['Berlin', 'Paris'] } } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ count: 3, complete: true });
    expect(res.body.sample.map((contact: { name: string }) => contact.name).sort()).toEqual(['Aaron Berlin', 'Cleo Paris', 'Dora Berlin']);
    expect(previewSettings.sampleSize).toBe(10);
  });
});

describe('a contact joining many segments at once', () => {
  it('is written in consecutive transactions, each consistent: 40 joins, 40 events, 40 counts', async () => {
    const { createSegment: create } = await import('../../domain/segments/segments.service');
    const { applyPlans, planMembership, readWorkspaceSegments } = await import('../../domain/segments/membership.service');
    const caller = { workspaceId: globex.workspace.id, userId: globex.owner.user.id, role: 'owner' as const };
    for (let i = 0; i < 40; i += 1) await create(stack.deps, caller, { name: `Multi ${i}`, kind: 'dynamic', rule: { field: 'name', op: 'starts_with', value: 'Multi' } });
    // Planned and applied here, not by the stream: the contact is built, not written (no stream record).
    const res = { body: { id: stack.deps.newId('ct') } };
    const contact: ContactItem = {
      workspaceId: globex.workspace.id,
      contactId: res.body.id,
      name: 'Multi Person',
      status: 'active',
      suppressed: false,
      channels: [],
      createdBy: globex.owner.user.id,
      version: 3,
      createdAt: stack.clock.nowIso(),
      updatedAt: stack.clock.nowIso(),
    };
    const segments = await readWorkspaceSegments(stack.deps, globex.workspace.id);
    const plan = planMembership({ contact, current: undefined, segments, evaluate: () => true, nowMs: stack.clock.nowMs(), reason: 'contact_change' });
    expect(plan.joins).toHaveLength(40);
    const outcome = await applyPlans(stack.deps, caller, [plan]);
    expect(outcome).toMatchObject({ joined: 40, left: 0, raced: [] });
    expect(outcome.transactions).toBeGreaterThan(1);
    const memberships = await readContactSegments(stack.deps, globex.workspace.id, res.body.id);
    expect(Object.keys(memberships!.segments)).toHaveLength(40);
    expect(memberships!.contactVersion).toBe(contact.version);
    const counts = (await readWorkspaceSegments(stack.deps, globex.workspace.id)).map((segment) => segment.memberCount);
    expect(counts).toEqual(new Array(40).fill(1));
    // Planned again from what was written: nothing left to do.
    const again = planMembership({ contact, current: memberships, segments, evaluate: () => true, nowMs: stack.clock.nowMs(), reason: 'contact_change' });
    expect(again.joins).toEqual([]);
    // Clean up: the other tests read Globex's segment list as empty.
    for (const segment of segments) await stack.deps.db.entities.segment.delete({ workspaceId: globex.workspace.id, segmentId: segment.segmentId }).go();
  });
});

describe('static segments', () => {
  it('adds and removes contacts in bulk, reporting what changed', async () => {
    const a = await createContact('Static A');
    const b = await createContact('Static B');
    const segment = await createSegment({ name: 'Hand-picked', kind: 'static' });
    const missing = 'ct_01JF3Q5Z8V2N6M4K7T9R1X3C5B';
    const add = await stack.api('POST', `/v1/segments/${segment.id}/members`, { token: acme.member.token, body: { contactIds: [a.id, b.id, a.id, missing] } });
    expect(add.status, JSON.stringify(add.body)).toBe(200);
    expect(add.body).toEqual({ changed: [a.id, b.id], unchanged: [], notFound: [missing], memberCount: 2 });
    const again = await stack.api('POST', `/v1/segments/${segment.id}/members`, { token: acme.member.token, body: { contactIds: [a.id] } });
    expect(again.body).toMatchObject({ changed: [], unchanged: [a.id], memberCount: 2 });
    const remove = await stack.api('POST', `/v1/segments/${segment.id}/members/remove`, { token: owner(), body: { contactIds: [b.id] } });
    expect(remove.body).toMatchObject({ changed: [b.id], memberCount: 1 });
    expect(await memberNames(segment.id)).toEqual(['Static A']);
    const events = await segmentEvents(segment.id);
    expect(events.filter((event) => event.type !== 'segment.created').map((event) => [event.type, event.payload.reason])).toEqual([
      ['segment.left', 'manual'],
      ['segment.joined', 'manual'],
      ['segment.joined', 'manual'],
    ]);
  });

  it('hold the person on after a merge: the surviving contact joins the ones the merged one was in', async () => {
    const keep = await createContact('Kim Keep');
    const dup = await createContact('Kim Keep duplicate');
    const webinar = await createSegment({ name: 'Webinar list', kind: 'static' });
    const both = await createSegment({ name: 'Both on it', kind: 'static' });
    await stack.api('POST', `/v1/segments/${webinar.id}/members`, { token: owner(), body: { contactIds: [dup.id] } });
    await stack.api('POST', `/v1/segments/${both.id}/members`, { token: owner(), body: { contactIds: [keep.id, dup.id] } });
    await streams.drain();

    stack.clock.advance(1000);
    const merge = await stack.api('POST', `/v1/contacts/${keep.id}/merge`, { token: owner(), body: { sourceContactIds: [dup.id] } });
    expect(merge.status, JSON.stringify(merge.body)).toBe(200);
    await streams.drain();

    expect(await memberNames(webinar.id)).toEqual(['Kim Keep']);
    expect(await memberNames(both.id)).toEqual(['Kim Keep']);
    expect((await getSegment(webinar.id)).memberCount).toBe(1);
    expect((await getSegment(both.id)).memberCount).toBe(1);
    const theirs = await stack.api('GET', `/v1/contacts/${keep.id}/segments`, { token: owner() });
    const staticOnes = (theirs.body.items as { segmentId: string; name: string }[]).filter((segment) => [webinar.id, both.id].includes(segment.segmentId));
    expect(staticOnes.map((segment) => segment.name).sort()).toEqual(['Both on it', 'Webinar list']);
    const events = (await segmentEvents(webinar.id)).filter((event) => event.type !== 'segment.created');
    expect(events.map((event) => [event.type, event.payload.reason, event.contactId])).toEqual(
      expect.arrayContaining([
        ['segment.joined', 'contact_merged', keep.id],
        ['segment.left', 'contact_merged', dup.id],
      ]),
    );
    expect(events).toHaveLength(3);
  });

  it('refuses hand-picked members on a dynamic segment', async () => {
    const dynamic = await createSegment({ name: 'Named Z', kind: 'dynamic', rule: { field: 'name', op: 'starts_with', value: 'Z' } });
    const contact = await createContact('Yves');
    const res = await stack.api('POST', `/v1/segments/${dynamic.id}/members`, { token: owner(), body: { contactIds: [contact.id] } });
    expect(res.status).toBe(422);
    // A dynamic segment keeps a rule: null is no rule to take.
    const cleared = await stack.api('PATCH', `/v1/segments/${dynamic.id}`, { token: owner(), body: { rule: null } });
    expect(cleared.status).toBe(400);
    expect(cleared.body.errors[0].field).toBe('body.rule');
  });

  it('a contact put on a list before the stream reached its creation still joins the dynamic segments it matches', async () => {
    const dynamic = await createSegment({ name: 'Named Q', kind: 'dynamic', rule: { field: 'name', op: 'starts_with', value: 'Quick' } });
    await streams.drain();
    const list = await createSegment({ name: 'Picked quickly', kind: 'static' });
    const contact = await createContact('Quick Quentin');
    const add = await stack.api('POST', `/v1/segments/${list.id}/members`, { token: owner(), body: { contactIds: [contact.id] } });
    expect(add.body).toMatchObject({ changed: [contact.id] });
    await streams.drain();
    expect(await memberNames(dynamic.id)).toEqual(['Quick Quentin']);
    expect(await memberNames(list.id)).toEqual(['Quick Quentin']);
  });

  it('takes back a static segment as it reads it (rule: null); an empty change is a 400', async () => {
    const segment = await createSegment({ name: 'Round trip', kind: 'static' });
    const read = (await stack.api('GET', `/v1/segments/${segment.id}`, { token: owner() })).body;
    expect(read.rule).toBeNull();
    const back = await stack.api('PATCH', `/v1/segments/${segment.id}`, {
      token: owner(),
      body: { name: 'Round trip, renamed', description: read.description, rule: read.rule },
    });
    expect(back.status, JSON.stringify(back.body)).toBe(200);
    expect(back.body).toMatchObject({ name: 'Round trip, renamed', kind: 'static', rule: null });
    expect((await stack.api('PATCH', `/v1/segments/${segment.id}`, { token: owner(), body: {} })).status).toBe(400);
  });
});

describe('segments as targets', () => {
  let picked: SegmentDto;
  const names = ['Target Ola', 'Target Ben', 'Target Ana'];
  const ids: string[] = [];

  beforeAll(async () => {
    picked = await createSegment({ name: 'Targets', kind: 'static' });
    for (const name of names) ids.push((await createContact(name)).id);
    await createContact('Target Outsider');
    const add = await stack.api('POST', `/v1/segments/${picked.id}/members`, { token: owner(), body: { contactIds: ids } });
    expect(add.status).toBe(200);
  });

  it('the contact list takes a segment: its members by name, other filters narrowing them', async () => {
    const res = await stack.api('GET', '/v1/contacts', { token: acme.member.token, query: { segment: picked.id, limit: 2 } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.items.map((contact: { name: string }) => contact.name)).toEqual(['Target Ana', 'Target Ben']);
    expect(res.body.items[0]).toHaveProperty('updatedAt');
    const next = await stack.api('GET', '/v1/contacts', { token: acme.member.token, query: { segment: picked.id, limit: 2, cursor: res.body.nextCursor } });
    expect(next.body.items.map((contact: { name: string }) => contact.name)).toEqual(['Target Ola']);
    const archived = await stack.api('GET', '/v1/contacts', { token: owner(), query: { segment: picked.id, archived: 'true' } });
    expect(archived.body.items).toEqual([]);
    const byCreated = await stack.api('GET', '/v1/contacts', { token: owner(), query: { segment: picked.id, sort: 'created' } });
    expect(byCreated.status).toBe(400);
  });

  it('bulk actions take a segment, 500 members a request, continued with a cursor', async () => {
    const res = await stack.api('POST', '/v1/contacts/bulk', { token: owner(), body: { action: 'tag', segmentId: picked.id, tags: ['picked'] } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.counts).toEqual({ changed: 3, unchanged: 0, failed: 0 });
    expect(res.body.nextCursor).toBeNull();
    expect(res.body.results.map((result: { contactId: string }) => result.contactId).sort()).toEqual([...ids].sort());
    const unknown = await stack.api('POST', '/v1/contacts/bulk', { token: owner(), body: { action: 'tag', segmentId: 'seg_00000000000000000000000000', tags: ['x'] } });
    expect(unknown.status).toBe(422);
    const both = await stack.api('POST', '/v1/contacts/bulk', { token: owner(), body: { action: 'archive', segmentId: picked.id, contactIds: ids } });
    expect(both.status).toBe(400);
    const foreign = await stack.api('POST', '/v1/contacts/bulk', { token: globex.owner.token, body: { action: 'archive', segmentId: picked.id } });
    expect(foreign.status).toBe(422);
  });

  it('the export takes a segment: exactly its members', async () => {
    const key = `exports/${acme.workspace.id}/jobs/job_segment/contacts.csv`;
    const input = exportContactsInput.parse({ format: 'csv', fields: ['Name'], filters: { segment: picked.id } });
    const caller = { workspaceId: acme.workspace.id, userId: acme.owner.user.id, role: 'owner' as const };
    const outcome = await exportContactsStep({ ...stack.deps, blobs: stack.blobs }, caller, input, undefined, { deadlineReached: () => false }, { key });
    expect(outcome.status).toBe('done');
    const rows = parse(Buffer.from((await stack.blobs.get(key))!).toString('utf8').replace(/^\uFEFF/, '')) as string[][];
    expect(rows).toEqual([['Name'], ['Target Ana'], ['Target Ben'], ['Target Ola']]);
  });
});

describe('roles, tenants and deletion', () => {
  it('keeps other workspaces out and lets only the creator or a manager change a segment', async () => {
    const segment = await createSegment({ name: 'Owner’s', kind: 'static' });
    for (const path of [`/v1/segments/${segment.id}`, `/v1/segments/${segment.id}/members`]) {
      expect((await stack.api('GET', path, { token: globex.owner.token })).status).toBe(404);
    }
    const contact = await createContact('Private Person');
    expect((await stack.api('GET', `/v1/contacts/${contact.id}/segments`, { token: globex.owner.token })).status).toBe(404);
    const foreignAdd = await stack.api('POST', `/v1/segments/${segment.id}/members`, { token: globex.owner.token, body: { contactIds: [contact.id] } });
    expect(foreignAdd.status).toBe(404);
    const byMember = await stack.api('PATCH', `/v1/segments/${segment.id}`, { token: acme.member.token, body: { name: 'Mine now' } });
    expect(byMember.status).toBe(403);
    const byAdmin = await stack.api('PATCH', `/v1/segments/${segment.id}`, { token: acme.admin.token, body: { name: 'Renamed' } });
    expect(byAdmin.status).toBe(200);
    const globexList = await stack.api('GET', '/v1/segments', { token: globex.owner.token });
    expect(globexList.body.items).toEqual([]);
  });

  it('deletes a segment: gone at once, its memberships cleared in the background', async () => {
    const contact = await createContact('Soon Orphaned');
    const segment = await createSegment({ name: 'Temporary', kind: 'static' });
    await stack.api('POST', `/v1/segments/${segment.id}/members`, { token: owner(), body: { contactIds: [contact.id] } });
    const res = await stack.api('DELETE', `/v1/segments/${segment.id}`, { token: owner() });
    expect(res.status).toBe(204);
    expect((await stack.api('GET', `/v1/segments/${segment.id}`, { token: owner() })).status).toBe(404);
    const list = await stack.api('GET', '/v1/jobs', { token: owner(), query: { kind: 'segment_membership', limit: 1 } });
    expect((await jobs.finished(acme.workspace.id, list.body.items[0].id)).status).toBe('succeeded');
    expect(Object.keys((await readContactSegments(stack.deps, acme.workspace.id, contact.id))?.segments ?? {})).not.toContain(segment.id);
    const left = await stack.deps.db.entities.segmentMember.query.byKey({ workspaceId: acme.workspace.id, segmentId: segment.id }).go();
    expect(left.data).toEqual([]);
  });
});

describe('the cap on dynamic segments', () => {
  it('holds under concurrent creates, and a deleted segment frees its place', async () => {
    const saved = segmentSettings.maxDynamicSegments;
    segmentSettings.maxDynamicSegments = 3;
    try {
      const initech = await seedWorkspace(stack, 'Initech');
      const create = (name: string) =>
        stack.api('POST', '/v1/segments', { token: initech.owner.token, body: { name, kind: 'dynamic', rule: { all: [{ field: 'city', op: 'eq', value: name }] } } });
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => create(`City ${i}`)));
      expect(results.map((res) => res.status).sort()).toEqual([201, 201, 201, 422, 422, 422, 422, 422]);
      expect(results.find((res) => res.status === 422)!.body.code).toBe('limit_exceeded');
      // Static segments are not capped.
      const staticOne = await stack.api('POST', '/v1/segments', { token: initech.owner.token, body: { name: 'Hand-picked', kind: 'static' } });
      expect(staticOne.status).toBe(201);
      const created = results.filter((res) => res.status === 201).map((res) => res.body as SegmentDto);
      expect((await stack.api('DELETE', `/v1/segments/${created[1]!.id}`, { token: initech.owner.token })).status).toBe(204);
      expect((await create('After delete')).status).toBe(201);
      expect((await create('Over again')).status).toBe(422);
    } finally {
      segmentSettings.maxDynamicSegments = saved;
    }
  });
});
