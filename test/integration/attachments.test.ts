import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareAttachments } from '../../domain/inbox/attachments.service';
import type { CallerContext } from '../../domain/shared/context';
import { DomainError, lostRace } from '../../domain/shared/errors';
import { writeTransaction } from '../../domain/store/transaction';
import { createTestStack, seedWorkspace, type TestStack } from '../support/test-stack';


/* eslint-disable @typescript-eslint/no-explicit-any -- records read back from the API */

let stack: TestStack;
let acme: Awaited<ReturnType<typeof seedWorkspace>>;
let globex: Awaited<ReturnType<typeof seedWorkspace>>;
/** A second member of Acme. */
let member2: { user: any; token: string };

beforeAll(async () => {
  stack = await createTestStack();
  [acme, globex] = await Promise.all([seedWorkspace(stack, 'Acme'), seedWorkspace(stack, 'Globex')]);
  const user = await stack.api('POST', '/v1/users', {
    token: acme.owner.token,
    body: { name: 'Max Member', email: `max-${randomUUID().slice(0, 6)}@example.com`, role: 'member' },
  });
  const token = await stack.api('POST', '/v1/tokens', {
    token: acme.owner.token,
    body: { userId: user.body.id, name: 'test' },
  });
  member2 = { user: user.body, token: token.body.token };
});
afterAll(() => stack?.destroy());

const pdf = (text = 'Quote 2026: 1,200 EUR') => new TextEncoder().encode(`%PDF-1.7\n${text}\n%%EOF\n`);

/** Declares a file as `token`'s user, and uploads `bytes` (the declared ones unless told) to its URL. */
async function upload(
  token: string,
  options: { bytes?: Uint8Array; declare?: number; put?: boolean; fileName?: string } = {},
) {
  const bytes = options.bytes ?? pdf();
  const created = await stack.api('POST', '/v1/attachments', {
    token,
    body: {
      fileName: options.fileName ?? 'quote.pdf',
      contentType: 'application/pdf',
      sizeBytes: options.declare ?? bytes.length,
    },
  });
  expect(created.status).toBe(201);
  if (options.put !== false) {
    const put = await fetch(created.body.uploadUrl, {
      method: created.body.uploadMethod,
      headers: created.body.uploadHeaders,
      body: bytes,
    });
    expect(put.status).toBe(200);
  }
  return created.body;
}

const callerOf = (actor: { user: any }, role: CallerContext['role']): CallerContext => ({
  workspaceId: acme.workspace.id,
  userId: actor.user.id,
  role,
});
const deps = () => ({ ...stack.deps, blobs: stack.blobs });

async function refusal(promise: Promise<unknown>): Promise<DomainError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DomainError);
  return error as DomainError;
}

/** Attaches through the ops a message's transaction would carry. */
async function attach(
  caller: CallerContext,
  ids: string[],
  ref: { conversationId: string; messageId: string },
) {
  const prepared = await prepareAttachments(deps(), caller, ids);
  await writeTransaction(
    stack.deps.db,
    (tx) => prepared.ops(tx, ref),
    () => lostRace('An attachment'),
  );
  return prepared;
}

async function contactConversation() {
  const contact = await stack.api('POST', '/v1/contacts', {
    token: acme.owner.token,
    body: { name: 'Ada', channels: [{ kind: 'email', value: `${randomUUID().slice(0, 8)}@example.com` }] },
  });
  const conversation = await stack.api('POST', '/v1/conversations', {
    token: acme.owner.token,
    body: { kind: 'contact', contactId: contact.body.id, channel: 'email' },
  });
  expect(conversation.status).toBe(201);
  return conversation.body;
}

