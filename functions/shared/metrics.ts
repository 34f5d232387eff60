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

/**
 * One EMF line: the metrics given, under these dimensions, with these properties. One instance serves
 * every call (made at first use: Powertools reads POWERTOOLS_METRICS_DISABLED then); publishing clears
 * what was added, and the calls are synchronous, so nothing of one call leaks into the next.
 */
function emit(values: Record<string, [number, Unit]>, dimensions: Record<string, string>, properties: Record<string, string> = {}): void {
  metrics ??= new Metrics({ namespace: metricsNamespace, serviceName: 'crm' });
  metrics.addDimensions(dimensions);
  for (const [key, property] of Object.entries(properties)) metrics.addMetadata(key, property);
  for (const [name, [value, unit]] of Object.entries(values)) metrics.addMetric(name, unit, value);
  metrics.publishStoredMetrics();
}

export type StatusClass = '2xx' | '3xx' | '4xx' | '5xx';
export const statusClassOf = (status: number): StatusClass => `${Math.min(5, Math.max(2, Math.floor(status / 100)))}xx` as StatusClass;

/** `Requests` and `Latency` by route group and status class; the route key and status as properties. */
export function recordRequest(group: string, routeKey: string, status: number, ms: number): void {
  emit(
    { Requests: [1, MetricUnit.Count], Latency: [ms, MetricUnit.Milliseconds] },
    { group, statusClass: statusClassOf(status) },
    { routeKey, status: String(status) },
  );
}

/** `JobRuns` by job kind and the runner's outcome (succeeded, continued, failed, retried, canceled, ...). */
export function recordJobRun(kind: string, outcome: string): void {
  emit({ JobRuns: [1, MetricUnit.Count] }, { kind, outcome });
}

/** `Deliveries` by channel (`webhook`, `email`, `sms`, ...) and the attempt's status. */
export function recordDelivery(channel: string, status: string): void {
  emit({ Deliveries: [1, MetricUnit.Count] }, { channel, status });
}
