import { randomUUID } from 'node:crypto';
import { appendFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type AttributeValue as SdkAttributeValue,
  type _Record as SdkStreamRecord,
  type Shard,
} from '@aws-sdk/client-dynamodb-streams';
import type {
  AttributeValue,
  Context,
  DynamoDBBatchResponse,
  DynamoDBRecord,
  DynamoDBStreamEvent,
} from 'aws-lambda';
import { createDynamoClient } from '../domain/store/dynamo-client';
import { logger as sharedLogger } from '../functions/shared/logger';
import type { StreamConsumerDefinition } from '../functions/streams/stream-consumers';
import { lambdaContext } from './http-routing';
import { assertSupportedPattern, matchesAnyPattern } from '../functions/streams/stream-filter';

/**
 * The local stand-in for Lambda's DynamoDB Streams event source mappings: reads DynamoDB Local's real
 * stream and invokes each consumer's handler (under `npm start`, each stream reader's: one per mapping,
 * as deployed) with `DynamoDBStreamEvent`s shaped as AWS shapes them,
 * with the mapping's filter, batch size, partial batch responses, retries with backoff, bisection and
 * an on-failure destination (a JSON-lines file). Every consumer reads the stream independently, as
 * separate mappings do; a shard is read only after its parent shard has been read to its end.
 * Not emulated: the batching window (a batch is what one GetRecords page holds, up to batchSize) and
 * parallelization factors above 1 (one invocation at a time per consumer, records in order).
 */

export type StreamHandler = (
  event: DynamoDBStreamEvent,
  context: Context,
) => Promise<DynamoDBBatchResponse | void | undefined | null>;

export interface StreamPollerConsumer {
  definition: StreamConsumerDefinition;
  handler: StreamHandler;
}

