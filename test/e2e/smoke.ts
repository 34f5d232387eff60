/**
 * The smoke test to run after `cdk deploy` (or against `npm start`): `npm run smoke -- --url <ApiUrl>
 * --token <owner token>`. It talks only to the public HTTP API, as an integrator would: who am I, the
 * OpenAPI document, a small CSV import through the presigned upload, an internal message between users,
 * then it archives the contacts it imported (contacts are never deleted), so it can run again and again.
 * One line per step with its timing; the first failure stops it with the response (exit code 1).
 */
import { randomBytes } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

export interface SmokeStep {
  name: string;
  ok: boolean;
  ms: number;
  /** What it found (a passed step) or why it failed, with the response's status and body. */
  detail: string;
}

export interface SmokeReport {
  ok: boolean;
  steps: SmokeStep[];
}

export interface SmokeOptions {
  /** The API's base URL: the stack output `ApiUrl` (a trailing `/` or `/v1` is fine). */
  url: string;
  /** An owner's (or admin's) API token of the workspace the test writes into. */
  token: string;
  /** Where each step's line goes as it ends (default: nowhere). */
  log?: (line: string) => void;
  /** How long the import job may take (default 120 s). */
  importTimeoutMs?: number;
}

/** A step that failed: its message and, when an answer was wrong, that answer. */
class StepFailure extends Error {}

interface Answer {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies, checked field by field
  body: any;
  text: string;
}

const terminalJobStatuses = ['succeeded', 'failed', 'canceled'];
const pollEveryMs = 500;

