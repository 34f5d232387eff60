import { Duration } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { FilterCriteria, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { streamConsumers, type StreamConsumerDefinition } from '../../functions/streams/stream-consumers';
import { grantTableItems } from './data';
import { createAppFunction, pascalCase, type FunctionSettings } from './lambda-function';

export interface StreamsProps {
  table: ITable;
  settings: FunctionSettings;
  /** @default the consumers of functions/streams/stream-consumers.ts */
  consumers?: readonly StreamConsumerDefinition[];
}

export interface StreamConsumer {
  definition: StreamConsumerDefinition;
  fn: NodejsFunction;
  /** Receives the stream coordinates of batches that failed every retry (the records themselves expire with the stream after 24 h). */
  failureQueue: Queue;
}

/** One function per DynamoDB Streams consumer, each with its own event source mapping on the table. */
export class Streams extends Construct {
  readonly consumers: StreamConsumer[] = [];

  constructor(scope: Construct, id: string, props: StreamsProps) {
    super(scope, id);
    for (const definition of props.consumers ?? streamConsumers) {
      const name = pascalCase(definition.name);
      const fn = createAppFunction(this, `${name}Function`, {
        entry: definition.entry,
        settings: props.settings,
        timeout: Duration.minutes(1),
        description: `Stream consumer: ${definition.name}`,
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
      this.consumers.push({ definition, fn, failureQueue });
    }
  }
}
