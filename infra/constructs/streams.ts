import { Duration } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { FilterCriteria, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { maxStreamReaders, streamReaders, type StreamReaderDefinition } from '../../functions/streams/stream-consumers';
import { grantTableItems } from './data';
import { createAppFunction, pascalCase, type FunctionSettings } from './lambda-function';

export interface StreamsProps {
  table: ITable;
  settings: FunctionSettings;
  /** @default the readers of functions/streams/stream-consumers.ts */
  readers?: readonly StreamReaderDefinition[];
}

export interface StreamReader {
  definition: StreamReaderDefinition;
  fn: NodejsFunction;
  /** Receives the stream coordinates of batches that failed every retry (the records themselves expire with the stream after 24 h). */
  failureQueue: Queue;
}

/**
 * One function per stream reader, each with its own event source mapping on the table; a reader runs
 * several consumers (functions/streams/stream-reader.ts). Never more than `maxStreamReaders` mappings:
 * DynamoDB throttles a shard read by more than two processes at once.
 */
export class Streams extends Construct {
  readonly readers: StreamReader[] = [];

  constructor(scope: Construct, id: string, props: StreamsProps) {
    super(scope, id);
    const readers = props.readers ?? streamReaders;
    if (readers.length > maxStreamReaders) {
      throw new Error(`${readers.length} stream readers: DynamoDB allows ${maxStreamReaders} per shard at once`);
    }
    for (const definition of readers) {
      const name = pascalCase(definition.name);
      const fn = createAppFunction(this, `${name}Function`, {
        entry: definition.entry,
        settings: props.settings,
        timeout: Duration.minutes(1),
        description: `Stream reader: ${definition.name} (${definition.consumers.join(', ')})`,
      });
      grantTableItems(fn, props.table, 'readWrite');
      const failureQueue = new Queue(this, `${name}Failures`, {
        retentionPeriod: Duration.days(14),
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
      });
      fn.addEventSource(
        new DynamoEventSource(props.table, {
          // TRIM_HORIZON, not LATEST: when the mapping is first created, or re-created because the
          // function was replaced, LATEST silently skips whatever was written meanwhile (the first
          // events of a new deployment included). The consumers are idempotent, so re-reading up to
          // 24 h of stream costs a little work and loses nothing.
          startingPosition: StartingPosition.TRIM_HORIZON,
          batchSize: definition.batchSize,
          maxBatchingWindow: Duration.seconds(definition.maxBatchingWindowSeconds),
          retryAttempts: definition.retryAttempts,
          bisectBatchOnError: definition.bisectBatchOnError,
          reportBatchItemFailures: true,
          filters: definition.filterPatterns.map((pattern) => FilterCriteria.filter(pattern)),
          onFailure: new SqsDlq(failureQueue),
        }),
      );
      this.readers.push({ definition, fn, failureQueue });
    }
  }
}