export interface StreamPollerLogger {
  debug(message: string, extra?: Record<string, unknown>): void;
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

export interface StreamPollerOptions {
  /** DynamoDB Local's endpoint (serves both the table and the streams API). */
  endpoint: string;
  /** Written into each record's `awsRegion`; defaults to AWS_REGION or us-east-1. */
  region?: string;
  tableName: string;
  consumers: StreamPollerConsumer[];
  /** Where positions are kept across restarts (per consumer and shard); in memory only when absent. */
  checkpointFile?: string;
  /** The on-failure destination: one JSON line per batch given up on. Only logged when absent. */
  failureFile?: string;
  /** Pause between polls of a caught-up stream. Default 1000 ms. */
  pollIntervalMs?: number;
  /**
   * The longest pause between polls of a stream with nothing new: each empty poll doubles the pause
   * from `pollIntervalMs` up to this, and a poll that finds records (or a `drain`) starts it over.
   * Default 2000 ms (never below `pollIntervalMs`).
   */
  maxIdlePollIntervalMs?: number;
  /**
   * How long the stream's shard list is reused before it is described again (a shard that ends makes
   * the next poll describe it at once). Default 5000 ms.
   */
  shardListMaxAgeMs?: number;
  /** First retry delay of a failing batch, doubled per attempt. Default 500 ms. */
  retryBaseDelayMs?: number;
  /** Longest retry delay. Default 30 s. */
  retryMaxDelayMs?: number;
  logger?: StreamPollerLogger;
}

export interface StreamPoller {
  /** Stops polling, lets an in-flight invocation finish, and saves checkpoints. */
  stop(): Promise<void>;
  /**
   * Resolves when every consumer has read every shard to its end as of this call and handled what it
   * read (including retries and on-failure records). Rejects after `timeoutMs` (default 60 s) or on stop.
   */
  drain(options?: { timeoutMs?: number }): Promise<void>;
}

/** Describes the table's stream, then polls it until stopped. */
export async function startStreamPoller(options: StreamPollerOptions): Promise<StreamPoller> {
  const log = options.logger ?? powertoolsLogger;
  const region = options.region ?? process.env.AWS_REGION ?? 'us-east-1';
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  const retryBaseDelayMs = options.retryBaseDelayMs ?? 500;
  const retryMaxDelayMs = options.retryMaxDelayMs ?? 30_000;
  const shardListMaxAgeMs = options.shardListMaxAgeMs ?? 5000;
  // On DynamoDB Local every GetRecords reads the stream's description (its whole log) on the one thread
  // that runs all its SQLite work: an idle consumer that polls at full rate slows everything else.
  const maxIdlePollIntervalMs = Math.max(pollIntervalMs, options.maxIdlePollIntervalMs ?? 2000);
  /** The shard list last described, and when (see `currentShards`). */
  let shardList: { at: number; shards: Promise<Shard[]> } | undefined;
  for (const { definition } of options.consumers) {
    definition.filterPatterns.forEach((pattern) => assertSupportedPattern(pattern));
  }

  const dynamo = createDynamoClient({ endpoint: options.endpoint, region });
  const streams = new DynamoDBStreamsClient({
    endpoint: options.endpoint,
    region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const streamArn = await describeStreamArn();
  const checkpoints = await loadCheckpoints(options.checkpointFile, streamArn, log);
  let stopped = false;
  let saving: Promise<void> = Promise.resolve();
  const onStop = new Set<() => void>();

  const runs = options.consumers.map((consumer) => newRun(consumer));
  const loops = runs.map((run) => consumerLoop(run));
  log.info('Stream poller started', {
    tableName: options.tableName,
    streamArn,
    consumers: runs.map((r) => r.name),
  });

  return {
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const resume of onStop) resume();
      for (const run of runs) {
        run.wake();
        for (const waiter of run.drainWaiters.splice(0))
          waiter.reject(new Error('The stream poller was stopped'));
      }
      await Promise.all(loops);
      await saving;
      streams.destroy();
      dynamo.destroy();
    },
    drain({ timeoutMs = 60_000 } = {}) {
      if (stopped) return Promise.reject(new Error('The stream poller is stopped'));
      const waits = runs.map(
        (run) =>
          new Promise<void>((resolve, reject) => {
            // A cycle that started before this call may already be past records written just before it.
            run.drainWaiters.push({ cycle: run.startedCycles + 1, resolve, reject });
            run.wake();
          }),
      );
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`Stream poller drain timed out after ${timeoutMs} ms`)),
          timeoutMs,
        );
      });
      return Promise.race([Promise.all(waits).then(() => undefined), timeout]).finally(() =>
        clearTimeout(timer),
      );
    },
  };

  // ---- one loop per consumer (one event source mapping each) ----

  interface ShardState {
    shardId: string;
    parentShardId?: string;
    iterator?: string;
    /** The last sequence number handled (delivered, filtered out, or given up on). */
    checkpoint?: string;
    /** Closed and read to its end. */
    finished: boolean;
  }

  interface Run {
    name: string;
    consumer: StreamPollerConsumer;
    shards: Map<string, ShardState>;
    startedCycles: number;
    drainWaiters: { cycle: number; resolve: () => void; reject: (error: Error) => void }[];
    wake: () => void;
    sleep: (ms: number) => Promise<void>;
  }

  function newRun(consumer: StreamPollerConsumer): Run {
    let wakeUp: (() => void) | undefined;
    let woken = false;
    const saved = checkpoints.consumers[consumer.definition.name] ?? {};
    const shards = new Map<string, ShardState>(
      Object.entries(saved).map(([shardId, state]) => [
        shardId,
        { shardId, checkpoint: state.sequenceNumber, finished: state.finished ?? false },
      ]),
    );
    return {
      name: consumer.definition.name,
      consumer,
      shards,
      startedCycles: 0,
      drainWaiters: [],
      wake: () => {
        woken = true;
        wakeUp?.();
      },
      sleep: (ms) =>
        new Promise<void>((resolve) => {
          if (woken || stopped) {
            woken = false;
            resolve();
            return;
          }
          const timer = setTimeout(done, ms);
          function done() {
            clearTimeout(timer);
            wakeUp = undefined;
            woken = false;
            resolve();
          }
          wakeUp = done;
        }),
    };
  }

  async function consumerLoop(run: Run): Promise<void> {
    let idlePolls = 0;
    while (!stopped) {
      const cycle = ++run.startedCycles;
      try {
        const delivered = await pollOnce(run);
        idlePolls = delivered > 0 || run.drainWaiters.length > 0 ? 0 : idlePolls + 1;
        const ready = run.drainWaiters.filter((waiter) => waiter.cycle <= cycle);
        run.drainWaiters = run.drainWaiters.filter((waiter) => waiter.cycle > cycle);
        ready.forEach((waiter) => waiter.resolve());
      } catch (error) {
        if (error instanceof PollerStopped) break;
        log.error('Stream poll failed; retrying', { consumer: run.name, error: describeError(error) });
        await run.sleep(Math.max(pollIntervalMs, 500));
        continue;
      }
      await run.sleep(Math.min(maxIdlePollIntervalMs, pollIntervalMs * 2 ** Math.min(idlePolls, 8)));
    }
  }

  /**
   * One pass: every readable shard read to its current end. Children follow parents in the same pass.
   * Returns how many records it read.
   */
  async function pollOnce(run: Run): Promise<number> {
    let read = 0;
    const described = await currentShards();
    const present = new Set(described.map((shard) => shard.ShardId!));
    for (const shard of described) {
      const state = run.shards.get(shard.ShardId!);
      if (state) state.parentShardId = shard.ParentShardId;
      else
        run.shards.set(shard.ShardId!, {
          shardId: shard.ShardId!,
          parentShardId: shard.ParentShardId,
          finished: false,
        });
    }
    // Shards trimmed away (older than the retention period) are forgotten.
    for (const shardId of [...run.shards.keys()]) if (!present.has(shardId)) run.shards.delete(shardId);

    for (let progressed = true; progressed;) {
      progressed = false;
      for (const state of run.shards.values()) {
        if (!shardIsReadable(state, run.shards)) continue;
        read += await readShard(run, state);
        if (state.finished) progressed = true;
      }
    }
    return read;
  }

  /** Reads one shard until GetRecords comes back empty (caught up) or the shard ends; returns the records read. */
  async function readShard(run: Run, state: ShardState): Promise<number> {
    let refreshed = false;
    let read = 0;
    for (;;) {
      throwIfStopped();
      state.iterator ??= await shardIterator(run, state);
      if (!state.iterator) return read;
      let page;
      try {
        page = await streams.send(new GetRecordsCommand({ ShardIterator: state.iterator, Limit: 1000 }));
      } catch (error) {
        const name = (error as { name?: string }).name;
        if (name === 'ExpiredIteratorException') {
          // Iterators live 15 minutes: take a new one from the checkpoint.
          state.iterator = undefined;
          continue;
        }
        if (name === 'TrimmedDataAccessException') {
          log.warn('Stream records were trimmed before they were read', {
            consumer: run.name,
            shardId: state.shardId,
          });
          state.iterator = await shardIterator(run, state, 'TRIM_HORIZON');
          continue;
        }
        state.iterator = undefined;
        // An iterator DynamoDB Local no longer knows ("Invalid ShardId in ShardIterator"): ask once for a
        // fresh one from the checkpoint; GetShardIterator then tells a vanished shard (finished) apart.
        if (name === 'ResourceNotFoundException' && !refreshed) {
          refreshed = true;
          continue;
        }
        throw error;
      }
      const records = page.Records ?? [];
      if (records.length > 0) await deliverPage(run, state, records);
      read += records.length;
      state.iterator = page.NextShardIterator;
      if (!page.NextShardIterator) {
        await markFinished(run, state);
        return read;
      }
      if (records.length === 0) return read;
    }
  }

  async function shardIterator(
    run: Run,
    state: ShardState,
    force?: 'TRIM_HORIZON',
  ): Promise<string | undefined> {
    // With no checkpoint start at the oldest record, so that nothing written before start-up is missed.
    const after = force ? undefined : state.checkpoint;
    try {
      const result = await streams.send(
        new GetShardIteratorCommand({
          StreamArn: streamArn,
          ShardId: state.shardId,
          ...(after
            ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: after }
            : { ShardIteratorType: 'TRIM_HORIZON' }),
        }),
      );
      return result.ShardIterator;
    } catch (error) {
      const name = (error as { name?: string }).name;
      if (name === 'TrimmedDataAccessException' && after) {
        log.warn('Checkpoint is older than the stream retention; resuming at the oldest record', {
          consumer: run.name,
          shardId: state.shardId,
        });
        return shardIterator(run, state, 'TRIM_HORIZON');
      }
      if (name === 'ResourceNotFoundException') {
        await markFinished(run, state);
        return undefined;
      }
      throw error;
    }
  }

  // ---- delivery: filter, batch, invoke, retry, bisect, on-failure ----

  async function deliverPage(run: Run, state: ShardState, page: SdkStreamRecord[]): Promise<void> {
    const { definition } = run.consumer;
    let batch: DynamoDBRecord[] = [];
    for (const raw of page) {
      const record = toLambdaRecord(raw, streamArn, region);
      if (!matchesAnyPattern(definition.filterPatterns, record)) continue;
      batch.push(record);
      if (batch.length >= definition.batchSize) {
        await deliverBatch(run, state, batch, 0);
        batch = [];
      }
    }
    if (batch.length > 0) await deliverBatch(run, state, batch, 0);
    // Records the filter skipped are done too.
    await saveCheckpoint(run, state, page.at(-1)!.dynamodb!.SequenceNumber!);
  }

  /**
   * Invokes until the batch succeeds. A partial failure checkpoints before the lowest failed record
   * and retries from it; a function error retries the batch, or bisects it when the mapping says so
   * (splitting does not use up retries, as on AWS). Past `retryAttempts` the records' metadata goes to
   * the on-failure destination and the shard moves on.
   */
  async function deliverBatch(
    run: Run,
    state: ShardState,
    records: DynamoDBRecord[],
    retried: number,
  ): Promise<void> {
    const { definition } = run.consumer;
    let pending = records;
    let attempts = retried;
    for (;;) {
      throwIfStopped();
      const outcome = await invoke(run, pending);
      if (outcome.kind === 'ok') {
        await saveCheckpoint(run, state, sequenceOf(pending.at(-1)!));
        return;
      }
      if (outcome.kind === 'partial') {
        if (outcome.index > 0) {
          await saveCheckpoint(run, state, sequenceOf(pending[outcome.index - 1]!));
          pending = pending.slice(outcome.index);
        }
      } else if (definition.bisectBatchOnError && pending.length > 1) {
        const half = Math.ceil(pending.length / 2);
        log.warn('Stream batch failed; bisecting', {
          consumer: run.name,
          size: pending.length,
          error: outcome.error,
        });
        await deliverBatch(run, state, pending.slice(0, half), attempts);
        await deliverBatch(run, state, pending.slice(half), attempts);
        return;
      }
      attempts++;
      // As on AWS, retryAttempts -1 retries until the records expire from the stream.
      if (definition.retryAttempts >= 0 && attempts > definition.retryAttempts) {
        await sendToFailureDestination(run, state, pending, attempts, outcome.error);
        await saveCheckpoint(run, state, sequenceOf(pending.at(-1)!));
        return;
      }
      const delay = Math.min(retryMaxDelayMs, retryBaseDelayMs * 2 ** (attempts - 1));
      log.warn('Stream batch failed; retrying', {
        consumer: run.name,
        attempt: attempts,
        delayMs: delay,
        size: pending.length,
        error: outcome.error,
      });
      await pause(delay);
    }
  }

  /** A retry delay: cut short by stop() only (drain() must not hurry retries). */
  function pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (stopped) return resolve();
      const done = () => {
        clearTimeout(timer);
        onStop.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      onStop.add(done);
    });
  }

  type Outcome =
    { kind: 'ok' } | { kind: 'partial'; index: number; error: string } | { kind: 'error'; error: string };

  async function invoke(run: Run, records: DynamoDBRecord[]): Promise<Outcome> {
    const requestId = randomUUID();
    const startedAt = performance.now();
    let response;
    try {
      response = await run.consumer.handler({ Records: records }, lambdaContext(run.name, requestId));
    } catch (error) {
      return { kind: 'error', error: describeError(error) };
    } finally {
      log.debug?.('Stream batch handled', { consumer: run.name, records: records.length, ms: Math.round(performance.now() - startedAt) });
    }
    const failures = response?.batchItemFailures ?? [];
    if (failures.length === 0) return { kind: 'ok' };
    // As on AWS: an identifier that is empty or not in the batch fails the whole batch.
    const indexes = failures.map((failure) =>
      records.findIndex((record) => failure.itemIdentifier && sequenceOf(record) === failure.itemIdentifier),
    );
    if (indexes.some((index) => index < 0)) {
      return {
        kind: 'error',
        error: `batchItemFailures named records not in the batch: ${JSON.stringify(failures)}`,
      };
    }
    return { kind: 'partial', index: Math.min(...indexes), error: `${failures.length} record(s) failed` };
  }

  async function sendToFailureDestination(
    run: Run,
    state: ShardState,
    records: DynamoDBRecord[],
    attempts: number,
    error: string,
  ): Promise<void> {
    const first = records[0]!;
    const last = records.at(-1)!;
    // The shape of Lambda's on-failure record for a stream source, plus what helps locally.
    const entry = {
      requestContext: {
        requestId: randomUUID(),
        functionArn: `arn:aws:lambda:${region}:000000000000:function:${run.name}`,
        condition: 'RetryAttemptsExhausted',
        approximateInvokeCount: attempts,
      },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      version: '1.0',
      timestamp: new Date().toISOString(),
      DDBStreamBatchInfo: {
        shardId: state.shardId,
        startSequenceNumber: sequenceOf(first),
        endSequenceNumber: sequenceOf(last),
        approximateArrivalOfFirstRecord: arrival(first),
        approximateArrivalOfLastRecord: arrival(last),
        batchSize: records.length,
        streamArn,
      },
      local: { consumer: run.name, error, eventIDs: records.map((record) => record.eventID) },
    };
    log.error('Stream batch given up after retries', {
      consumer: run.name,
      ...entry.DDBStreamBatchInfo,
      error,
    });
    if (!options.failureFile) return;
    await mkdir(dirname(options.failureFile), { recursive: true });
    await appendFile(options.failureFile, `${JSON.stringify(entry)}\n`);
  }

  // ---- checkpoints ----

  async function markFinished(run: Run, state: ShardState): Promise<void> {
    state.finished = true;
    state.iterator = undefined;
    // Its children start where it ended: the next poll describes the stream again to find them.
    shardList = undefined;
    await persist();
  }

  async function saveCheckpoint(run: Run, state: ShardState, sequenceNumber: string): Promise<void> {
    if (state.checkpoint && compareSequence(sequenceNumber, state.checkpoint) <= 0) return;
    state.checkpoint = sequenceNumber;
    await persist();
  }

  /** Writes every consumer's positions, one write at a time, by rename so a crash leaves a whole file. */
  function persist(): Promise<void> {
    const file = options.checkpointFile;
    if (!file) return Promise.resolve();
    const snapshot: CheckpointFile = {
      version: 1,
      streamArn,
      consumers: Object.fromEntries(
        runs.map((run) => [
          run.name,
          Object.fromEntries(
            [...run.shards.values()]
              .filter((shard) => shard.checkpoint || shard.finished)
              .map((shard) => [
                shard.shardId,
                {
                  ...(shard.checkpoint ? { sequenceNumber: shard.checkpoint } : {}),
                  ...(shard.finished ? { finished: true } : {}),
                },
              ]),
          ),
        ]),
      ),
    };
    const write = saving.then(async () => {
      await mkdir(dirname(file), { recursive: true });
      const temporary = `${file}.${process.pid}.tmp`;
      await writeFile(temporary, `${JSON.stringify(snapshot, null, 2)}\n`);
      await rename(temporary, file);
    });
    // One failed write must not wedge the ones after it; its caller still sees the failure.
    saving = write.catch(() => undefined);
    return write;
  }

  // ---- the stream ----

  async function describeStreamArn(): Promise<string> {
    const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: options.tableName }));
    if (!Table?.LatestStreamArn || !Table.StreamSpecification?.StreamEnabled) {
      throw new Error(`Table ${options.tableName} has no stream enabled`);
    }
    return Table.LatestStreamArn;
  }

  /**
   * The shard list, described at most every `shardListMaxAgeMs` and shared by every consumer: on
   * DynamoDB Local a DescribeStream reads the whole stream log, so describing it on every poll of every
   * consumer made the stream reads most of its work (and slowed every other request to the same JVM).
   */
  function currentShards(): Promise<Shard[]> {
    if (shardList && Date.now() - shardList.at < shardListMaxAgeMs) return shardList.shards;
    const listed = { at: Date.now(), shards: describeShards() };
    listed.shards.catch(() => {
      if (shardList === listed) shardList = undefined;
    });
    shardList = listed;
    return listed.shards;
  }

  async function describeShards(): Promise<Shard[]> {
    const shards: Shard[] = [];
    let start: string | undefined;
    do {
      const { StreamDescription } = await streams.send(
        new DescribeStreamCommand({
          StreamArn: streamArn,
          ...(start ? { ExclusiveStartShardId: start } : {}),
        }),
      );
      shards.push(...(StreamDescription?.Shards ?? []));
      start = StreamDescription?.LastEvaluatedShardId;
    } while (start);
    return shards;
  }

  function throwIfStopped(): void {
    if (stopped) throw new PollerStopped();
  }
}

