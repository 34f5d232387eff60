/**
 * Property-based fuzzing of the providers' webhooks: every payload fixture under
 * test/fixtures/providers/ (each in the shape of its provider's documentation), mutated (fields
 * removed, wrong types, nulls, huge and odd strings, NUL, lone surrogates, deep nesting, huge numbers),
 * then signed as the provider signs, so the request gets past the signature check into the parsers.
 * Whatever a provider sends, the answer is never a 5xx (which every provider retries, and Meta counts
 * against the webhook), and a mangled payload poisons nothing: the untouched fixtures still go through
 * afterwards. `FUZZ_RUNS` sets the inputs per provider (`npm run fuzz`); `npm test` runs a fixed 40.
 */
import { readdirSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectAll,
  eventsTopic,
  hook,
  inboundTopic,
  snsBody,
  startFakeSns,
  telegramHeaders,
  twilioHeaders,
  whatsappHeaders,
  type Connections,
  type HookResponse,
} from '../support/channel-hooks';
import { fixtureBytes, fixtureText } from '../support/provider-fixtures';
import { createTestStack, seedWorkspace, type TestStack } from '../support/test-stack';

const runs = Number(process.env.FUZZ_RUNS ?? 40);
const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : process.env.FUZZ_RUNS ? undefined : 20261207;

let stack: TestStack;
let hooks: Connections;
let sns: Awaited<ReturnType<typeof startFakeSns>>;

beforeAll(async () => {
  // The fixture SNS signing certificate is valid from December 2026.
  stack = await createTestStack({ clockStart: '2027-01-15T09:00:00.000Z' });
  const acme = await seedWorkspace(stack, 'Acme');
  hooks = await connectAll(stack, acme.owner.token);
  sns = await startFakeSns();
  const s3Receipt = JSON.parse(fixtureText('ses/received-s3.json')) as { receipt: { action: { objectKey: string } } };
  await stack.blobs.put(s3Receipt.receipt.action.objectKey, fixtureBytes('ses/mime/latin1.eml'), 'message/rfc822');
}, 60_000);
afterAll(async () => {
  await sns?.stop();
  await stack?.destroy();
});

const fixturesIn = (dir: string, ext: string) =>
  readdirSync(new URL(`../fixtures/providers/${dir}/`, import.meta.url))
    .filter((name) => name.endsWith(ext))
    .sort()
    .map((name) => `${dir}/${name}`);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Values a provider's payload never holds where a parser expects something else. */
const oddValue: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(
    null,
    true,
    false,
    0,
    -1,
    1e308,
    -1e-200,
    2 ** 63,
    '',
    ' ',
    '\u0000',
    '\ud800',
    'a\u0000b',
    '🙂'.repeat(3),
    '-100',
    '1e999',
    'null',
    '[object Object]',
    'x'.repeat(100_000),
    [],
    {},
    [null],
    [{}],
    { '': null },
    { __proto__: null, constructor: 'x' } as unknown as Json,
  ),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.integer(),
  fc.double({ noNaN: true }),
  fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>,
);

type PathStep = string | number;

/** Every path to a value in `value` (the root excluded). */
function pathsOf(value: Json, prefix: PathStep[] = []): PathStep[][] {
  if (Array.isArray(value)) return value.flatMap((item, i) => [[...prefix, i], ...pathsOf(item, [...prefix, i])]);
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, item]) => [[...prefix, key], ...pathsOf(item, [...prefix, key])]);
  }
  return [];
}

/** A mutation: at one existing path, the value removed, replaced, or wrapped in an array or object. */
type Mutation = { pick: number; op: 'remove' | 'replace' | 'wrap-array' | 'wrap-object' | 'duplicate'; value: Json };

const mutation: fc.Arbitrary<Mutation> = fc.record({
  pick: fc.nat(),
  op: fc.constantFrom('remove', 'replace', 'replace', 'replace', 'wrap-array', 'wrap-object', 'duplicate'),
  value: oddValue,
});

function mutate(original: Json, mutations: Mutation[]): Json {
  const root = structuredClone(original);
  for (const { pick, op, value } of mutations) {
    const paths = pathsOf(root);
    if (paths.length === 0) break;
    const path = paths[pick % paths.length]!;
    const parent = path.slice(0, -1).reduce<Json>((node, step) => (node as Record<string, Json>)[step as string]!, root) as
      | Json[]
      | Record<string, Json>;
    const key = path[path.length - 1]!;
    const current = (parent as Record<string, Json>)[key as string]!;
    if (op === 'remove') {
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key as string];
    } else if (op === 'replace') (parent as Record<string, Json>)[key as string] = value;
    else if (op === 'wrap-array') (parent as Record<string, Json>)[key as string] = [current];
    else if (op === 'wrap-object') (parent as Record<string, Json>)[key as string] = { value: current };
    else if (Array.isArray(parent)) parent.push(structuredClone(current));
  }
  return root;
}