/** Runs every step in order, stopping at the first failure; never throws for a failed step. */
export async function runSmoke(options: SmokeOptions): Promise<SmokeReport> {
  const base = options.url.replace(/\/+$/, '').replace(/\/v1$/, '');
  const log = options.log ?? (() => {});
  const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const steps: SmokeStep[] = [];

  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${options.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: the text is reported as it is
    }
    return { status: res.status, body: parsed, text };
  };
  /** The answer when its status is `expected`, else the step fails with it. */
  const expectStatus = (answer: Answer, expected: number[], what: string) => {
    if (!expected.includes(answer.status)) throw new StepFailure(`${what}: HTTP ${answer.status} ${answer.text.slice(0, 2000)}`);
    return answer.body;
  };
  const check = (condition: unknown, message: string, answer?: unknown) => {
    if (!condition) throw new StepFailure(answer === undefined ? message : `${message}: ${JSON.stringify(answer).slice(0, 2000)}`);
  };
  const step = async <T>(name: string, run: () => Promise<{ value: T; detail: string }>): Promise<T> => {
    const started = performance.now();
    try {
      const { value, detail } = await run();
      const done = { name, ok: true, ms: Math.round(performance.now() - started), detail };
      steps.push(done);
      log(`ok    ${name.padEnd(34)} ${String(done.ms).padStart(6)} ms  ${detail}`);
      return value;
    } catch (error) {
      const detail = error instanceof StepFailure ? error.message : `${(error as Error).name}: ${(error as Error).message}`;
      const failed = { name, ok: false, ms: Math.round(performance.now() - started), detail };
      steps.push(failed);
      log(`FAIL  ${name.padEnd(34)} ${String(failed.ms).padStart(6)} ms  ${detail}`);
      throw new StepFailure(detail);
    }
  };
  const poll = async <T>(timeoutMs: number, read: () => Promise<T | undefined>, timedOut: () => string): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = await read();
      if (found !== undefined) return found;
      if (Date.now() > deadline) throw new StepFailure(timedOut());
      await new Promise((resolve) => setTimeout(resolve, pollEveryMs));
    }
  };

  const emails = [1, 2, 3].map((n) => `smoke-${runId}-${n}@smoke.example`);
  const contactIds: string[] = [];
  try {
    const me = await step('GET /v1/me', async () => {
      const body = expectStatus(await call('GET', '/v1/me'), [200], 'GET /v1/me');
      check(typeof body?.workspace?.id === 'string' && typeof body?.user?.id === 'string' && typeof body?.user?.role === 'string', 'no workspace or user', body);
      return {
        value: body as { user: { id: string; role: string }; workspace: { id: string; name: string } },
        detail: `workspace ${body.workspace.name} (${body.workspace.id}), caller ${body.user.id} is ${body.user.role}`,
      };
    });

    await step('GET /openapi.json', async () => {
      const doc = expectStatus(await call('GET', '/openapi.json'), [200], 'GET /openapi.json');
      check(typeof doc?.openapi === 'string' && doc.openapi.startsWith('3.1'), 'not an OpenAPI 3.1 document', doc?.openapi);
      check(typeof doc.info?.title === 'string' && typeof doc.info?.version === 'string', 'no info.title or info.version', doc.info);
      const paths = Object.keys(doc.paths ?? {});
      for (const path of ['/v1/me', '/v1/imports/uploads', '/v1/conversations/{conversationId}/messages']) {
        check(paths.includes(path), `the document has no ${path}`);
      }
      check(Object.keys(doc.components?.securitySchemes ?? {}).length > 0, 'no security scheme in components');
      const operations = paths.reduce((count, path) => count + Object.keys(doc.paths[path]).filter((key) => /^(get|put|post|patch|delete)$/.test(key)).length, 0);
      return { value: undefined, detail: `OpenAPI ${doc.openapi}, ${doc.info.title} ${doc.info.version}, ${paths.length} paths, ${operations} operations` };
    });

    const csv = Buffer.from(
      ['First Name,Last Name,Email', ...emails.map((email, index) => `Smoke,Contact ${index + 1},${email}`)].join('\r\n') + '\r\n',
    );
    const upload = await step('declare the import file', async () => {
      const body = expectStatus(
        await call('POST', '/v1/imports/uploads', { fileName: `smoke-${runId}.csv`, sizeBytes: csv.length }),
        [201],
        'POST /v1/imports/uploads',
      );
      check(typeof body?.uploadUrl === 'string' && typeof body?.uploadId === 'string', 'no uploadUrl or uploadId', body);
      return {
        value: body as { uploadId: string; uploadUrl: string; uploadMethod: string; uploadHeaders: Record<string, string> },
        detail: `upload ${body.uploadId}, ${csv.length} bytes to ${new URL(body.uploadUrl).host}`,
      };
    });

    await step('PUT the file to its presigned URL', async () => {
      // Only the headers it gave: no bearer token goes to the bucket.
      const res = await fetch(upload.uploadUrl, { method: upload.uploadMethod ?? 'PUT', headers: upload.uploadHeaders, body: csv });
      const text = await res.text();
      check(res.ok, `PUT ${new URL(upload.uploadUrl).host}: HTTP ${res.status} ${text.slice(0, 2000)}`);
      return { value: undefined, detail: `HTTP ${res.status}` };
    });

    const jobId = await step('start the import', async () => {
      const body = expectStatus(
        await call('POST', '/v1/imports', { uploadId: upload.uploadId, format: 'csv', tags: ['smoke-test'] }, { 'idempotency-key': `smoke-import-${runId}` }),
        [201],
        'POST /v1/imports',
      );
      return { value: body.id as string, detail: `job ${body.id} ${body.status}` };
    });

    await step('wait for the import job', async () => {
      let last: unknown;
      const job = await poll(
        options.importTimeoutMs ?? 120_000,
        async () => {
          const body = expectStatus(await call('GET', `/v1/jobs/${jobId}`), [200], `GET /v1/jobs/${jobId}`);
          last = body;
          return terminalJobStatuses.includes(body?.status) ? body : undefined;
        },
        () => `job ${jobId} not finished within ${(options.importTimeoutMs ?? 120_000) / 1000} s: ${JSON.stringify(last)}`,
      );
      check(job.status === 'succeeded', `job ${jobId} ended ${job.status}`, job);
      const counts = job.result?.counts;
      check(counts?.rowsRead === 3 && counts?.created === 3, 'the import did not create the 3 contacts', job.result);
      return { value: undefined, detail: `succeeded: ${counts.rowsRead} rows read, ${counts.created} created` };
    });

    await step('find the imported contacts', async () => {
      for (const email of emails) {
        const answer = await call('GET', `/v1/contacts/lookup?kind=email&value=${encodeURIComponent(email)}`);
        const contact = expectStatus(answer, [200], `GET /v1/contacts/lookup ${email}`);
        check(contact.email === email && (contact.tags ?? []).includes('smoke-test'), `${email} is not the imported contact`, contact);
        contactIds.push(contact.id);
      }
      return { value: undefined, detail: contactIds.join(', ') };
    });

    // The internal channel is between users: a direct conversation with another user of the workspace.
    const peer = await step('find a user to write to', async () => {
      const body = expectStatus(await call('GET', '/v1/users?limit=100'), [200], 'GET /v1/users');
      const others = (body.items as { id: string; email: string; status: string }[]).filter((user) => user.id !== me.user.id && user.status === 'active');
      const existing = others.find((user) => user.email === smokePeerEmail) ?? others[0];
      if (existing) return { value: existing.id, detail: `${existing.id} (${existing.email})` };
      // A workspace made for the test has only its owner: add one peer, once (found by email next time).
      const added = expectStatus(
        await call('POST', '/v1/users', { name: 'Smoke test peer', email: smokePeerEmail, role: 'member' }),
        [201],
        'POST /v1/users',
      );
      return { value: added.id as string, detail: `added ${added.id} (${smokePeerEmail})` };
    });

    const conversationId = await step('open a direct conversation', async () => {
      const body = expectStatus(await call('POST', '/v1/conversations', { kind: 'direct', userIds: [peer] }), [200, 201], 'POST /v1/conversations');
      check(body.kind === 'direct' && body.channel === 'internal', 'not a direct conversation on the internal channel', body);
      return { value: body.id as string, detail: `${body.id} on ${body.channel}` };
    });

    const text = `Smoke test ${runId}: the internal channel works.`;
    const messageId = await step('send an internal message', async () => {
      const body = expectStatus(
        await call('POST', `/v1/conversations/${conversationId}/messages`, { body: text }, { 'idempotency-key': `smoke-message-${runId}` }),
        [201],
        `POST /v1/conversations/${conversationId}/messages`,
      );
      check(body.authorKind === 'user' && body.authorUserId === me.user.id && body.body === text, 'not the message sent', body);
      return { value: body.id as string, detail: `${body.id}` };
    });

    await step('read the message back', async () => {
      const one = expectStatus(await call('GET', `/v1/conversations/${conversationId}/messages/${messageId}`), [200], 'GET the message');
      check(one.body === text, 'another body came back', one);
      // Internal messages go to users, not through a provider: no delivery, no routing.
      check(one.delivery === null && one.routing === null, 'an internal message has a delivery', one);
      const page = expectStatus(await call('GET', `/v1/conversations/${conversationId}/messages?limit=10`), [200], 'GET the messages');
      check((page.items as { id: string }[]).some((item) => item.id === messageId), 'not in the conversation’s messages', page);
      return { value: undefined, detail: 'in the conversation, no provider delivery (internal)' };
    });

    await step('the message reached the other user', async () => {
      let last: unknown;
      const receipt = await poll(
        10_000,
        async () => {
          const body = expectStatus(await call('GET', `/v1/conversations/${conversationId}/messages/${messageId}/receipts`), [200], 'GET the receipts');
          last = body;
          return (body.items as { userId: string; status: string }[]).find((item) => item.userId === peer);
        },
        () => `no receipt for ${peer}: ${JSON.stringify(last)}`,
      );
      return { value: undefined, detail: `${peer}: ${receipt.status}` };
    });

    await step('archive the imported contacts', async () => {
      await archive(contactIds.splice(0));
      return { value: undefined, detail: `${emails.length} archived (contacts are never deleted)` };
    });
  } catch (error) {
    if (!(error instanceof StepFailure)) throw error;
    // Best effort: what was imported does not stay in the contact list after a failure either.
    await archive(contactIds).catch(() => {});
  }
  return { ok: steps.every((done) => done.ok), steps };

  async function archive(ids: string[]) {
    for (const id of ids) {
      const answer = await call('POST', `/v1/contacts/${id}/archive`, {});
      const body = expectStatus(answer, [200], `POST /v1/contacts/${id}/archive`);
      check(body.status === 'archived', 'not archived', body);
    }
  }
}

/** The one user the smoke test adds to a workspace that has only its owner. */
const smokePeerEmail = 'smoke-peer@smoke.example';

const usage = `Usage: npm run smoke -- --url <ApiUrl> --token <owner token>

Runs against a deployed stack (the ApiUrl output) or the local one (http://127.0.0.1:3000) with a
token from \`npm run admin -- create-workspace\`. Exits 1 on the first failed step.
`;

async function main(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: { url: { type: 'string' }, token: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help || !values.url || !values.token) {
    process.stdout.write(usage);
    return values.help ? 0 : 2;
  }
  process.stdout.write(`Smoke test of ${values.url}\n`);
  const started = performance.now();
  const report = await runSmoke({ url: values.url, token: values.token, log: (line) => process.stdout.write(`${line}\n`) });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stdout.write(report.ok ? `All ${report.steps.length} steps passed in ${seconds} s.\n` : `Failed after ${seconds} s.\n`);
  return report.ok ? 0 : 1;
}

// Run as a script (`npm run smoke`), not when a test imports runSmoke.
if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: Error) => {
      process.stderr.write(`smoke: ${error.message}\n`);
      process.exit(1);
    },
  );
}
