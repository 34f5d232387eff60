import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { QueuedMessage } from '../../domain/shared/ports';
import { readContactSegments } from '../../domain/segments/membership.service';
import { setJobQueue } from '../../functions/shared/deps';
import { recordChangesConsumers } from '../../functions/streams/record-changes.handler';
import { streamReaders } from '../../functions/streams/stream-consumers';
import { createStreamReader, type RoutedConsumer } from '../../functions/streams/stream-reader';
import { startStreamPoller } from '../../local/stream-poller';
import { inBackground } from '../support/dynamo-call-counter';
import { startTestStreams } from '../support/test-streams';
import { createTestStack, seedWorkspace, type TestStack } from '../support/test-stack';
import { ok } from '../support/ok';

/* eslint-disable @typescript-eslint/no-explicit-any -- response bodies */

/**
 * The `record-changes` stream reader (one event source mapping for tag usage, segments, fit rules,
 * unread totals and job dispatch) against DynamoDB Local, through the real handlers: each consumer
 * gets its records, and a failure of one consumer, which makes Lambda deliver the records from there
 * again to all of them, counts nothing twice.
 */

let stack: TestStack;
let acme: Awaited<ReturnType<typeof seedWorkspace>>;
/** Every job message the reader's job-dispatch consumer sent. */
const sent: QueuedMessage[] = [];

beforeAll(async () => {
  stack = await createTestStack();
  acme = await seedWorkspace(stack, 'Acme');
  setJobQueue({
    send: (message) => {
      sent.push(message);
      return Promise.resolve({ messageId: `m-${sent.length}` });
    },
  });
});
afterAll(async () => {
  setJobQueue(undefined);
  await stack?.destroy();
});

const owner = () => acme.owner.token;
const createTaggedContact = async (name: string, tags: string[]) => {
  stack.clock.advance(1000);
  const contact = await ok(stack.api('POST', '/v1/contacts', { token: owner(), body: { name } }), 201);
  await ok(stack.api('POST', `/v1/contacts/${contact.id}/tags`, { token: owner(), body: { tags } }));
  return contact as { id: string };
};
const usageOf = async (key: string) => (await ok(stack.api('GET', `/v1/tags/${encodeURIComponent(key)}`, { token: owner() }))).usageCount as number;
const unreadTotal = async (token: string) => (await ok(stack.api('GET', '/v1/inbox/unread', { token, query: { limit: '100' } }))).total as number;
const messageToAdmin = async (conversationId: string, body: string) =>
  ok(stack.api('POST', `/v1/conversations/${conversationId}/messages`, { token: owner(), body: { body } }), 201);
const jobMessages = (jobId: string) => sent.filter((message) => (message.body as { jobId?: string }).jobId === jobId);

