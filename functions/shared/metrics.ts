import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

/**
 * Business metrics as CloudWatch embedded metric format (EMF) lines in the function's log: CloudWatch
 * turns them into metrics without an API call. Dimensions are kept few on purpose (each combination
 * seen is a custom metric, billed per month): the route group and status class, the job kind and its
 * outcome, the delivery channel and its status. The exact route, status and ids ride along as
 * properties, for Logs Insights. `npm start` and the tests switch them off (POWERTOOLS_METRICS_DISABLED).
 */
export const metricsNamespace = 'CRM';

let metrics: Metrics | undefined;
type Unit = Parameters<Metrics['addMetric']>[1];

/** One metric with its own dimensions, written at once (a batch's records differ in their dimensions). */
function emit(name: string, dimensions: Record<string, string>, properties: Record<string, string> = {}, value = 1, unit: Unit = MetricUnit.Count): void {
  // Made at first use: Powertools reads POWERTOOLS_METRICS_DISABLED when the instance is made.
  metrics ??= new Metrics({ namespace: metricsNamespace, serviceName: 'crm' });
  const single = metrics.singleMetric();
  single.addDimensions(dimensions);
  for (const [key, property] of Object.entries(properties)) single.addMetadata(key, property);
  single.addMetric(name, unit, value);
}

export type StatusClass = '2xx' | '3xx' | '4xx' | '5xx';
export const statusClassOf = (status: number): StatusClass => `${Math.min(5, Math.max(2, Math.floor(status / 100)))}xx` as StatusClass;

/** `Requests` and `Latency` by route group and status class; the route key and status as properties. */
export function recordRequest(group: string, routeKey: string, status: number, ms: number): void {
  const dimensions = { group, statusClass: statusClassOf(status) };
  const properties = { routeKey, status: String(status) };
  emit('Requests', dimensions, properties);
  emit('Latency', dimensions, properties, ms, MetricUnit.Milliseconds);
}

/** `JobRuns` by job kind and the runner's outcome (succeeded, continued, failed, retried, canceled, ...). */
export function recordJobRun(kind: string, outcome: string): void {
  emit('JobRuns', { kind, outcome });
}

/** `Deliveries` by channel (`webhook`, `email`, `sms`, ...) and the attempt's status. */
export function recordDelivery(channel: string, status: string): void {
  emit('Deliveries', { channel, status });
}
