import { Duration } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import { schedules, type ScheduleDefinition } from '../../functions/schedules/schedules';
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

  constructor(scope: Construct, id: string, props: SchedulesProps) {
    super(scope, id);
    for (const definition of props.definitions ?? schedules) {
      const name = pascalCase(definition.name);
      const fn = createAppFunction(this, `${name}Function`, {
        entry: definition.entry,
        settings: props.settings,
        // Recomputes are long; a run that needs more continues through a job from a saved cursor.
        timeout: Duration.minutes(5),
        description: `Schedule: ${definition.name}`,
      });
      props.table.grantReadWriteData(fn);
      const rule = new Rule(this, `${name}Rule`, {
        description: `Every ${definition.rateMinutes} min: ${definition.name}`,
        schedule: Schedule.rate(Duration.minutes(definition.rateMinutes)),
        targets: [new LambdaFunction(fn, { retryAttempts: 2 })],
      });
      this.scheduled.push({ definition, rule, fn });
    }
  }
}