class PollerStopped extends Error {}

const powertoolsLogger: StreamPollerLogger = {
  debug: (message, extra) => sharedLogger.debug(message, { ...extra }),
  info: (message, extra) => sharedLogger.info(message, { ...extra }),
  warn: (message, extra) => sharedLogger.warn(message, { ...extra }),
  error: (message, extra) => sharedLogger.error(message, { ...extra }),
};

interface CheckpointFile {
  version: 1;
  streamArn: string;
  consumers: Record<string, Record<string, { sequenceNumber?: string; finished?: boolean }>>;
}

async function loadCheckpoints(
  file: string | undefined,
  streamArn: string,
  log: StreamPollerLogger,
): Promise<Pick<CheckpointFile, 'consumers'>> {
  if (!file) return { consumers: {} };
  let parsed: CheckpointFile;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8')) as CheckpointFile;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { consumers: {} };
    throw new Error(`Cannot read stream checkpoints from ${file}: ${describeError(error)}`);
  }
  if (parsed.streamArn !== streamArn) {
    // The table was created anew: its stream is another one, and old positions mean nothing.
    log.info('Stream checkpoints belong to another stream; starting from the oldest record', { file });
    return { consumers: {} };
  }
  return { consumers: parsed.consumers ?? {} };
}

/**
 * Shard lineage: a shard is read once its parent has been read to its end (or has been trimmed away
 * and is no longer listed), so a key's changes are handled in the order they happened.
 */