describe('the record-changes stream reader', () => {
  let conversationId: string;

  it('runs every consumer of its mapping: tag usage, segment membership, unread totals, job dispatch', async () => {
    const streams = await startTestStreams(stack, ['record-changes']);
    try {
      // Prepare: a dynamic segment (its compute job is dispatched), a direct conversation
      const segment = await ok(
        stack.api('POST', '/v1/segments', { token: owner(), body: { name: 'VIPs', kind: 'dynamic', rule: { field: 'tags', op: 'has', value: 'vip' } } }),
        201,
      );
      const conversation = await ok(stack.api('POST', '/v1/conversations', { token: owner(), body: { kind: 'direct', userIds: [acme.admin.user.id] } }), 201);
      conversationId = conversation.id;
      await streams.drain();
      const adminBefore = await unreadTotal(acme.admin.token);

      // Act: a contact tagged through the API, an export job, a message to the admin
      const contact = await createTaggedContact('Vera Vip', ['VIP']);
      const exported = await ok(stack.api('POST', '/v1/exports', { token: owner(), body: { format: 'csv' } }), 201);
      await messageToAdmin(conversationId, 'Hello');
      await streams.drain();

      // Assess: each consumer did its part, once
      expect(await usageOf('vip')).toBe(1);
      expect(Object.keys((await readContactSegments(stack.deps, acme.workspace.id, contact.id))?.segments ?? {})).toContain(segment.id);
      expect(await unreadTotal(acme.admin.token)).toBe(adminBefore + 1);
      expect(jobMessages(segment.computeJobId)).toEqual([
        expect.objectContaining({ queue: 'segment_membership', body: { workspaceId: acme.workspace.id, jobId: segment.computeJobId, seq: 1 } }),
      ]);
      expect(jobMessages(exported.id)).toEqual([
        expect.objectContaining({ queue: 'export_contacts', body: { workspaceId: acme.workspace.id, jobId: exported.id, seq: 1 } }),
      ]);
    } finally {
      await streams.stop();
    }
  });

  describe('when one consumer fails, so Lambda delivers the records from there again to all of them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'crm-readers-'));
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('counts nothing twice: tag usage, unread totals and segment membership come out as if read once', async () => {
      // Prepare: the writes, read by a fresh mapping afterwards (as one batch: up to 100 records)
      const adminBefore = await unreadTotal(acme.admin.token);
      const contact = await createTaggedContact('Rita Redelivered', ['Redelivered', 'VIP']);
      const exported = await ok(stack.api('POST', '/v1/exports', { token: owner(), body: { format: 'csv' } }), 201);
      await messageToAdmin(conversationId, 'Again');
      const isContact = (record: any) => record.dynamodb?.NewImage?.contactId?.S === contact.id;
      // The segments consumer fails its first two invocations that hold the contact's records; the others
      // succeed on theirs each time, so they see the contact's records, the job's and the counter's again.
      let segmentFailures = 0;
      const tagUsageSaw: number[] = [];
      const consumers: RoutedConsumer[] = recordChangesConsumers.map((consumer) => {
        if (consumer.name === 'segments') {
          return {
            ...consumer,
            handler: (event, context) => {
              if (event.Records.some(isContact) && segmentFailures < 2) {
                segmentFailures += 1;
                return Promise.reject(new Error('segments unavailable'));
              }
              return consumer.handler(event, context);
            },
          };
        }
        if (consumer.name === 'tag-usage') {
          return {
            ...consumer,
            handler: (event, context) => {
              tagUsageSaw.push(event.Records.filter(isContact).length);
              return consumer.handler(event, context);
            },
          };
        }
        return consumer;
      });
      const definition = streamReaders.find((reader) => reader.name === 'record-changes')!;
      const sentBefore = jobMessages(exported.id).length;

      // Act: the reader reads the whole stream (the first test's records again too), with the failures
      const poller = await startStreamPoller({
        endpoint: process.env.DYNAMODB_ENDPOINT!,
        tableName: stack.tableName,
        consumers: [{ definition, handler: inBackground(createStreamReader(definition.name, consumers)) }],
        failureFile: join(dir, 'failures.jsonl'),
        pollIntervalMs: 250,
        retryBaseDelayMs: 5,
      });
      try {
        await poller.drain();
      } finally {
        await poller.stop();
      }

      // Assess: the failures happened and tag usage saw the contact's records more than once...
      expect(segmentFailures).toBe(2);
      expect(tagUsageSaw.filter((count) => count > 0).length).toBeGreaterThanOrEqual(3);
      // ...yet every count is what one reading gives
      expect(await usageOf('redelivered')).toBe(1);
      expect(await usageOf('vip')).toBe(2);
      expect(await unreadTotal(acme.admin.token)).toBe(adminBefore + 1);
      const memberships = await readContactSegments(stack.deps, acme.workspace.id, contact.id);
      expect(Object.keys(memberships?.segments ?? {})).toHaveLength(1);
      // The job's message was sent again with each delivery: harmless, a runner finds every copy after
      // the first stale (test/integration/jobs.test.ts delivers every message twice and counts once).
      expect(jobMessages(exported.id).length - sentBefore).toBeGreaterThanOrEqual(3);
      expect(new Set(jobMessages(exported.id).map((message) => JSON.stringify(message.body))).size).toBe(1);
    });
  });
});
