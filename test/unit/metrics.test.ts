import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

interface EmfLine {
  _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] };
  [key: string]: unknown;
}

/** The EMF lines written to stdout while `action` runs (Powertools Metrics writes one JSON line per metric here). */
async function emfLines(action: () => Promise<unknown> | unknown): Promise<EmfLine[]> {
  const written: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
  try {
    await action();
  } finally {
    spy.mockRestore();
  }
  return written
    .flatMap((chunk) => chunk.split('\n'))
    .filter((line) => line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as EmfLine);
}

const metricOf = (line: EmfLine) => ({
  name: line._aws.CloudWatchMetrics[0]!.Metrics.map((metric) => metric.Name).join(' '),
  dimensions: Object.fromEntries(line._aws.CloudWatchMetrics[0]!.Dimensions[0]!.map((key) => [key, line[key]])),
  namespace: line._aws.CloudWatchMetrics[0]!.Namespace,
});

describe('business metrics (EMF)', () => {
  beforeEach(() => {
    vi.resetModules();
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
  });
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  it('counts each HTTP request by route group and status class, with its latency; the route and status ride along', async () => {
    const { handler } = await import('../../functions/http/meta.handler');
    const invoke = (routeKey: string, rawPath: string) =>
      handler(
        { routeKey, rawPath, headers: {}, requestContext: { requestId: 'r1', http: { method: 'GET' } } } as unknown as APIGatewayProxyEventV2,
        { awsRequestId: 'a1', functionName: 'meta', getRemainingTimeInMillis: () => 10_000 } as unknown as Context,
      );
    const ok = await emfLines(() => invoke('GET /openapi.json', '/openapi.json'));
    // One line a request, both metrics in it.
    expect(ok.map(metricOf)).toEqual([
      { name: 'Requests Latency', dimensions: { service: 'crm', group: 'meta', statusClass: '2xx' }, namespace: 'CRM' },
    ]);
    expect(ok[0]).toMatchObject({ routeKey: 'GET /openapi.json', status: '200', Requests: 1 });
    expect(typeof ok[0]!.Latency).toBe('number');

    const missing = await emfLines(() => invoke('$default', '/v1/nothing-here'));
    expect(missing.map(metricOf)).toEqual([
      { name: 'Requests Latency', dimensions: { service: 'crm', group: 'meta', statusClass: '4xx' }, namespace: 'CRM' },
    ]);
    // Nothing of the first request's dimensions or properties is left on the second's line.
    expect(missing[0]).toMatchObject({ routeKey: '$default', status: '404' });
    expect(missing[0]!._aws.CloudWatchMetrics[0]!.Dimensions).toEqual([['service', 'group', 'statusClass']]);
  });

  it('counts job runs by kind and outcome, and webhook deliveries by status', async () => {
    const { recordDelivery, recordJobRun } = await import('../../functions/shared/metrics');
    const lines = await emfLines(() => {
      recordJobRun('import_contacts', 'succeeded');
      recordDelivery('webhook', 'retrying');
    });
    expect(lines.map(metricOf)).toEqual([
      { name: 'JobRuns', dimensions: { service: 'crm', kind: 'import_contacts', outcome: 'succeeded' }, namespace: 'CRM' },
      { name: 'Deliveries', dimensions: { service: 'crm', channel: 'webhook', status: 'retrying' }, namespace: 'CRM' },
    ]);
  });

  it('writes nothing when switched off, as under npm start and in the other tests', async () => {
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
    const { recordJobRun } = await import('../../functions/shared/metrics');
    expect(await emfLines(() => recordJobRun('export_contacts', 'failed'))).toEqual([]);
  });

  it('classes statuses', async () => {
    const { statusClassOf } = await import('../../functions/shared/metrics');
    expect([200, 201, 204, 304, 400, 404, 409, 422, 500, 503].map(statusClassOf)).toEqual(['2xx', '2xx', '2xx', '3xx', '4xx', '4xx', '4xx', '4xx', '5xx', '5xx']);
  });
});
