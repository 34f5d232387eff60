import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routeList } from '../../functions/http/routes';
import { createTestStack, seedWorkspace, type TestStack } from '../support/test-stack';
import { createDocumentValidator } from './document-validator';
import { Ctx } from './scenarios';

/**
 * Property-based fuzzing of every operation: inputs generated from the served document's schemas, then
 * mutated (wrong types, missing and extra fields, nulls, huge and odd strings, NUL, lone surrogates,
 * invalid UTF-8, forged cursors, odd path segments, odd headers). Whatever comes in, the answer is never
 * a 5xx and always one the document declares, with the declared body (problem+json for refusals).
 * `FUZZ_RUNS` sets the inputs per operation (`npm run fuzz`: 200, new inputs each run); `npm test` runs 25
 * with a fixed seed.
 */
const runs = Number(process.env.FUZZ_RUNS ?? 25);
// `npm test` replays one fixed run, so a suite that passed keeps passing; `npm run fuzz` draws new inputs.
const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : process.env.FUZZ_RUNS ? undefined : 20261205;

type Schema = Record<string, unknown>;
let stack: TestStack;
let ctx: Ctx;
let document: {
  paths: Record<
    string,
    Record<
      string,
      {
        operationId: string;
        parameters?: { name: string; in: string; schema: Schema }[];
        requestBody?: { content: Record<string, { schema: Schema }> };
      }
    >
  >;
  components: { schemas: Record<string, Schema> };
};
let validator: ReturnType<typeof createDocumentValidator>;
/** Real records of the workspace, so generated requests reach past the lookups. */
const real: Record<string, string[]> = {};

beforeAll(async () => {
  stack = await createTestStack();
  const [acme, globex] = await Promise.all([seedWorkspace(stack, 'Acme'), seedWorkspace(stack, 'Globex')]);
  ctx = new Ctx(stack, acme, globex);
  document = (await stack.api('GET', '/openapi.json')).body;
  validator = createDocumentValidator(document as never);
  const contact = await ctx.contact();
  const deal = await ctx.deal({ contactId: contact.id });
  const pipeline = await ctx.pipeline();
  const tag = await ctx.tag();
  const field = await ctx.customField();
  Object.assign(real, {
    contactId: [contact.id],
    channelId: [contact.channels[0].id],
    companyId: [(await ctx.company()).id],
    dealId: [deal.id],
    noteId: [(await ctx.note(contact.id)).id],
    taskId: [(await ctx.task()).id],
    pipelineId: [pipeline.id, 'pl_default'],
    stageId: [pipeline.stages[0].id, 'st_open'],
    userId: [acme.member.user.id],
    tokenId: [(await ctx.call('POST', '/v1/tokens', { name: 'fuzz' })).body.id],
    key: [tag.ref, field.key],
    tag: [tag.name],
    entityType: ['contact'],
    slot: ['1'],
  });
});

afterAll(async () => {
  await stack?.destroy();
});

const resolve = (schema: Schema): Schema => {
  const ref = schema.$ref as string | undefined;
  return ref ? resolve(document.components.schemas[ref.split('/').pop()!]!) : schema;
};

