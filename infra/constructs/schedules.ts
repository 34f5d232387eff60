import { Duration } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { schedules, type ScheduleDefinition } from '../../functions/schedules/schedules';
import { grantTableItems } from './data';
import { createAppFunction, pascalCase, type FunctionSettings } from './lambda-function';

export interface SchedulesProps {
  table: ITable;
  settings: FunctionSettings;
  /** @default the schedules of functions/schedules/schedules.ts */
  definitions?: readonly ScheduleDefinition[];
}

export interface ScheduledFunction {
  definition: ScheduleDefinition;
  rule: Rule;
  fn: NodejsFunction;
}

/** Per schedule: an EventBridge rule at a fixed rate invoking its function. */
export class Schedules extends Construct {
  readonly scheduled: ScheduledFunction[] = [];
  /**
   * Where a tick goes that failed: EventBridge could not invoke the function, or the function failed
   * Lambda's two retries of the asynchronous invocation. Each run repeats the last one's work, so a lost
   * tick is made up at the next; the queue (and its alarm) says that ticks are failing.
   */
  readonly failedTicks: Queue;

  constructor(scope: Construct, id: string, props: SchedulesProps) {
    super(scope, id);
    this.failedTicks = new Queue(this, 'FailedTicks', {
      retentionPeriod: Duration.days(14),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    for (const definition of props.definitions ?? schedules) {
      const name = pascalCase(definition.name);
      const fn = createAppFunction(this, `${name}Function`, {
        entry: definition.entry,
        settings: props.settings,
        // Recomputes are long; a run that needs more continues through a job from a saved cursor.
        timeout: Duration.minutes(5),
        description: `Schedule: ${definition.name}`,
        deadLetterQueue: this.failedTicks,
      });
      grantTableItems(fn, props.table, 'readWrite');
      const rule = new Rule(this, `${name}Rule`, {
        description: `Every ${definition.rateMinutes} min: ${definition.name}`,
        schedule: Schedule.rate(Duration.minutes(definition.rateMinutes)),
        targets: [new LambdaFunction(fn, { retryAttempts: 2, deadLetterQueue: this.failedTicks })],
      });
      this.scheduled.push({ definition, rule, fn });
    }
  }
}
