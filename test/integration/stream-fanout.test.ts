import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allParties, readCounterDays } from '../../domain/metrics/counter-store';
import { createWorkspace } from '../../domain/workspaces/workspaces.service';
import { handler } from '../../functions/streams/event-fanout.handler';
import { streamConsumers, type StreamConsumerDefinition } from '../../functions/streams/stream-consumers';
import { lambdaContext } from '../../local/http-routing';
import { startStreamPoller, type StreamHandler, type StreamPoller } from '../../local/stream-poller';
import { createTestStack, seedWorkspace, type TestStack } from '../support/test-stack';


const fanout = streamConsumers.find((consumer) => consumer.name === 'event-fanout')!;
const day = '2026-01-15'; // the test clock's day

let stack: TestStack;
let acme: Awaited<ReturnType<typeof seedWorkspace>>;
let poller: StreamPoller;
let dir: string;

interface Delivery {
  eventIds: string[];
  records: DynamoDBRecord[];
  response: DynamoDBBatchResponse;
}
/** Every invocation of the fan-out handler by the poller, in order. */
const deliveries: Delivery[] = [];
/** When set, picks one record of the next batch to fail (once), as a flaky consumer would. */
let injectFailure: ((records: DynamoDBRecord[]) => DynamoDBRecord | undefined) | undefined;

const eventIdOf = (record: DynamoDBRecord) => record.dynamodb?.NewImage?.eventId?.S ?? '?';
const sequenceOf = (record: DynamoDBRecord) => record.dynamodb!.SequenceNumber!;

/** The real handler, counted, with an optional injected failure of one record. */
const recordingHandler: StreamHandler = async (event, context) => {
  const failing = injectFailure?.(event.Records);
  if (failing) injectFailure = undefined;
  const rest = event.Records.filter((record) => record !== failing);
  const real = rest.length > 0 ? await handler({ Records: rest }, context) : { batchItemFailures: [] };
  const response = {
    batchItemFailures: [
      ...real.batchItemFailures,
      ...(failing ? [{ itemIdentifier: sequenceOf(failing) }] : []),
    ],
  };
  deliveries.push({ eventIds: event.Records.map(eventIdOf), records: event.Records, response });
  return response;
};

const start = () =>
  startStreamPoller({
    endpoint: process.env.DYNAMODB_ENDPOINT!,
    tableName: stack.tableName,
    consumers: [{ definition: fanout, handler: recordingHandler }],
    checkpointFile: join(dir, 'checkpoints.json'),
    failureFile: join(dir, 'failures.jsonl'),
    pollIntervalMs: 20,
    retryBaseDelayMs: 5,
  });

/** The events a workspace holds, read straight from the table (a test may Scan its own table). */
async function eventsOf(workspaceId: string) {
  const { data } = await stack.deps.db.entities.event.scan
    .where(({ workspaceId: id }, { eq }) => eq(id, workspaceId))
    .go({ pages: 'all' });
  return data;
}

/**
 * A day's counters as stored: the totals of every actor, and each actor's own (the actors are those of
 * the events the workspace holds, and `extraActors`).
 */
async function readDayCounters(workspaceId: string, extraActors: string[] = []) {
  const actors = new Set([...(await eventsOf(workspaceId)).map((event) => event.actorUserId), ...extraActors]);
  const [totals, ...own] = await Promise.all(
    [allParties, ...actors].map(async (party) => (await readCounterDays(stack.deps, workspaceId, party, day, day))[0]?.counts ?? {}),
  );
  const byActor: Record<string, Record<string, number>> = {};
  [...actors].forEach((actor, index) => {
    for (const [type, count] of Object.entries(own[index]!)) (byActor[type] ??= {})[actor] = count;
  });
  return { workspaceId, day, totals: totals!, byActor };
}