export function shardIsReadable(
  shard: { finished: boolean; parentShardId?: string },
  shards: ReadonlyMap<string, { finished: boolean }>,
): boolean {
  if (shard.finished) return false;
  const parent = shard.parentShardId ? shards.get(shard.parentShardId) : undefined;
  return !parent || parent.finished;
}

/** A GetRecords record as Lambda delivers it: epoch-second times, base64 binaries, the source ARN. */
export function toLambdaRecord(raw: SdkStreamRecord, streamArn: string, region: string): DynamoDBRecord {
  const change = raw.dynamodb ?? {};
  const created = change.ApproximateCreationDateTime;
  return {
    eventID: raw.eventID,
    eventName: raw.eventName,
    eventVersion: raw.eventVersion ?? '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: region,
    dynamodb: {
      ...(created ? { ApproximateCreationDateTime: Math.floor(new Date(created).getTime() / 1000) } : {}),
      ...(change.Keys ? { Keys: toLambdaImage(change.Keys) } : {}),
      ...(change.NewImage ? { NewImage: toLambdaImage(change.NewImage) } : {}),
      ...(change.OldImage ? { OldImage: toLambdaImage(change.OldImage) } : {}),
      SequenceNumber: change.SequenceNumber,
      SizeBytes: change.SizeBytes,
      StreamViewType: change.StreamViewType,
    },
    eventSourceARN: streamArn,
    ...(raw.userIdentity
      ? { userIdentity: { type: raw.userIdentity.Type, principalId: raw.userIdentity.PrincipalId } }
      : {}),
  };
}