/** Strings no form should choke on. */
const oddString = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    'a\u0000b',
    '\ud800',
    'x\udfffy',
    '..',
    '%2E%2E',
    '../..',
    '%00',
    '\u202e',
    '𝕏',
    'null',
    'undefined',
    '[]',
    '{}',
    "'; DROP TABLE x;--",
    'WS#other#CONTACT',
  ),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.integer({ min: 1_000, max: 70_000 }).map((length) => 'x'.repeat(length)),
);
const oddValue: fc.Arbitrary<unknown> = fc.oneof(
  oddString,
  fc.constantFrom(null, true, false, 0, -1, 1e308, -0, Number.MAX_SAFE_INTEGER + 2),
  fc.double(),
  fc.array(fc.anything({ maxDepth: 2 }), { maxLength: 5 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.anything({ maxDepth: 1 }), { maxKeys: 4 }),
);

/** A value the schema accepts, most of the time; the mutations come on top. */
function fromSchema(raw: Schema, depth = 0): fc.Arbitrary<unknown> {
  const schema = resolve(raw);
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]));
  if (Array.isArray(schema.anyOf))
    return fc.oneof(...(schema.anyOf as Schema[]).map((option) => fromSchema(option, depth)));
  if (Array.isArray(schema.allOf)) return fromSchema((schema.allOf as Schema[])[0]!, depth);
  const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string | undefined];
  const type = types.find((candidate) => candidate !== 'null') ?? types[0];
  const maybeNull = <T>(arb: fc.Arbitrary<T>) =>
    types.includes('null') ? fc.oneof(arb, fc.constant(null)) : arb;
  switch (type) {
    case 'string': {
      if (schema.format === 'date-time')
        return maybeNull(fc.date({ noInvalidDate: true }).map((date) => date.toISOString()));
      if (schema.format === 'date')
        return maybeNull(fc.date({ noInvalidDate: true }).map((date) => date.toISOString().slice(0, 10)));
      if (schema.format === 'email') return maybeNull(fc.emailAddress());
      if (typeof schema.pattern === 'string') {
        try {
          return maybeNull(
            fc
              .stringMatching(new RegExp(schema.pattern as string))
              .filter((value) => value.length <= ((schema.maxLength as number) ?? 1000)),
          );
        } catch {
          return maybeNull(fc.string());
        }
      }
      return maybeNull(
        fc.string({
          minLength: (schema.minLength as number) ?? 0,
          maxLength: Math.min((schema.maxLength as number) ?? 60, 60),
        }),
      );
    }
    case 'integer':
      return maybeNull(
        fc.integer({
          min: (schema.minimum as number) ?? -10,
          max: Math.min((schema.maximum as number) ?? 1000, 2 ** 31),
        }),
      );
    case 'number':
      return maybeNull(
        fc.double({
          noNaN: true,
          min: (schema.minimum as number) ?? -1000,
          max: (schema.maximum as number) ?? 1000,
        }),
      );
    case 'boolean':
      return maybeNull(fc.boolean());
    case 'array': {
      if (depth > 3) return fc.constant([]);
      return maybeNull(
        fc.array(fromSchema((schema.items as Schema) ?? {}, depth + 1), {
          maxLength: Math.min((schema.maxItems as number) ?? 5, 5),
        }),
      );
    }
    case 'object': {
      if (depth > 3) return fc.constant({});
      const properties = (schema.properties as Record<string, Schema>) ?? {};
      const required = (schema.required as string[]) ?? [];
      const shape = Object.fromEntries(
        Object.entries(properties).map(([name, property]) => [name, fromSchema(property, depth + 1)]),
      );
      return maybeNull(fc.record(shape, { requiredKeys: required.filter((name) => name in shape) }));
    }
    default:
      return fc.anything({ maxDepth: 1 });
  }
}

/** Replaces, removes or adds one field somewhere in a generated body. */
const mutateBody = (body: unknown) =>
  fc.oneof(
    fc.constant(body),
    oddValue,
    fc.tuple(fc.nat(), oddValue, fc.constantFrom('replace', 'remove', 'add')).map(([pick, value, how]) => {
      if (!body || typeof body !== 'object' || Array.isArray(body)) return value;
      const copy: Record<string, unknown> = { ...(body as Record<string, unknown>) };
      const keys = Object.keys(copy);
      const key = how === 'add' || keys.length === 0 ? `extra${pick % 3}` : keys[pick % keys.length]!;
      if (how === 'remove') delete copy[key];
      else copy[key] = value;
      return copy;
    }),
  );

/** A whole request's raw body: JSON of a (mutated) value, or bytes that are not JSON or not UTF-8. */
const rawBody = (body: unknown) =>
  fc.oneof(
    { weight: 6, arbitrary: mutateBody(body).map((value) => JSON.stringify(value) ?? 'null') },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '{',
        '{"a":',
        'not json',
        '[1,2',
        '\u0000',
        '{"name":"\\ud800"}',
        '{"__proto__":{"admin":true}}',
      ),
    },
    {
      weight: 1,
      arbitrary: fc
        .uint8Array({ minLength: 1, maxLength: 64 })
        .map((bytes) =>
          Buffer.concat([
            Buffer.from('{"name":"'),
            Buffer.from([0xff, 0xfe, 0xc3, 0x28]),
            Buffer.from(bytes),
            Buffer.from('"}'),
          ]),
        ),
    },
  );

/** What can travel in an HTTP header: visible ASCII and Latin-1 (RFC 9110 field values). */
const headerValue = fc.string({
  unit: fc.integer({ min: 0x20, max: 0xff }).map((code) => String.fromCharCode(code)),
  maxLength: 300,
});