describe('uploading and downloading an attachment', () => {
  it('declares a file, takes its bytes by presigned PUT, and serves them back by presigned GET', async () => {
    // Prepare
    const bytes = pdf();
    const created = await stack.api('POST', '/v1/attachments', {
      token: acme.member.token,
      body: { fileName: 'Quote März 2026.pdf', contentType: 'application/pdf', sizeBytes: bytes.length },
    });
    const before = await stack.api('GET', `/v1/attachments/${created.body.id}`, { token: acme.member.token });

    // Act
    const put = await fetch(created.body.uploadUrl, {
      method: created.body.uploadMethod,
      headers: created.body.uploadHeaders,
      body: bytes,
    });
    const after = await stack.api('GET', `/v1/attachments/${created.body.id}`, { token: acme.member.token });
    const download = await fetch(after.body.downloadUrl);

    // Assess
    expect(created.status).toBe(201);
    expect(created.headers.location).toBe(`/v1/attachments/${created.body.id}`);
    expect(created.body).toMatchObject({
      id: expect.stringMatching(/^att_/),
      kind: 'document',
      fileName: 'Quote März 2026.pdf',
      contentType: 'application/pdf',
      sizeBytes: bytes.length,
      status: 'pending',
      uploadMethod: 'PUT',
      uploadHeaders: { 'content-type': 'application/pdf' },
      uploadExpiresAt: new Date(stack.clock.nowMs() + 15 * 60_000).toISOString(),
    });
    // The key is the workspace's and the attachment's: never the user's file name.
    const uploadUrl = new URL(created.body.uploadUrl);
    expect(uploadUrl.pathname).toBe(`/${stack.bucket}/attachments/${acme.workspace.id}/${created.body.id}`);
    expect(uploadUrl.searchParams.get('X-Amz-SignedHeaders')).toBe('content-length;content-type;host');
    expect(uploadUrl.searchParams.get('X-Amz-Expires')).toBe('900');
    expect(before.body).toMatchObject({ status: 'pending', downloadUrl: null, downloadExpiresAt: null });
    expect(put.status).toBe(200);
    expect(after.status).toBe(200);
    expect(after.body).toMatchObject({
      id: created.body.id,
      status: 'pending',
      uploadedBy: acme.member.user.id,
      conversationId: null,
      messageId: null,
      downloadExpiresAt: new Date(stack.clock.nowMs() + 5 * 60_000).toISOString(),
    });
    const downloadUrl = new URL(after.body.downloadUrl);
    expect(downloadUrl.searchParams.get('X-Amz-Expires')).toBe('300');
    expect(downloadUrl.searchParams.get('response-content-disposition')).toBe(
      `attachment; filename="Quote M_rz 2026.pdf"; filename*=UTF-8''Quote%20M%C3%A4rz%202026.pdf`,
    );
    expect(download.status).toBe(200);
    expect(new Uint8Array(await download.arrayBuffer())).toEqual(bytes);
  });

  it('tells the kind from the type', async () => {
    const kinds: Record<string, string> = {
      'image/heic': 'image',
      'video/quicktime': 'video',
      'audio/ogg': 'audio',
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'document',
    };
    for (const [contentType, kind] of Object.entries(kinds)) {
      const res = await stack.api('POST', '/v1/attachments', {
        token: acme.member.token,
        body: { fileName: 'file', contentType, sizeBytes: 10 },
      });
      expect(res.body.kind).toBe(kind);
    }
  });

  it('takes 25 MiB and refuses a byte more: 422 limit_exceeded naming body.sizeBytes', async () => {
    const at = (sizeBytes: number) =>
      stack.api('POST', '/v1/attachments', {
        token: acme.member.token,
        body: { fileName: 'film.mp4', contentType: 'video/mp4', sizeBytes },
      });

    const largest = await at(26_214_400);
    const over = await at(26_214_401);

    expect(largest.status).toBe(201);
    expect(over.status).toBe(422);
    expect(over.body).toMatchObject({
      code: 'limit_exceeded',
      limit: 26_214_400,
      errors: [{ field: 'body.sizeBytes', code: 'limit_exceeded' }],
    });
  });

  it('refuses a type outside the allowlist, a path as a file name and an empty file: 400 naming the field', async () => {
    const create = (body: Record<string, unknown>) =>
      stack.api('POST', '/v1/attachments', {
        token: acme.member.token,
        body: { fileName: 'a.pdf', contentType: 'application/pdf', sizeBytes: 10, ...body },
      });

    const html = await create({ fileName: 'page.html', contentType: 'text/html' });
    const path = await create({ fileName: '../etc/passwd' });
    const control = await create({ fileName: 'a\u0000.pdf' });
    const empty = await create({ sizeBytes: 0 });
    const long = await create({ fileName: `${'x'.repeat(252)}.pdf` });

    expect(html.status).toBe(400);
    expect(html.body.errors.map((e: any) => e.field)).toEqual(['body.contentType']);
    expect(path.status).toBe(400);
    expect(path.body.errors.map((e: any) => e.field)).toEqual(['body.fileName']);
    expect(control.body.errors.map((e: any) => e.field)).toEqual(['body.fileName']);
    expect(empty.body.errors.map((e: any) => e.field)).toEqual(['body.sizeBytes']);
    expect(long.body.errors.map((e: any) => e.field)).toEqual(['body.fileName']);
  });
});

