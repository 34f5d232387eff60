import { Duration } from 'aws-cdk-lib';
import {
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  MathExpression,
  Metric,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IHttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { metricsNamespace } from '../../functions/shared/metrics';

/** Retention of every function's log group (set where the function is built, lambda-function.ts). */
export const logRetention = RetentionDays.ONE_MONTH;

export interface ObservabilityProps {
  httpApi: IHttpApi;
  /** Every queue where failed work lands: job dead-letter queues and stream failure queues. */
  deadLetterQueues: { name: string; queue: IQueue }[];
  /** Subscribed to the alarm topic when set. */
  alarmEmail?: string;
  /** Every function of the app, by key (`http:contacts`, `stream:record-changes`, ...): errors and durations. */
  functions: ReadonlyMap<string, IFunction>;
  /** The stream readers: their iterator age says how far behind the table's changes they are. */
  streamReaders: IFunction[];
  /**
   * Functions whose failures neither the API's 5xx nor a failure queue would show (the providers'
   * webhooks, answered through a Function URL): alarmed on their own errors.
   */
  errorAlarmFunctions: IFunction[];
  /** The job kinds whose runs are counted (`JobRuns`): a kind that keeps throwing raises an alarm. */
  jobKinds: string[];
  /** The dashboard's name. */
  dashboardName: string;
}

/** A graph of every metric a CloudWatch SEARCH finds in the app's namespace, summed per period. */
const searchOf = (metricName: string, dimensions: string[], label: string, period: Duration) =>
  new MathExpression({
    expression: `SEARCH('{${[metricsNamespace, 'service', ...dimensions].join(',')}} MetricName="${metricName}"', 'Sum', ${period.toSeconds()})`,
    label,
    period,
  });

/**
 * Alarms that mean "work was lost, is late, or an API call failed on our side", on one SNS topic, and
 * one dashboard: the API (requests by route group and status class, latency), the business metrics
 * (job runs by kind and outcome, deliveries by status), the functions' errors and the stream readers' lag.
 */
export class Observability extends Construct {
  readonly alarmTopic: Topic;
  readonly dashboard: Dashboard;

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

    for (const fn of props.errorAlarmFunctions) {
      fn.metricErrors({ period, statistic: 'Sum' })
        .createAlarm(this, `${fn.node.id}ErrorsAlarm`, {
          alarmDescription: `${fn.node.id} failed (a provider's webhook call was not handled; the provider retries)`,
          threshold: 0,
          comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: TreatMissingData.NOT_BREACHING,
        })
        .addAlarmAction(action);
    }

    // A stream reader that falls behind delays counters, the feed, webhooks, segments and job dispatch.
    for (const reader of props.streamReaders) {
      reader
        .metric('IteratorAge', { period, statistic: 'Maximum' })
        .createAlarm(this, `${reader.node.id}LagAlarm`, {
          alarmDescription: `${reader.node.id} is more than 5 minutes behind the table's changes`,
          threshold: 300_000,
          comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 3,
          treatMissingData: TreatMissingData.NOT_BREACHING,
        })
        .addAlarmAction(action);
    }

    // Runs that throw are retried by SQS and end in the dead-letter queue (alarmed above); many at once
    // mean a kind is failing now, before its messages run out of receives.
    for (const kind of props.jobKinds) {
      new Metric({
        namespace: metricsNamespace,
        metricName: 'JobRuns',
        dimensionsMap: { service: 'crm', kind, outcome: 'retried' },
        period,
        statistic: 'Sum',
      })
        .createAlarm(this, `JobRetries-${kind}`, {
          alarmDescription: `${kind} runs threw more than 10 times in 5 minutes (SQS retries them)`,
          threshold: 10,
          comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: TreatMissingData.NOT_BREACHING,
        })
        .addAlarmAction(action);
    }

    const functions = [...props.functions];
    const perFunction = (metric: (fn: IFunction) => Metric) => functions.map(([key, fn]) => metric(fn).with({ label: key }));
    this.dashboard = new Dashboard(this, 'Dashboard', { dashboardName: props.dashboardName });
    this.dashboard.addWidgets(
      new TextWidget({
        markdown: `# CRM\nRequests, jobs and deliveries are EMF metrics in the \`${metricsNamespace}\` namespace; alarms go to the alarm topic.`,
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Requests by route group and status class',
        left: [searchOf('Requests', ['group', 'statusClass'], '', period)],
        width: 12,
      }),
      new GraphWidget({
        title: 'API latency (ms)',
        left: [
          props.httpApi.metricLatency({ period, statistic: 'p50' }).with({ label: 'p50' }),
          props.httpApi.metricLatency({ period, statistic: 'p99' }).with({ label: 'p99' }),
        ],
        right: [props.httpApi.metricServerError({ period, statistic: 'Sum' }).with({ label: '5xx' })],
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({ title: 'Job runs by kind and outcome', left: [searchOf('JobRuns', ['kind', 'outcome'], '', period)], width: 12 }),
      new GraphWidget({ title: 'Deliveries by channel and status', left: [searchOf('Deliveries', ['channel', 'status'], '', period)], width: 12 }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({ title: 'Function errors', left: perFunction((fn) => fn.metricErrors({ period, statistic: 'Sum' })), width: 12 }),
      new GraphWidget({
        title: 'Stream readers: iterator age (ms), and failed work waiting',
        left: props.streamReaders.map((fn) => fn.metric('IteratorAge', { period, statistic: 'Maximum' }).with({ label: fn.node.id })),
        right: props.deadLetterQueues.map(({ name, queue }) =>
          queue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }).with({ label: name }),
        ),
        width: 12,
      }),
    );
  }
}