const forgedCursor = fc.oneof(
  oddString,
  fc.constantFrom(
    Buffer.from(JSON.stringify({ pk: 'WS#ws_other#CONTACTS', sk: 'x' })).toString('base64url'),
    Buffer.from(JSON.stringify({ v: 1, k: 'eyJwayI6MX0' })).toString('base64url'),
    Buffer.from('{"pk":{"S":"x"}}').toString('base64url'),
  ),
  fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes).toString('base64url')),
);

describe('fuzzing every operation', () => {
  for (const route of routeList.filter((candidate) => candidate.path.startsWith('/v1/'))) {
    it(`${route.method} ${route.path} never answers 5xx nor outside the document`, async () => {
      const operation = document.paths[route.path]![route.method.toLowerCase()]!;
      const parameters = operation.parameters ?? [];
      const pathParams = parameters.filter((parameter) => parameter.in === 'path');
      const queryParams = parameters.filter((parameter) => parameter.in === 'query');
      const bodySchema = operation.requestBody?.content['application/json']?.schema;

      const pathArb = fc.tuple(
        ...pathParams.map((parameter) =>
          fc.oneof(
            { weight: 3, arbitrary: fc.constantFrom(...(real[parameter.name] ?? ['x'])) },
            {
              weight: 1,
              arbitrary: fromSchema(parameter.schema)
                .map(String)
                .filter((value) => value.isWellFormed()),
            },
            // A URL carries UTF-8: a lone surrogate cannot be sent in a path.
            { weight: 1, arbitrary: oddString.filter((value) => value.length < 300 && value.isWellFormed()) },
          ),
        ),
      );
      const queryArb = fc.record(
        Object.fromEntries(
          queryParams.map((parameter) => [
            parameter.name,
            (parameter.name === 'cursor'
              ? forgedCursor
              : fc.oneof(fromSchema(parameter.schema).map(String), oddString)
            ).filter((value) => value.isWellFormed()),
          ]),
        ),
        { requiredKeys: [] },
      );
      const headerArb = fc.record(
        {
          'if-match': fc.oneof(
            fc.constantFrom('"1"', '*', 'W/"2"', '"999999"', 'garbage', '""'),
            headerValue,
          ),
          'idempotency-key': fc.oneof(fc.uuid(), headerValue),
          'content-type': fc.constantFrom(
            'application/json',
            'text/plain',
            'application/json; charset=utf-8',
            'application/merge-patch+json',
            '',
          ),
        },
        { requiredKeys: [] },
      );
      const bodyArb = bodySchema ? fromSchema(bodySchema).chain(rawBody) : fc.constant(undefined);
      const tokenArb = fc.constantFrom(
        ctx.ws.owner.token,
        ctx.ws.owner.token,
        ctx.ws.member.token,
        ctx.other.owner.token,
        'crm_forged',
        '',
      );

      await fc.assert(
        fc.asyncProperty(
          pathArb,
          queryArb,
          headerArb,
          bodyArb,
          tokenArb,
          async (pathValues, query, headers, body, token) => {
            let index = 0;
            const path = route.path.replace(/\{\w+\}/g, () => encodeURIComponent(pathValues[index++]!));
            const res = await stack.api(route.method, path, {
              ...(token ? { token } : {}),
              query: query as Record<string, string>,
              headers: Object.fromEntries(
                Object.entries(headers).filter(([, value]) => value !== ''),
              ) as Record<string, string>,
              ...(body === undefined ? {} : { body }),
            });
            const raw = res.raw.body ?? '';
            expect(res.status, `${route.method} ${path} → ${res.status} ${raw.slice(0, 300)}`).toBeLessThan(
              500,
            );
            if (res.status === 404 && res.body?.code === 'route_not_found') return; // an odd segment that fits no route
            if (res.status === 405) return;
            const problems = validator.check(route.operationId, {
              status: res.status,
              headers: res.headers,
              body: raw,
            });
            expect(problems, `${route.method} ${path} → ${res.status} ${raw.slice(0, 300)}`).toEqual([]);
          },
        ),
        {
          numRuns: runs,
          ...(seed === undefined ? {} : { seed }),
          endOnFailure: true,
          includeErrorInReport: true,
        },
      );
    });
  }
});