describe('who sees an attachment', () => {
  it('another workspace gets a 404', async () => {
    const mine = await upload(acme.owner.token);

    const res = await stack.api('GET', `/v1/attachments/${mine.id}`, { token: globex.owner.token });

    expect(res.status).toBe(404);
  });

  it('a pending upload: its uploader and owner/admin, not another member (404)', async () => {
    const upload1 = await upload(acme.member.token);

    const statuses = await Promise.all(
      [acme.member.token, acme.owner.token, acme.admin.token, member2.token].map(
        async (token) => (await stack.api('GET', `/v1/attachments/${upload1.id}`, { token })).status,
      ),
    );

    // The uploader, the owner, the admin; another member.
    expect(statuses).toEqual([200, 200, 200, 404]);
  });

  it('an attached one: anyone who reads its conversation; a direct conversation’s, only its users', async () => {
    // Prepare
    const contactThread = await contactConversation();
    const direct = await stack.api('POST', '/v1/conversations', {
      token: acme.owner.token,
      body: { kind: 'direct', userIds: [acme.admin.user.id] },
    });
    const inThread = await upload(acme.member.token);
    const inDirect = await upload(acme.owner.token);

    // Act
    await attach(callerOf(acme.member, 'member'), [inThread.id], {
      conversationId: contactThread.id,
      messageId: stack.deps.newId('msg'),
    });
    await attach(callerOf(acme.owner, 'owner'), [inDirect.id], {
      conversationId: direct.body.id,
      messageId: stack.deps.newId('msg'),
    });
    const threadByOther = await stack.api('GET', `/v1/attachments/${inThread.id}`, { token: member2.token });
    const directByAdmin = await stack.api('GET', `/v1/attachments/${inDirect.id}`, {
      token: acme.admin.token,
    });
    const directByMember = await stack.api('GET', `/v1/attachments/${inDirect.id}`, {
      token: acme.member.token,
    });

    // Assess
    expect(threadByOther.status).toBe(200);
    expect(threadByOther.body).toMatchObject({ status: 'attached', conversationId: contactThread.id });
    expect(threadByOther.body.downloadUrl).toEqual(expect.any(String));
    expect(directByAdmin.status).toBe(200);
    expect(directByMember.status).toBe(404);
    expect(directByMember.body.detail).toBe('Attachment not found');
  });

  it('a pending upload not sent within 24 hours is gone (404), even before TTL removes it', async () => {
    const pending = await upload(acme.member.token);

    stack.clock.advance(24 * 3600_000 + 1000);
    const res = await stack.api('GET', `/v1/attachments/${pending.id}`, { token: acme.member.token });

    expect(res.status).toBe(404);
    const { data } = await stack.deps.db.entities.attachment
      .get({ workspaceId: acme.workspace.id, attachmentId: pending.id })
      .go();
    expect(data?.expiresAt).toBe(Math.floor(Date.parse(pending.createdAt) / 1000) + 24 * 3600);
  });
});

