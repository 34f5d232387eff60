import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadHandler } from '../../local/handlers';
import { startStreamPoller, type StreamPoller } from '../../local/stream-poller';
import { streamConsumers, streamReaders } from '../../functions/streams/stream-consumers';
import { inBackground } from './dynamo-call-counter';
import type { TestStack } from './test-stack';

export interface TestStreams {
  /** Resolves when the named consumers have handled every change written so far. */
  drain(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Runs the named stream consumers of the app against a test stack's table, each behind its own
 * mapping, for tests that read what a consumer keeps (e.g. unread totals): write, `drain()`, then read.
 * A stream reader's name (`record-changes`) runs that reader as AWS and `npm start` run it: one mapping,
 * its consumers routed inside. The consumers' DynamoDB calls are not counted in `stack.calls`.
 */
export async function startTestStreams(stack: TestStack, names: string[]): Promise<TestStreams> {
  const dir = mkdtempSync(join(tmpdir(), 'crm-streams-'));
  const definitions = names.map((name) => {
    const definition =
      streamConsumers.find((consumer) => consumer.name === name) ?? streamReaders.find((reader) => reader.name === name);
    if (!definition) throw new Error(`No stream consumer or reader named ${name}`);
    return definition;
  });
  const poller: StreamPoller = await startStreamPoller({
    endpoint: process.env.DYNAMODB_ENDPOINT!,
    tableName: stack.tableName,
    consumers: await Promise.all(
      definitions.map(async (definition) => {
        const handler = await loadHandler(definition.entry);
        // Their writes are not the requests' cost: leave them out of `stack.calls`.
        return { definition, handler: inBackground(handler) };
      }),
    ),
    failureFile: join(dir, 'failures.jsonl'),
    // Not faster: every poll asks DynamoDB Local for each shard's records, and other files share it.
    pollIntervalMs: 250,
    retryBaseDelayMs: 5,
  });
  return {
    drain: () => poller.drain(),
    async stop() {
      await poller.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