function toLambdaImage(image: Record<string, SdkAttributeValue>): Record<string, AttributeValue> {
  return Object.fromEntries(Object.entries(image).map(([name, value]) => [name, toLambdaValue(value)]));
}

function toLambdaValue(value: SdkAttributeValue): AttributeValue {
  if (value.B !== undefined) return { B: base64(value.B) };
  if (value.BS !== undefined) return { BS: value.BS.map(base64) };
  if (value.L !== undefined) return { L: value.L.map(toLambdaValue) };
  if (value.M !== undefined) return { M: toLambdaImage(value.M) };
  if (value.S !== undefined) return { S: value.S };
  if (value.N !== undefined) return { N: value.N };
  if (value.BOOL !== undefined) return { BOOL: value.BOOL };
  if (value.NULL !== undefined) return { NULL: value.NULL };
  if (value.SS !== undefined) return { SS: value.SS };
  if (value.NS !== undefined) return { NS: value.NS };
  // The SDK's stream deserialiser turns an empty map (`{"M":{}}`, e.g. a contact's customFields) into
  // `{}`; every other type keeps its member (an empty list stays `{"L":[]}`, empty sets cannot exist).
  if (Object.keys(value).length === 0) return { M: {} };
  throw new Error(`Unknown attribute value: ${JSON.stringify(value)}`);
}

const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

const sequenceOf = (record: DynamoDBRecord) => record.dynamodb!.SequenceNumber!;

const arrival = (record: DynamoDBRecord) =>
  new Date((record.dynamodb?.ApproximateCreationDateTime ?? 0) * 1000).toISOString();

/** Sequence numbers are decimal strings of varying length: compare them as numbers. */
function compareSequence(a: string, b: string): number {
  const left = BigInt(a);
  const right = BigInt(b);
  return left < right ? -1 : left > right ? 1 : 0;
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