describe('prepareAttachments (what sending a message does with attachmentIds)', () => {
  const ref = () => ({ conversationId: stack.deps.newId('cv'), messageId: stack.deps.newId('msg') });

  it('returns their metadata in order, and its ops attach them: status, message, conversation, no TTL', async () => {
    // Prepare
    const photo = await stack.api('POST', '/v1/attachments', {
      token: acme.member.token,
      body: { fileName: 'site.png', contentType: 'image/png', sizeBytes: 4 },
    });
    await fetch(photo.body.uploadUrl, {
      method: 'PUT',
      headers: photo.body.uploadHeaders,
      body: new Uint8Array([137, 80, 78, 71]),
    });
    const quote = await upload(acme.member.token);
    const target = ref();

    // Act
    const prepared = await attach(callerOf(acme.member, 'member'), [quote.id, photo.body.id], target);

    // Assess
    expect(prepared.attachments).toEqual([
      {
        id: quote.id,
        kind: 'document',
        fileName: 'quote.pdf',
        contentType: 'application/pdf',
        sizeBytes: quote.sizeBytes,
      },
      { id: photo.body.id, kind: 'image', fileName: 'site.png', contentType: 'image/png', sizeBytes: 4 },
    ]);
    const { data } = await stack.deps.db.entities.attachment
      .get({ workspaceId: acme.workspace.id, attachmentId: quote.id })
      .go();
    expect(data).toMatchObject({ status: 'attached', ...target });
    expect(data?.expiresAt).toBeUndefined();
  });

  it('an empty list reads nothing', async () => {
    stack.calls.reset();
    const prepared = await prepareAttachments(deps(), callerOf(acme.member, 'member'), []);
    expect(prepared.attachments).toEqual([]);
    expect(stack.calls.total()).toBe(0);
  });

  it('an unknown id, another workspace’s or another member’s upload: 422 invalid_reference naming each', async () => {
    const mine = await upload(acme.member.token);
    const someoneElses = await upload(member2.token);
    const foreign = await upload(globex.owner.token);

    const error = await refusal(
      prepareAttachments(deps(), callerOf(acme.member, 'member'), [
        mine.id,
        'att_00000000000000000000000000',
        someoneElses.id,
        foreign.id,
      ]),
    );

    expect(error.code).toBe('invalid_reference');
    expect(error.details.fields?.map((f) => f.field)).toEqual([
      'body.attachmentIds.1',
      'body.attachmentIds.2',
      'body.attachmentIds.3',
    ]);
  });

  it('an owner or admin may send any upload of the workspace', async () => {
    const members = await upload(acme.member.token);

    const prepared = await prepareAttachments(deps(), callerOf(acme.admin, 'admin'), [members.id]);

    expect(prepared.attachments.map((a) => a.id)).toEqual([members.id]);
  });

  it('a file not uploaded, or of another size than declared: 422 unprocessable naming it', async () => {
    const notUploaded = await upload(acme.member.token, { put: false });
    const shorter = await upload(acme.member.token, { bytes: pdf('x'), declare: pdf('x').length + 5 });

    const missing = await refusal(
      prepareAttachments(deps(), callerOf(acme.member, 'member'), [notUploaded.id]),
    );
    const wrongSize = await refusal(
      prepareAttachments(deps(), callerOf(acme.member, 'member'), [shorter.id]),
    );

    expect(missing.code).toBe('unprocessable');
    expect(missing.details.fields).toEqual([
      {
        field: 'body.attachmentIds.0',
        message: expect.stringContaining('Not uploaded yet'),
        code: 'unprocessable',
      },
    ]);
    expect(wrongSize.code).toBe('unprocessable');
    expect(wrongSize.message).toBe(
      `The uploaded file has ${pdf('x').length} bytes, not the ${pdf('x').length + 5} declared`,
    );
  });

  it('an attachment already on a message: 409 attachment_used; and two sends racing for one: one wins', async () => {
    const member = callerOf(acme.member, 'member');
    const used = await upload(acme.member.token);
    await attach(member, [used.id], ref());
    const contested = await upload(acme.member.token);
    const [first, second] = await Promise.all([
      prepareAttachments(deps(), member, [contested.id]),
      prepareAttachments(deps(), member, [contested.id]),
    ]);

    const again = await refusal(prepareAttachments(deps(), member, [used.id]));
    await writeTransaction(
      stack.deps.db,
      (tx) => first.ops(tx, ref()),
      () => lostRace(),
    );
    const late = await refusal(
      writeTransaction(
        stack.deps.db,
        (tx) => second.ops(tx, ref()),
        () => lostRace(),
      ),
    );

    expect(again.code).toBe('attachment_used');
    expect(again.details.fields?.[0]?.field).toBe('body.attachmentIds.0');
    expect(late.code).toBe('concurrent_change');
    expect((await refusal(prepareAttachments(deps(), member, [contested.id]))).code).toBe('attachment_used');
  });

  it('at most 10 per message (422 limit_exceeded), each listed once (400)', async () => {
    const ids = Array.from({ length: 11 }, () => stack.deps.newId('att'));
    const one = await upload(acme.member.token);

    const tooMany = await refusal(prepareAttachments(deps(), callerOf(acme.member, 'member'), ids));
    const twice = await refusal(
      prepareAttachments(deps(), callerOf(acme.member, 'member'), [one.id, one.id]),
    );

    expect(tooMany.code).toBe('limit_exceeded');
    expect(tooMany.details).toMatchObject({ limit: 10, fields: [{ field: 'body.attachmentIds' }] });
    expect(twice.code).toBe('validation_failed');
    expect(twice.details.fields?.[0]?.field).toBe('body.attachmentIds.1');
  });
});