async function expectedCounters(workspaceId: string) {
  const totals: Record<string, number> = {};
  const byActor: Record<string, Record<string, number>> = {};
  for (const event of await eventsOf(workspaceId)) {
    totals[event.type] = (totals[event.type] ?? 0) + 1;
    const actors = (byActor[event.type] ??= {});
    actors[event.actorUserId] = (actors[event.actorUserId] ?? 0) + 1;
  }
  return { workspaceId, day, totals, byActor };
}

const deliveredCount = (eventId: string) =>
  deliveries.reduce((sum, delivery) => sum + delivery.eventIds.filter((id) => id === eventId).length, 0);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'crm-stream-'));
  stack = await createTestStack();
  acme = await seedWorkspace(stack, 'Acme');
  poller = await start();
});

afterAll(async () => {
  await poller?.stop();
  await stack?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

describe('event fan-out to counters through the stream', () => {
  it('counts every event the seed wrote, by type and by actor, for the event day', async () => {
    await poller.drain();
    const expected = await expectedCounters(acme.workspace.id);
    expect(expected.totals).toMatchObject({ 'workspace.created': 1, 'user.added': 3, 'token.created': 3 });
    expect(await readDayCounters(acme.workspace.id)).toEqual(expected);
  });

  it('moves the counters by exactly one when the API adds a user', async () => {
    const before = await readDayCounters(acme.workspace.id);
    const res = await stack.api('POST', '/v1/users', {
      token: acme.admin.token,
      body: { name: 'Nina New', email: `nina-${randomUUID().slice(0, 6)}@example.com` },
    });
    expect(res.status).toBe(201);
    await poller.drain();
    const after = await readDayCounters(acme.workspace.id);
    expect(after.totals).toEqual({ ...before.totals, 'user.added': before.totals['user.added']! + 1 });
    expect(after.byActor['user.added']![acme.admin.user.id]).toBe(
      (before.byActor['user.added']?.[acme.admin.user.id] ?? 0) + 1,
    );
    expect(after.byActor['token.created']).toEqual(before.byActor['token.created']);
  });

  it('hands each inserted event to the handler exactly once', async () => {
    const events = await eventsOf(acme.workspace.id);
    expect(events.length).toBeGreaterThan(0);
    for (const event of events) expect(deliveredCount(event.eventId)).toBe(1);
    expect(deliveries.every((delivery) => delivery.response.batchItemFailures.length === 0)).toBe(true);
  });

  it('filters out every record that is not an event insert (a user update MODIFYs, counters churn)', async () => {
    const seen: { eventName?: string; entity?: string; pk?: string }[] = [];
    const observer: StreamConsumerDefinition = {
      ...fanout,
      name: 'observer',
      filterPatterns: [],
      batchSize: 1000,
    };
    const unfiltered = await startStreamPoller({
      endpoint: process.env.DYNAMODB_ENDPOINT!,
      tableName: stack.tableName,
      consumers: [
        {
          definition: observer,
          handler: async (event) => {
            for (const record of event.Records) {
              const image = record.dynamodb?.NewImage;
              seen.push({ eventName: record.eventName, entity: image?.__edb_e__?.S, pk: image?.pk?.S });
            }
          },
        },
      ],
      pollIntervalMs: 20,
    });
    try {
      const delivered = deliveries.length;
      const res = await stack.api('PATCH', `/v1/users/${acme.member.user.id}`, {
        token: acme.owner.token,
        body: { name: 'Mia Renamed' },
      });
      expect(res.status).toBe(200);
      await Promise.all([poller.drain(), unfiltered.drain()]);

      // The stream did carry the user's MODIFY, and the counters' own writes...
      expect(seen).toContainEqual(expect.objectContaining({ eventName: 'MODIFY', entity: 'user' }));
      expect(seen.some((record) => record.entity === 'counter')).toBe(true);
      expect(seen.some((record) => record.entity === 'streamReceipt')).toBe(true);
      // ...but the fan-out handler only ever saw event inserts, here just the user.updated one.
      const all = deliveries.flatMap((delivery) => delivery.records);
      expect(
        all.every((r) => r.eventName === 'INSERT' && r.dynamodb?.NewImage?.__edb_e__?.S === 'event'),
      ).toBe(true);
      const latest = deliveries.slice(delivered).flatMap((delivery) => delivery.records);
      expect(latest.map((record) => record.dynamodb?.NewImage?.type?.S)).toEqual(['user.updated']);
      expect((await readDayCounters(acme.workspace.id)).totals['user.updated']).toBe(1);
    } finally {
      await unfiltered.stop();
    }
  });

  it('shapes records as Lambda does', () => {
    const record = deliveries[0]!.records[0]!;
    expect(record).toMatchObject({
      eventID: expect.any(String),
      eventName: 'INSERT',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: 'us-east-1',
      eventSourceARN: expect.stringMatching(/^arn:aws:dynamodb:.*:table\/crm-test-[^/]+\/stream\//),
      dynamodb: {
        ApproximateCreationDateTime: expect.any(Number),
        Keys: { pk: { S: expect.stringMatching(/^WS#/) }, sk: { S: expect.stringMatching(/^EVENT#/) } },
        NewImage: expect.objectContaining({ __edb_e__: { S: 'event' } }),
        SequenceNumber: expect.stringMatching(/^\d+$/),
        SizeBytes: expect.any(Number),
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
    });
    expect(record.dynamodb!.ApproximateCreationDateTime! * 1000).toBeLessThanOrEqual(Date.now());
  });
});

describe('replays', () => {
  it('changes nothing when a delivered batch is handed to the handler again, twice', async () => {
    const batch: DynamoDBStreamEvent = { Records: deliveries[0]!.records };
    const before = await readDayCounters(acme.workspace.id);
    for (let round = 0; round < 2; round++) {
      const response = await handler(batch, lambdaContext('event-fanout', randomUUID()));
      expect(response.batchItemFailures).toEqual([]);
      expect(await readDayCounters(acme.workspace.id)).toEqual(before);
    }
  });

  it('counts a new event once however often its record is replayed', async () => {
    const workspaceId = `ws_replay_${randomUUID().slice(0, 8)}`;
    const image = marshall({
      pk: `WS#${workspaceId}#ENTITY#workspace#${workspaceId}`,
      sk: 'EVENT#evt_1',
      __edb_e__: 'event',
      __edb_v__: '1',
      workspaceId,
      eventId: 'evt_1',
      type: 'workspace.updated',
      entityType: 'workspace',
      entityId: workspaceId,
      actorUserId: 'usr_1',
      payload: { changes: { name: { from: 'a', to: 'b' } } },
      createdAt: '2026-01-15T23:59:59.999Z',
    });
    const record = {
      ...deliveries[0]!.records[0]!,
      dynamodb: { ...deliveries[0]!.records[0]!.dynamodb, NewImage: image },
    };
    const batch = { Records: [record as DynamoDBRecord] };
    for (let round = 0; round < 3; round++) {
      expect((await handler(batch)).batchItemFailures).toEqual([]);
      expect(await readDayCounters(workspaceId, ['usr_1'])).toEqual({
        workspaceId,
        day,
        totals: { 'workspace.updated': 1 },
        byActor: { 'workspace.updated': { usr_1: 1 } },
      });
    }
  });

  it('fails an invalid event record alone, reporting it in batchItemFailures', async () => {
    const good = deliveries[0]!.records[0]!;
    const bad = {
      ...good,
      dynamodb: {
        ...good.dynamodb,
        SequenceNumber: '999999999',
        NewImage: { ...good.dynamodb!.NewImage, createdAt: { S: 'yesterday' } },
      },
    };
    const response = await handler({ Records: [good, bad as DynamoDBRecord] });
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: '999999999' }]);
  });
});

describe('batches folded into few transactions', () => {
  /** A stream record of an event image, as the mapping would deliver it. */
  const recordOf = (workspaceId: string, n: number, overrides: Record<string, unknown> = {}): DynamoDBRecord => {
    const eventId = `evt_${String(n).padStart(26, '0')}`;
    const template = deliveries[0]!.records[0]!;
    return {
      ...template,
      dynamodb: {
        ...template.dynamodb,
        SequenceNumber: String(1_000_000 + n),
        NewImage: marshall({
          pk: `WS#${workspaceId}#ENTITY#contact#ct_${n % 7}`,
          sk: `EVENT#${eventId}`,
          __edb_e__: 'event',
          __edb_v__: '1',
          workspaceId,
          eventId,
          type: ['contact.updated', 'tag.added', 'note.added'][n % 3],
          entityType: 'contact',
          entityId: `ct_${n % 7}`,
          actorUserId: `usr_${n % 4}`,
          payload: {},
          createdAt: `${day}T10:00:00.000Z`,
          ...overrides,
        }),
      },
    } as DynamoDBRecord;
  };
  const expectedOf = (workspaceId: string, ns: number[]) => {
    const totals: Record<string, number> = {};
    const byActor: Record<string, Record<string, number>> = {};
    for (const n of ns) {
      const type = ['contact.updated', 'tag.added', 'note.added'][n % 3]!;
      totals[type] = (totals[type] ?? 0) + 1;
      (byActor[type] ??= {})[`usr_${n % 4}`] = (byActor[type]?.[`usr_${n % 4}`] ?? 0) + 1;
    }
    return { workspaceId, day, totals, byActor };
  };
  const actors = ['usr_0', 'usr_1', 'usr_2', 'usr_3'];
  const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

  it('counts 250 events of a workspace with 3 transactions, not 250', async () => {
    const workspaceId = `ws_fold_${randomUUID().slice(0, 8)}`;
    stack.calls.reset();
    const response = await handler({ Records: range(0, 250).map((n) => recordOf(workspaceId, n)) });
    expect(response.batchItemFailures).toEqual([]);
    // Counters: 250 receipts + 5 counter items (everyone and 4 actors, one day), 95 events per
    // transaction: 3. The change feed: a receipt and an entry per event and the head, 49 events each: 6.
    expect(stack.calls.counts.TransactWriteItemsCommand).toBe(3 + 6);
    expect(await readDayCounters(workspaceId, actors)).toEqual(expectedOf(workspaceId, range(0, 250)));
  });

  it('leaves out the events a batch counted before, and counts the rest once', async () => {
    const workspaceId = `ws_refold_${randomUUID().slice(0, 8)}`;
    await handler({ Records: range(0, 120).filter((n) => n % 2 === 0).map((n) => recordOf(workspaceId, n)) });
    const response = await handler({ Records: range(0, 120).map((n) => recordOf(workspaceId, n)) });
    expect(response.batchItemFailures).toEqual([]);
    expect(await readDayCounters(workspaceId, actors)).toEqual(expectedOf(workspaceId, range(0, 120)));
    await handler({ Records: range(0, 120).map((n) => recordOf(workspaceId, n)) });
    expect(await readDayCounters(workspaceId, actors)).toEqual(expectedOf(workspaceId, range(0, 120)));
  });

  it('falls back to one event at a time when a batch fails: the bad event fails alone, the rest count once', async () => {
    const workspaceId = `ws_poison_${randomUUID().slice(0, 8)}`;
    // An event type too long to be an attribute name (DynamoDB allows 64 KB): its counter write is refused.
    const poison = recordOf(workspaceId, 150, { type: 'x'.repeat(70_000) });
    const records = [...range(0, 150).map((n) => recordOf(workspaceId, n)), poison, ...range(151, 200).map((n) => recordOf(workspaceId, n))];
    const response = await handler({ Records: records });
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: poison.dynamodb!.SequenceNumber }]);
    const counted = [...range(0, 150), ...range(151, 200)];
    expect(await readDayCounters(workspaceId, actors)).toEqual(expectedOf(workspaceId, counted));
  });
});

describe('the poller as an event source mapping', () => {
  it('retries only from a failed record, and resumes from its checkpoint file after a restart', async () => {
    await poller.drain();
    await poller.stop();
    // Written while nobody polls: on restart the three events of one transaction arrive as one batch.
    const created = await createWorkspace(stack.deps, {
      name: 'Initech',
      ownerName: 'Ian',
      ownerEmail: 'ian@initech.test',
    });
    const workspaceId = created.workspace.id;
    const delivered = deliveries.length;
    injectFailure = (records) => (records.length > 1 ? records[1] : undefined);
    poller = await start();
    await poller.drain();

    const fresh = deliveries.slice(delivered);
    // Nothing from before the restart came again: the checkpoint file held the position.
    expect(fresh.flatMap((delivery) => delivery.eventIds).every((id) => id.length > 0)).toBe(true);
    const events = await eventsOf(workspaceId);
    expect(new Set(fresh.flatMap((delivery) => delivery.eventIds))).toEqual(
      new Set(events.map((e) => e.eventId)),
    );
    const [failing, retry] = fresh;
    expect(failing!.eventIds).toHaveLength(3);
    expect(failing!.response.batchItemFailures).toEqual([
      { itemIdentifier: sequenceOf(failing!.records[1]!) },
    ]);
    // The retry starts at the failed record; the one before it was checkpointed and never comes back.
    expect(retry!.eventIds).toEqual(failing!.eventIds.slice(1));
    expect(fresh).toHaveLength(2);
    expect(retry!.response.batchItemFailures).toEqual([]);
    // The record after the failed one was handled twice, and counted once.
    expect(await readDayCounters(workspaceId)).toEqual(await expectedCounters(workspaceId));

    const saved = JSON.parse(readFileSync(join(dir, 'checkpoints.json'), 'utf8'));
    const positions = Object.values(saved.consumers['event-fanout']) as { sequenceNumber: string }[];
    // At or past the last event handled (records the filter skipped, like the counters' writes, count too).
    expect(positions).toHaveLength(1);
    expect(BigInt(positions[0]!.sequenceNumber)).toBeGreaterThanOrEqual(
      BigInt(sequenceOf(retry!.records.at(-1)!)),
    );
  });

  it('bisects a failing batch, retries the poison record, then sends it to the on-failure file and moves on', async () => {
    const events = await eventsOf(acme.workspace.id);
    const poison = events.find((event) => event.type === 'workspace.created')!.eventId;
    const handled = new Set<string>();
    let poisonInvocations = 0;
    const failureFile = join(dir, 'poison-failures.jsonl');
    const strict = await startStreamPoller({
      endpoint: process.env.DYNAMODB_ENDPOINT!,
      tableName: stack.tableName,
      consumers: [
        {
          definition: { ...fanout, name: 'strict', batchSize: 8, retryAttempts: 2, bisectBatchOnError: true },
          handler: async (event) => {
            const ids = event.Records.map(eventIdOf);
            if (ids.includes(poison)) {
              poisonInvocations++;
              throw new Error('poison');
            }
            ids.forEach((id) => handled.add(id));
          },
        },
      ],
      failureFile,
      pollIntervalMs: 20,
      retryBaseDelayMs: 5,
    });
    try {
      await strict.drain();
    } finally {
      await strict.stop();
    }
    const failures = readFileSync(failureFile, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({
      requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: 3 },
      version: '1.0',
      DDBStreamBatchInfo: { batchSize: 1, streamArn: expect.stringContaining(stack.tableName) },
      local: { consumer: 'strict', eventIDs: [expect.any(String)] },
    });
    const info = failures[0].DDBStreamBatchInfo;
    expect(info.startSequenceNumber).toBe(info.endSequenceNumber);
    // Every other event of the stream got through; the poison alone was given up on.
    const everyEvent = deliveries.flatMap((delivery) => delivery.eventIds);
    for (const id of everyEvent) if (id !== poison) expect(handled.has(id)).toBe(true);
    expect(handled.has(poison)).toBe(false);
    expect(poisonInvocations).toBeGreaterThanOrEqual(3 + 1);
  });
});
