import { Duration } from 'aws-cdk-lib';
import { ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IHttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** Retention of every function's log group (set where the function is built, lambda-function.ts). */
export const logRetention = RetentionDays.ONE_MONTH;

export interface ObservabilityProps {
  httpApi: IHttpApi;
  /** Every queue where failed work lands: job dead-letter queues and stream failure queues. */
  deadLetterQueues: { name: string; queue: IQueue }[];
  /** Subscribed to the alarm topic when set. */
  alarmEmail?: string;
}

/** A few alarms that mean "work was lost or an API call failed on our side", on one SNS topic. */
export class Observability extends Construct {
  readonly alarmTopic: Topic;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    // SSL only, as every queue, topic and bucket of the stack (CloudWatch publishes over HTTPS).
    this.alarmTopic = new Topic(this, 'AlarmTopic', { enforceSSL: true });
    if (props.alarmEmail) this.alarmTopic.addSubscription(new EmailSubscription(props.alarmEmail));
    const action = new SnsAction(this.alarmTopic);
    const period = Duration.minutes(5);

    for (const { name, queue } of props.deadLetterQueues) {
      queue
        .metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' })
        .createAlarm(this, `${name}Alarm`, {
          alarmDescription: `Messages in ${name}: work failed every retry and waits for a look`,
          threshold: 0,
          comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: TreatMissingData.NOT_BREACHING,
        })
        .addAlarmAction(action);
    }

    // Bad input is a 4xx by design (problem+json), so any 5xx is a bug or an outage.
    props.httpApi
      .metricServerError({ period, statistic: 'Sum' })
      .createAlarm(this, 'Http5xxAlarm', {
        alarmDescription: 'The HTTP API answered 5xx',
        threshold: 0,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      })
      .addAlarmAction(action);
  }
}