/** A fixture and one to three mutations of it. */
const mutatedJson = (fixtures: string[]) =>
  fc.record({
    fixture: fc.constantFrom(...fixtures),
    mutations: fc.array(mutation, { minLength: 1, maxLength: 3 }),
  });

/** Refusals a provider may get; a 5xx, or an answer the function has no reason to give, fails. */
const acceptable = (res: HookResponse) => res.status < 500 && [200, 204, 400, 413, 415, 422].includes(res.status);

const check = async <T>(property: fc.IAsyncProperty<[T]>) => fc.assert(property, { numRuns: runs, seed, endOnFailure: true });

const telegramFixtures = fixturesIn('telegram', '.json');
const whatsappFixtures = fixturesIn('whatsapp', '.json');
// Meta's calls sample is for another business number: sent to this connection's, so its calls are recorded.
const whatsappPayload = (fixture: string): Json =>
  JSON.parse(fixtureText(fixture).replaceAll('436666719526789', '106540352242922')) as Json;
const sesFixtures = fixturesIn('ses', '.json').filter((name) => !name.endsWith('subscription.json'));
// A mail the receipt rule wrote to S3 is read from the bucket, and a key that is not there is a 500 on
// purpose (SNS retries it): mangled, the other receipt (mail inline) covers the same parser.
const sesMangled = sesFixtures.filter((name) => !name.endsWith('received-s3.json'));
const twilioFixtures = fixturesIn('twilio', '.txt');

/** Telegram posts one update per request; a fixture may hold a list of them. */
const telegramUpdates = (fixture: string): Json[] => {
  const parsed = JSON.parse(fixtureText(fixture)) as Json;
  return Array.isArray(parsed) ? parsed : [parsed];
};

const sendTelegram = (update: Json) => {
  const body = JSON.stringify(update);
  return hook(`/hooks/telegram/${hooks.telegram}`, { body, headers: telegramHeaders() });
};
const sendWhatsapp = (payload: Json) => {
  const body = JSON.stringify(payload);
  return hook(`/hooks/whatsapp/${hooks.whatsapp}`, { body, headers: whatsappHeaders(body) });
};
const sesTopic = (fixture: string) => (/received/.test(fixture) ? inboundTopic : eventsTopic);
const sendSes = (fixture: string, message: Json) =>
  hook(`/hooks/ses/${hooks.email}`, {
    body: snsBody({ TopicArn: sesTopic(fixture), Message: JSON.stringify(message) }),
    headers: { 'content-type': 'text/plain; charset=UTF-8' },
  });
const twilioPath = () => `/hooks/twilio/${hooks.sms}`;
const sendTwilio = (params: [string, string][]) => {
  const body = new URLSearchParams(params).toString();
  return hook(twilioPath(), { body, headers: twilioHeaders(twilioPath(), body) });
};

const failureOf = (res: HookResponse, sent: unknown) =>
  `answered ${res.status} ${res.text.slice(0, 300)} to ${JSON.stringify(sent).slice(0, 1500)}`;

