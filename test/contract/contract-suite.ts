import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { declaredRefusals, namesRecordInPath, successStatuses } from '../../functions/http/openapi';
import { honoursIfMatch, routeList, type OperationId } from '../../functions/http/routes';
import { createTestStack, seedWorkspace, type ApiResponse, type TestStack } from '../support/test-stack';
import { startTestStreams, type TestStreams } from '../support/test-streams';
import { createDocumentValidator } from './document-validator';
import { Ctx, scenarios, unknownIds, type Case, type Req } from './scenarios';

/**
 * The document is the contract. Every operation of the route table is driven through the real
 * handlers: its success path, each refusal it declares, and the ones that follow from its shape. Every
 * response is checked against the served /openapi.json by an independent validator (Ajv): an
 * undeclared status, a missing declared header or a body that does not match fails the suite, and so
 * does a declared status that no request could produce.
 */

/** Declared but not producible on demand through the API; each with why. */
const notProducible: Record<number, string> = {
  429: 'answered by API Gateway’s stage throttle, in front of the handlers',
};

/**
 * Runs the contract for the routes `include` picks. The route table is driven in two shards, one test
 * file each (contract.test.ts, contract-inbox.test.ts), so they run side by side.
 */
export function contractSuite(include: (route: (typeof routeList)[number]) => boolean): void {
  let stack: TestStack;
  let streams: TestStreams | undefined;
  let ctx: Ctx;
  let validator: ReturnType<typeof createDocumentValidator>;
  const observed = new Map<OperationId, Set<number>>();
  const violations: string[] = [];
  const examples: Record<string, { request?: unknown; response?: { status: number; body: unknown } }> = {};

  beforeAll(async () => {
    stack = await createTestStack();
    // What stream consumers keep is part of some answers (the unread totals): run them where needed.
    if (routeList.some((route) => include(route) && route.operationId === 'getUnreadCounts')) {
      streams = await startTestStreams(stack, ['unread-totals']);
    }
    const [acme, globex] = await Promise.all([seedWorkspace(stack, 'Acme'), seedWorkspace(stack, 'Globex')]);
    ctx = new Ctx(stack, acme, globex, streams);
    const document = await stack.api('GET', '/openapi.json');
    validator = createDocumentValidator(document.body);
  });

  afterAll(async () => {
    if (process.env.RECORD_OPENAPI_EXAMPLES) {
      // A token's secret in an example is a placeholder, not the test run's (throwaway) secret.
      // A presigned URL points at a bucket on AWS, not at the run's emulator and throwaway bucket.
      const text = JSON.stringify(examples, null, 2)
        .replace(/crm_[A-Za-z0-9_-]{20,}/g, 'crm_3xAmPlEt0kEnN0tR3aLxxxxxxxxxxxxxxxxxxxxxxx')
        // A webhook's signing secret likewise.
        .replace(/whsec_[A-Za-z0-9+/]{43}=/g, 'whsec_ZXhhbXBsZS1zaWduaW5nLXNlY3JldC0zMi1ieXRlcyE=')
        .replace(/http:\/\/127\.0\.0\.1:\d+\/crm-test-[0-9a-f]{8}\//g, 'https://crm-files.s3.us-east-1.amazonaws.com/');
      // Each shard replaces its own operations' examples and keeps the other's (run the shards one after
      // the other when recording: `npm run openapi:examples`).
      const file = 'functions/http/openapi-examples.json';
      const kept = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
      const mine = JSON.parse(text) as Record<string, unknown>;
      const merged = Object.fromEntries(
        routeList
          .map((route) => route.operationId as string)
          .flatMap((id) => {
            const example = routeList.find((route) => route.operationId === id && include(route)) ? mine[id] : kept[id];
            return example === undefined ? [] : [[id, example]];
          }),
      );
      writeFileSync(file, `${JSON.stringify(merged, null, 2)}\n`);
    }
    await streams?.stop();
    await stack?.destroy();
  });

  async function send(operationId: OperationId, req: Req): Promise<ApiResponse> {
    const route = routeList.find((candidate) => candidate.operationId === operationId)!;
    const token = req.token === undefined ? ctx.ws.owner.token : req.token;
    return stack.api(route.method, req.path, {
      ...(token ? { token } : {}),
      ...(req.query ? { query: req.query } : {}),
      ...(req.body === undefined ? {} : { body: req.body }),
      ...(req.headers ? { headers: req.headers } : {}),
    });
  }

  /** Sends, records the status, and checks the response against the document. */
  async function exchange(operationId: OperationId, req: Req, label: string): Promise<ApiResponse> {
    const res = await send(operationId, req);
    if (!observed.has(operationId)) observed.set(operationId, new Set());
    observed.get(operationId)!.add(res.status);
    const raw = res.raw.body ?? '';
    if (routeList.find((route) => route.operationId === operationId)!.path.startsWith('/v1/')) {
      for (const problem of validator.check(operationId, {
        status: res.status,
        headers: res.headers,
        body: raw,
      })) {
        violations.push(`${operationId} (${label}): ${problem}`);
      }
    }
    if (res.status >= 500) violations.push(`${operationId} (${label}): ${res.status} ${raw.slice(0, 300)}`);
    // A Location is somewhere the client can go: it reads the record (or job) just made.
    const location = res.headers.location;
    if (res.status === 201 && typeof location === 'string' && !res.headers['idempotent-replayed']) {
      const token = req.token === undefined ? ctx.ws.owner.token : req.token;
      const read = await stack.api('GET', location, token ? { token } : {});
      if (read.status !== 200) violations.push(`${operationId} (${label}): its Location ${location} answers GET with ${read.status}`);
    }
    return res;
  }

  const expectStatus = (operationId: OperationId, label: string, res: ApiResponse, status: number) => {
    if (res.status !== status) {
      violations.push(
        `${operationId} (${label}): expected ${status}, got ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`,
      );
    }
  };

  /** A path with its first parameter replaced: `unknown` (well-shaped, absent) or a malformed value. */
  function withFirstParam(
    operationId: OperationId,
    path: string,
    value: (name: string) => string | undefined,
  ): string | undefined {
    const route = routeList.find((candidate) => candidate.operationId === operationId)!;
    const template = route.path.split('/');
    const actual = path.split('/');
    const index = template.findIndex(
      (segment) => /^\{\w+\}$/.test(segment) && value(segment.slice(1, -1)) !== undefined,
    );
    if (index === -1) return undefined;
    const replacement = value(template[index]!.slice(1, -1));
    if (replacement === undefined) return undefined;
    actual[index] = replacement;
    return actual.join('/');
  }

  /** The refusals that follow from a route's shape, built from its successful request. */
  function genericCases(operationId: OperationId): Case[] {
    const route = routeList.find((candidate) => candidate.operationId === operationId)!;
    const scenario = scenarios[operationId];
    const cases: Case[] = [];
    if (route.auth) {
      cases.push({
        status: 401,
        why: 'no token',
        build: async (c) => ({ ...(await scenario.ok(c)), token: null }),
      });
      cases.push({
        status: 401,
        why: 'an unknown token',
        build: async (c) => ({ ...(await scenario.ok(c)), token: 'crm_unknown' }),
      });
    }
    const invalid =
      scenario.invalid ??
      (route.body
        ? async (c: Ctx) => ({ ...(await scenario.ok(c)), body: [] })
        : route.params
          ? async (c: Ctx) => {
              const ok = await scenario.ok(c);
              return { ...ok, path: withFirstParam(operationId, ok.path, () => 'x')! };
            }
          : route.query?.shape && 'limit' in route.query.shape
            ? async (c: Ctx) => ({ ...(await scenario.ok(c)), query: { limit: '0' } })
            : route.query
              ? async (c: Ctx) => ({ ...(await scenario.ok(c)), query: {} })
              : undefined);
    if (invalid && declaredRefusals(route).has(400))
      cases.push({ status: 400, why: 'invalid input', build: invalid });
    if (namesRecordInPath(route)) {
      cases.push({
        status: 404,
        why: 'an unknown id in the path',
        build: async (c) => {
          const ok = await scenario.ok(c);
          const path = withFirstParam(
            operationId,
            ok.path,
            (name) => (unknownIds as Record<string, string>)[name],
          );
          if (!path) throw new Error(`${operationId}: no unknown value for its first path parameter`);
          return { ...ok, path };
        },
      });
      cases.push({
        status: 404,
        why: 'another workspace’s token',
        build: async (c) =>
          scenario.foreign ? scenario.foreign(c) : { ...(await scenario.ok(c)), token: c.other.owner.token },
      });
    }
    if (honoursIfMatch(route)) {
      cases.push({
        status: 412,
        why: 'a stale If-Match',
        build: async (c) => {
          const ok = await scenario.ok(c);
          return { ...ok, headers: { ...ok.headers, 'if-match': '"999999"' } };
        },
      });
    }
    if (route.body) {
      cases.push({
        status: 413,
        why: 'a body over 1 MiB',
        build: async (c) => ({ ...(await scenario.ok(c)), body: { padding: 'x'.repeat(1024 * 1024 + 10) } }),
      });
      cases.push({
        status: 415,
        why: 'a body that is not JSON',
        build: async (c) => {
          const ok = await scenario.ok(c);
          return {
            ...ok,
            body: 'name=x',
            headers: { ...ok.headers, 'content-type': 'application/x-www-form-urlencoded' },
          };
        },
      });
    }
    if (route.creates) {
      cases.push({
        status: 422,
        why: 'an Idempotency-Key reused for another body',
        build: async (c) => {
          const ok = await scenario.ok(c);
          const key = c.unique('idem');
          const first = await send(operationId, { ...ok, headers: { ...ok.headers, 'idempotency-key': key } });
          expect(first.status).toBe(route.response.status);
          const replay = await exchange(
            operationId,
            { ...ok, headers: { ...ok.headers, 'idempotency-key': key } },
            'replayed',
          );
          // A first answer holding a secret is not shown again: its repeat is a 409 naming the record made.
          const repeatStatus = route.secretShownOnce ? 409 : route.response.status;
          expectStatus(operationId, 'replayed', replay, repeatStatus);
          if (route.secretShownOnce) {
            if (replay.body?.code !== 'secret_shown_once' || replay.body?.id !== first.body.id)
              violations.push(`${operationId}: a repeat of a secret-holding create without secret_shown_once naming the record`);
          } else if (replay.headers['idempotent-replayed'] !== 'true')
            violations.push(`${operationId}: a replay without Idempotent-Replayed`);
          // The same JSON written another way is the same request: replayed too.
          const rewritten = await exchange(
            operationId,
            {
              ...ok,
              ...(ok.body === undefined ? {} : { body: JSON.stringify(ok.body, null, 2) }),
              headers: { ...ok.headers, 'idempotency-key': key, 'content-type': 'application/json' },
            },
            'replayed, rewritten',
          );
          expectStatus(operationId, 'replayed, rewritten', rewritten, repeatStatus);
          // Another request under a key: its first use was a tag's creation, by the same caller.
          const reused = c.unique('idem');
          const other = await send('createTag', {
            path: '/v1/tags',
            body: { name: c.unique('Idem') },
            ...(ok.token === undefined ? {} : { token: ok.token }),
            headers: { 'idempotency-key': reused },
          });
          expect(other.status).toBe(201);
          return { ...ok, headers: { ...ok.headers, 'idempotency-key': reused } };
        },
      });
    }
    return cases;
  }

  describe('the OpenAPI document is the contract', () => {
    for (const route of routeList.filter(include)) {
      const operationId = route.operationId;
      it(`${route.method} ${route.path} (${operationId}) answers as declared`, async () => {
        violations.length = 0;
        const scenario = scenarios[operationId];
        const ok = await scenario.ok(ctx);
        const res = await exchange(operationId, ok, 'success');
        expectStatus(operationId, 'success', res, route.response.status);
        if (res.status === route.response.status && route.path.startsWith('/v1/')) {
          examples[operationId] = {
            ...(ok.body === undefined ? {} : { request: ok.body }),
            ...(route.response.schema ? { response: { status: res.status, body: res.body } } : {}),
          };
        }
        // Routes outside /v1 (the document and its reference page) are not in the document: their success only.
        const cases = route.path.startsWith('/v1/')
          ? [...(scenario.cases ?? []), ...genericCases(operationId)]
          : [];
        for (const testCase of cases) {
          try {
            const req = await testCase.build(ctx);
            const caseRes = await exchange(operationId, req, testCase.why);
            expectStatus(operationId, testCase.why, caseRes, testCase.status);
          } finally {
            testCase.after?.();
          }
        }
        const declared = [...successStatuses(route), ...declaredRefusals(route).keys()];
        const seen = observed.get(operationId) ?? new Set();
        const silent = (route.path.startsWith('/v1/') ? declared : successStatuses(route)).filter(
          (status) =>
            !seen.has(status) && !notProducible[status] && !(status === 409 && onlyRaceConflicts(operationId)),
        );
        expect(violations, violations.join('\n')).toEqual([]);
        expect(silent, `declared but never produced: ${silent.join(', ')}`).toEqual([]);
      }, 90_000);
    }
  });

}

/** A 409 the route declares only for races and Idempotency-Keys in use: produced in conflicts.test.ts. */
function onlyRaceConflicts(operationId: OperationId): boolean {
  const route = routeList.find((candidate) => candidate.operationId === operationId)!;
  return !route.refusals?.[409];
}