describe('provider webhooks under mangled payloads', () => {
  it('Telegram: never a 5xx', async () => {
    await check(
      fc.asyncProperty(mutatedJson(telegramFixtures), async ({ fixture, mutations }) => {
        const updates = telegramUpdates(fixture);
        const update = mutate(updates[mutations[0]!.pick % updates.length]!, mutations);
        const res = await sendTelegram(update);
        expect(acceptable(res), failureOf(res, update)).toBe(true);
      }),
    );
  }, 300_000);

  it('WhatsApp: never a 5xx', async () => {
    await check(
      fc.asyncProperty(mutatedJson(whatsappFixtures), async ({ fixture, mutations }) => {
        const payload = mutate(whatsappPayload(fixture), mutations);
        const res = await sendWhatsapp(payload);
        expect(acceptable(res), failureOf(res, payload)).toBe(true);
      }),
    );
  }, 300_000);

  it('SES through SNS: never a 5xx', async () => {
    await check(
      fc.asyncProperty(mutatedJson(sesMangled), async ({ fixture, mutations }) => {
        const message = mutate(JSON.parse(fixtureText(fixture)) as Json, mutations);
        const res = await sendSes(fixture, message);
        expect(acceptable(res), failureOf(res, message)).toBe(true);
      }),
    );
  }, 300_000);

  it('Twilio: never a 5xx', async () => {
    const forms = twilioFixtures.map((fixture) => [...new URLSearchParams(fixtureText(fixture).trim())]);
    await check(
      fc.asyncProperty(
        fc.record({
          form: fc.nat({ max: forms.length - 1 }),
          mutations: fc.array(
            fc.record({ pick: fc.nat(), op: fc.constantFrom('remove', 'replace', 'duplicate'), value: fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.constantFrom('', '\u0000', 'x'.repeat(100_000), '-1', '99999999999999999999', 'null')) }),
            { minLength: 1, maxLength: 3 },
          ),
        }),
        async ({ form, mutations }) => {
          const params = forms[form]!.map(([name, value]) => [name, value] as [string, string]);
          for (const { pick, op, value } of mutations) {
            if (params.length === 0) break;
            const at = pick % params.length;
            if (op === 'remove') params.splice(at, 1);
            else if (op === 'replace') params[at] = [params[at]![0], value];
            else params.push([params[at]![0], value]);
          }
          const res = await sendTwilio(params);
          expect(acceptable(res), failureOf(res, params)).toBe(true);
        },
      ),
    );
  }, 300_000);

  describe('inputs the fuzzer found answered 500', () => {
    it('a Telegram message dated past year 9999 is stored, its date left out', async () => {
      const update = JSON.parse(fixtureText('telegram/text.json')) as { update_id: number; message: { message_id: number; date: number } };
      update.update_id += 1_000_000;
      update.message.message_id += 1_000_000;
      update.message.date = 2.4669330910404566e120;
      expect((await sendTelegram(update as unknown as Json)).body).toMatchObject({ stored: 1 });
    });

    it('a Telegram voice message whose file_size DynamoDB cannot hold (5.5e-303) is stored, its size left out', async () => {
      const updates = telegramUpdates('telegram/updates.json') as { update_id: number; message?: { voice?: { file_size?: number } } }[];
      const update = structuredClone(updates.find((u) => u.message?.voice)!);
      update.update_id += 2_000_000;
      (update.message as { message_id: number }).message_id += 2_000_000;
      update.message!.voice!.file_size = 5.52998678545108e-303;
      const res = await sendTelegram(update as unknown as Json);
      expect(res.status, res.text).toBe(200);
      expect(res.body).toMatchObject({ stored: 1 });
    });

    it('a WhatsApp call whose duration DynamoDB cannot hold (1e200) is recorded, its duration left out', async () => {
      const payload = JSON.stringify(whatsappPayload('whatsapp/calls.json'))
        .replaceAll('wacid.ABGGFjFVU2AfAgo6V-Hc5eCgK5Gh', 'wacid.FUZZ-DURATION')
        .replace('"duration":35', '"duration":1e200');
      expect(payload).toContain('1e200');
      const res = await sendWhatsapp(JSON.parse(payload) as Json);
      expect(res.status, res.text).toBe(200);
    });

    it('a Twilio callback whose CallSid is longer than any DynamoDB key is ignored, not retried for days', async () => {
      const params = [...new URLSearchParams(fixtureText('twilio/call-status-busy.txt').trim())].map(([name, value]) =>
        name === 'CallSid' ? ([name, 'CA'.padEnd(100_000, 'f')] as [string, string]) : ([name, value] as [string, string]),
      );
      const res = await sendTwilio(params);
      expect(res.status).toBe(200);
    });
  });

  it('the untouched payloads still go through afterwards: nothing mangled poisoned a connection', async () => {
    for (const fixture of telegramFixtures) {
      for (const update of telegramUpdates(fixture)) expect((await sendTelegram(update)).status, fixture).toBe(200);
    }
    for (const fixture of whatsappFixtures) {
      expect((await sendWhatsapp(whatsappPayload(fixture))).status, fixture).toBe(200);
    }
    for (const fixture of sesFixtures) {
      expect((await sendSes(fixture, JSON.parse(fixtureText(fixture)) as Json)).status, fixture).toBe(200);
    }
    for (const fixture of twilioFixtures) {
      const res = await sendTwilio([...new URLSearchParams(fixtureText(fixture).trim())]);
      expect(res.status, `${fixture}: ${res.text.slice(0, 200)}`).toBeLessThan(300);
    }
  }, 300_000);
});
