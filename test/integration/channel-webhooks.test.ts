import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newDelivery, recordAccepted, findDeliveredMessage } from '../../domain/channels/deliveries/deliveries.service';
import { channelScope } from '../../domain/contacts/contact-record';
import { ProviderSendError } from '../../domain/channels/outbound';
import { setMediaAdapters } from '../../functions/jobs/fetch-media.handler';
import { fixtureText } from '../support/provider-fixtures';
import { startTestJobs } from '../support/test-jobs';
import { startGateway } from '../../local/gateway';
import { receiveWebhook } from '../../domain/channels/inbound/receive-webhook';
import { editInboundMessage } from '../../domain/inbox/messages.service';
import { systemActor } from '../../domain/shared/context';
import {
  connectAll,
  hook,
  hookSecrets,
  itemCount,
  telegramHeaders,
  twilioHeaders,
  whatsappHeaders,
  whatsappText,
  type Connections,
} from '../support/channel-hooks';
import { createTestStack, seedWorkspace, type TestStack } from '../support/test-stack';

let stack: TestStack;
let acme: Awaited<ReturnType<typeof seedWorkspace>>;
let globex: Awaited<ReturnType<typeof seedWorkspace>>;
let hooks: Connections;
let globexHooks: Connections;

beforeAll(async () => {
  stack = await createTestStack({ clockStart: '2027-01-15T09:00:00.000Z' });
  [acme, globex] = await Promise.all([seedWorkspace(stack, 'Acme'), seedWorkspace(stack, 'Globex')]);
  hooks = await connectAll(stack, acme.owner.token);
  globexHooks = await connectAll(stack, globex.owner.token, { appSecret: 'globex-app-secret-99887766' }, 'globex.example');
});
afterAll(() => stack?.destroy());

const get = (path: string, token = acme.owner.token) => stack.api('GET', path, { token });

/** The workspace's contact with this channel value (its guard), its conversations and their messages. */
async function threadOf(kind: 'phone' | 'whatsapp' | 'telegram' | 'email', value: string, who = acme) {
  const { data: guard } = await stack.deps.db.entities.uniqueGuard
    .get({ workspaceId: who.workspace.id, scope: channelScope(kind), value })
    .go({ consistent: true });
  if (!guard) return { contact: undefined, conversations: [], messages: [] };
  const token = who.owner.token;
  const contact = (await get(`/v1/contacts/${guard.ownerId}`, token)).body;
  const conversations = ((await get(`/v1/conversations?view=all&limit=100`, token)).body.items as { id: string; contactId: string; channel: string }[]).filter(
    (cv) => cv.contactId === guard.ownerId,
  );
  const messages = await Promise.all(conversations.map(async (cv) => (await get(`/v1/conversations/${cv.id}/messages`, token)).body.items));
  return { contact, conversations, messages: messages.flat() as { id: string; body: string; kind: string; externalId: string; payload: Record<string, unknown> }[] };
}

describe('WhatsApp', () => {
  it('answers Meta’s verification handshake with the challenge, only for our verify token', async () => {
    const path = `/hooks/whatsapp/${hooks.whatsapp}`;
    const ok = await hook(`${path}?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=verify-hooks-7c1f0e2d`, { method: 'GET' });
    expect(ok).toMatchObject({ status: 200, text: '1158201444' });
    expect(ok.headers['content-type']).toBe('text/plain');
    const wrong = await hook(`${path}?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=guess`, { method: 'GET' });
    expect(wrong.status).toBe(403);
    expect(wrong.text).not.toContain('1158201444');
  });

  it('stores a text message as contact, conversation and message; the same webhook again adds nothing', async () => {
    const body = fixtureText('whatsapp/text.json');
    const first = await hook(`/hooks/whatsapp/${hooks.whatsapp}`, { body, headers: whatsappHeaders(body) });
    expect(first).toMatchObject({ status: 200, body: { stored: 1, duplicate: 0 } });
    const again = await hook(`/hooks/whatsapp/${hooks.whatsapp}`, { body, headers: whatsappHeaders(body) });
    expect(again).toMatchObject({ status: 200, body: { stored: 0, duplicate: 1 } });

    const thread = await threadOf('whatsapp', '+16505551234');
    expect(thread.contact).toMatchObject({ name: 'Sheena Nelson' });
    expect(thread.conversations).toMatchObject([{ channel: 'whatsapp' }]);
    expect(thread.messages).toHaveLength(1);
    expect(thread.messages[0]).toMatchObject({
      body: 'Does it come in another color?',
      kind: 'text',
      authorKind: 'contact',
      externalId: `${hooks.whatsapp}:wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=`,
    });
  });

  it('keeps media references and the message a reply answers', async () => {
    const body = fixtureText('whatsapp/media-reply.json');
    const res = await hook(`/hooks/whatsapp/${hooks.whatsapp}`, { body, headers: whatsappHeaders(body) });
    expect(res.status).toBe(200);
    expect(res.body.stored).toBeGreaterThan(0);
    const all = (await get(`/v1/conversations?view=all&limit=100`)).body.items as { id: string }[];
    const messages = (await Promise.all(all.map(async (cv) => (await get(`/v1/conversations/${cv.id}/messages`)).body.items))).flat();
    const media = messages.filter((message: { kind: string }) => message.kind === 'media');
    expect(media.length).toBeGreaterThan(0);
    expect(media[0].payload.media[0]).toMatchObject({ providerMediaId: expect.any(String) });
    expect(messages.some((message: { payload: { replyTo?: unknown } }) => message.payload?.replyTo)).toBe(true);
  });

  it('processes a batched payload whole (several entries and messages in one POST)', async () => {
    const body = fixtureText('whatsapp/batched.json');
    const before = await itemCount(stack);
    const res = await hook(`/hooks/whatsapp/${hooks.whatsapp}`, { body, headers: whatsappHeaders(body) });
    expect(res.status).toBe(200);
    const total = res.body.stored + res.body.pending + res.body.ignored + res.body.duplicate;
    expect(total).toBeGreaterThan(1);
    expect(await itemCount(stack)).toBeGreaterThan(before);
    const again = await hook(`/hooks/whatsapp/${hooks.whatsapp}`, { body, headers: whatsappHeaders(body) });
    expect(again.body.stored).toBe(0);
  });

  it('refuses a missing (401) or wrong (403) signature and writes nothing', async () => {
    const body = whatsappText('16505550000', 'wamid.forged-1', 'let me in');
    const before = await itemCount(stack);
    const missing = await hook(`/hooks/whatsapp/${hooks.whatsapp}`, { body, headers: { 'content-type': 'application/json' } });
    expect(missing.status).toBe(401);
    const wrong = await hook(`/hooks/whatsapp/${hooks.whatsapp}`, { body, headers: whatsappHeaders(body, 'not-the-app-secret') });
    expect(wrong.status).toBe(403);
    const tampered = await hook(`/hooks/whatsapp/${hooks.whatsapp}`, { body: body.replace('let me in', 'let me IN'), headers: whatsappHeaders(body) });
    expect(tampered.status).toBe(403);
    expect(await itemCount(stack)).toBe(before);
  });
});

describe('Telegram', () => {
  it('stores a message with the user id and @username as the contact’s channels; an edit keeps the earlier text', async () => {
    const body = fixtureText('telegram/text.json');
    expect((await hook(`/hooks/telegram/${hooks.telegram}`, { body, headers: telegramHeaders() })).body).toMatchObject({ stored: 1 });
    const ana = (await threadOf('telegram', '583920174')).contact;
    expect(ana.name).toBe('Ana López');
    expect(ana.channels.map((channel: { value: string }) => channel.value)).toEqual(expect.arrayContaining(['583920174', '@ana_lopez']));

    const edit = fixtureText('telegram/edited.json');
    expect((await hook(`/hooks/telegram/${hooks.telegram}`, { body: edit, headers: telegramHeaders() })).body).toMatchObject({ stored: 1 });
    // Telegram's retry of the same update: the receipt knows it.
    expect((await hook(`/hooks/telegram/${hooks.telegram}`, { body: edit, headers: telegramHeaders() })).body).toMatchObject({
      stored: 0,
      duplicate: 1,
    });
    const thread = await threadOf('telegram', '583920174');
    expect(thread.messages).toHaveLength(1);
    expect(thread.messages[0]!.body).toBe('Hola, ¿tienen el plan anual para equipos?');
    const stored = await stack.deps.db.entities.message
      .get({ workspaceId: acme.workspace.id, conversationId: thread.conversations[0]!.id, messageId: thread.messages[0]!.id })
      .go();
    expect((stored.data as { edits?: unknown }).edits).toEqual([{ body: 'Hola, ¿tienen el plan anual?', editedAt: '2025-12-01T14:02:00.000Z' }]);
    // The conversation's latest message shows the new text in the lists.
    expect((await get(`/v1/conversations/${thread.conversations[0]!.id}`)).body.lastMessage.excerpt).toBe('Hola, ¿tienen el plan anual para equipos?');
  });

  it('keeps the latest edit when an older one arrives after it; the older one takes its place in the history', async () => {
    const at = 1764600000;
    const { edit_date: _, ...ana } = JSON.parse(fixtureText('telegram/edited.json')).edited_message;
    const update = (updateId: number, kind: 'message' | 'edited_message', text: string, editedAt?: number) =>
      JSON.stringify({ update_id: updateId, [kind]: { ...ana, message_id: 4600, date: at, text, ...(editedAt ? { edit_date: editedAt } : {}) } });
    const send = async (body: string) => (await hook(`/hooks/telegram/${hooks.telegram}`, { body, headers: telegramHeaders() })).body;
    const message = async () => {
      const thread = await threadOf('telegram', '583920174');
      const found = thread.messages.find((m) => m.externalId === `${hooks.telegram}:583920174:4600`)!;
      const conversationId = thread.conversations.find((cv) => cv.channel === 'telegram')!.id;
      const stored = await stack.deps.db.entities.message.get({ workspaceId: acme.workspace.id, conversationId, messageId: found.id }).go({ consistent: true });
      const lastMessage = (await get(`/v1/conversations/${conversationId}`)).body.lastMessage;
      return { body: found.body, edits: (stored.data as { edits?: unknown }).edits, lastMessage, externalId: found.externalId };
    };

    expect(await send(update(748303100, 'message', 'Original'))).toMatchObject({ stored: 1 });
    expect(await send(update(748303102, 'edited_message', 'second edit (latest)', at + 60))).toMatchObject({ stored: 1 });
    // Telegram delivers the earlier edit late.
    expect(await send(update(748303101, 'edited_message', 'first edit', at + 30))).toMatchObject({ stored: 1 });

    const after = await message();
    expect(after.body).toBe('second edit (latest)');
    expect(after.lastMessage.excerpt).toBe('second edit (latest)');
    expect(after.edits).toEqual([
      { body: 'Original', editedAt: new Date((at + 30) * 1000).toISOString() },
      { body: 'first edit', editedAt: new Date((at + 60) * 1000).toISOString() },
    ]);

    // The same edits again (past the webhook's own repeat check) change nothing.
    for (const [text, editedAt] of [['first edit', at + 30], ['second edit (latest)', at + 60]] as const) {
      const again = await editInboundMessage(stack.deps, systemActor(acme.workspace.id), {
        channel: 'telegram',
        externalId: after.externalId,
        body: text,
        editedAt: new Date(editedAt * 1000).toISOString(),
      });
      expect(again.outcome).toBe('unchanged');
    }
    expect(await message()).toEqual(after);
  });

  it('stores an edit of a message it never got as a new message', async () => {
    const edit = JSON.parse(fixtureText('telegram/edited.json'));
    edit.update_id = 748302999;
    edit.edited_message.message_id = 9999;
    edit.edited_message.text = 'Edited before we saw it';
    const body = JSON.stringify(edit);
    expect((await hook(`/hooks/telegram/${hooks.telegram}`, { body, headers: telegramHeaders() })).body).toMatchObject({ stored: 1 });
    const thread = await threadOf('telegram', '583920174');
    expect(thread.messages.map((message) => message.body)).toContain('Edited before we saw it');
  });

  it('refuses a missing or wrong secret token', async () => {
    const body = fixtureText('telegram/text.json');
    const before = await itemCount(stack);
    expect((await hook(`/hooks/telegram/${hooks.telegram}`, { body })).status).toBe(401);
    expect((await hook(`/hooks/telegram/${hooks.telegram}`, { body, headers: telegramHeaders('wrong-token') })).status).toBe(403);
    expect(await itemCount(stack)).toBe(before);
  });
});

describe('Twilio SMS', () => {
  it('stores an inbound SMS and answers empty TwiML; the same webhook again adds nothing', async () => {
    const path = `/hooks/twilio/${hooks.sms}`;
    const body = fixtureText('twilio/sms-inbound.txt').trim();
    const res = await hook(path, { body, headers: twilioHeaders(path, body) });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/xml');
    expect(res.text).toContain('<Response/>');
    await hook(path, { body, headers: twilioHeaders(path, body) });
    const thread = await threadOf('phone', '+14155552671');
    expect(thread.conversations).toMatchObject([{ channel: 'sms' }]);
    expect(thread.messages).toHaveLength(1);
    expect(thread.messages[0]!.body).toBe('Hi! Is my order #1042 on its way? 🚚');
  });

  it('refuses a signature over another URL or other parameters', async () => {
    const path = `/hooks/twilio/${hooks.sms}`;
    const body = fixtureText('twilio/sms-inbound.txt').trim().replace('SM1f0e', 'SM2f0e');
    const before = await itemCount(stack);
    expect((await hook(path, { body, headers: twilioHeaders(`/hooks/twilio/${globexHooks.sms}`, body) })).status).toBe(403);
    expect((await hook(path, { body: `${body}&Extra=1`, headers: twilioHeaders(path, body) })).status).toBe(403);
    expect((await hook(path, { body })).status).toBe(401);
    expect(await itemCount(stack)).toBe(before);
  });
});

describe('delivery statuses', () => {
  /** An outbound WhatsApp message with a delivery, as the send path writes it. */
  async function outbound(n: number) {
    const at = stack.clock.nowIso();
    const key = { workspaceId: acme.workspace.id, conversationId: `cv_STATUS${n}`, messageId: `msg_STATUS${n}` };
    await stack.deps.db.entities.message
      .create({
        ...key,
        authorKind: 'user',
        authorUserId: acme.owner.user.id,
        channel: 'whatsapp',
        kind: 'text',
        note: false,
        body: `hello ${n}`,
        delivery: newDelivery(stack.deps, { connectionId: hooks.whatsapp, to: '+16505551234', jobId: `job_S${n}` }, at),
        deliveryVersion: 0,
        createdAt: at,
        updatedAt: at,
      } as never)
      .go();
    return key;
  }
  const statusBody = (id: string, status: string) =>
    JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [
        {
          id: '102290129340398',
          changes: [
            {
              field: 'messages',
              value: {
                messaging_product: 'whatsapp',
                metadata: { display_phone_number: '15550783881', phone_number_id: '106540352242922' },
                statuses: [{ id, status, timestamp: '1750263775', recipient_id: '16505551234' }],
              },
            },
          ],
        },
      ],
    });
  const post = (body: string) => hook(`/hooks/whatsapp/${hooks.whatsapp}`, { body, headers: whatsappHeaders(body) });

  it('moves a delivery forward, never back, whatever the order', async () => {
    const key = await outbound(1);
    await recordAccepted(stack.deps, key, 1, { providerMessageId: 'wamid.STATUS1', providerStatus: 'accepted' });
    expect((await post(statusBody('wamid.STATUS1', 'read'))).body).toMatchObject({ stored: 1 });
    expect((await post(statusBody('wamid.STATUS1', 'delivered'))).body).toMatchObject({ stored: 0 });
    expect((await post(statusBody('wamid.STATUS1', 'read'))).body).toMatchObject({ duplicate: 1 });
    expect((await findDeliveredMessage(stack.deps, key))!.delivery.status).toBe('read');
  });

  it('keeps a status that arrives before the send recorded the id, and applies it then', async () => {
    const key = await outbound(2);
    expect((await post(statusBody('wamid.STATUS2', 'delivered'))).body).toMatchObject({ pending: 1 });
    await recordAccepted(stack.deps, key, 1, { providerMessageId: 'wamid.STATUS2', providerStatus: 'accepted' });
    expect((await findDeliveredMessage(stack.deps, key))!.delivery.status).toBe('delivered');
  });

  it('moves an SMS delivery by Twilio’s status callbacks (undelivered fails it)', async () => {
    const at = stack.clock.nowIso();
    const key = { workspaceId: acme.workspace.id, conversationId: 'cv_STATUS3', messageId: 'msg_STATUS3' };
    await stack.deps.db.entities.message
      .create({
        ...key,
        authorKind: 'user',
        authorUserId: acme.owner.user.id,
        channel: 'sms',
        kind: 'text',
        note: false,
        body: 'sms',
        delivery: newDelivery(stack.deps, { connectionId: hooks.sms, to: '+14155552671', jobId: 'job_S3' }, at),
        deliveryVersion: 0,
        createdAt: at,
        updatedAt: at,
      } as never)
      .go();
    const sid = /MessageSid=([A-Za-z0-9]+)/.exec(fixtureText('twilio/message-status-undelivered.txt'))![1]!;
    await recordAccepted(stack.deps, key, 1, { providerMessageId: sid, providerStatus: 'queued' });
    const path = `/hooks/twilio/${hooks.sms}`;
    for (const name of ['message-status-sent', 'message-status-undelivered']) {
      const body = fixtureText(`twilio/${name}.txt`).trim().replace(/MessageSid=[A-Za-z0-9]+/, `MessageSid=${sid}`).replace(/SmsSid=[A-Za-z0-9]+/, `SmsSid=${sid}`);
      expect((await hook(path, { body, headers: twilioHeaders(path, body) })).status).toBe(200);
    }
    const delivery = (await findDeliveredMessage(stack.deps, key))!.delivery;
    expect(delivery.status).toBe('failed');
  });
});

describe('media', () => {
  it('keeps the references on a media message and fetches the files into S3 as its attachments (a fetch_media job)', async () => {
    const fetched: string[] = [];
    setMediaAdapters({
      async fetchMedia(connection, media) {
        expect(connection.secrets.accessToken).toBe(hookSecrets.accessToken);
        fetched.push(media.providerMediaId!);
        if (media.providerMediaId === 'MEDIA-GONE') throw new ProviderSendError('rejected', '100', 'The media is gone');
        return { bytes: new TextEncoder().encode(`bytes of ${media.providerMediaId}`), mimeType: 'image/jpeg', fileName: null };
      },
    });
    const jobs = await startTestJobs(stack, ['fetch_media']);
    try {
      const body = JSON.stringify({
        object: 'whatsapp_business_account',
        entry: [
          {
            id: '102290129340398',
            changes: [
              {
                field: 'messages',
                value: {
                  messaging_product: 'whatsapp',
                  metadata: { display_phone_number: '15550783881', phone_number_id: '106540352242922' },
                  contacts: [{ profile: { name: 'Pia Photo' }, wa_id: '16505557777' }],
                  messages: [
                    { from: '16505557777', id: 'wamid.MEDIA1', timestamp: '1749416383', type: 'image', image: { id: 'MEDIA-1', mime_type: 'image/jpeg', caption: 'The damage' } },
                    { from: '16505557777', id: 'wamid.MEDIA2', timestamp: '1749416384', type: 'image', image: { id: 'MEDIA-GONE', mime_type: 'image/jpeg' } },
                  ],
                },
              },
            ],
          },
        ],
      });
      const jobIds = async () => ((await get('/v1/jobs?kind=fetch_media&limit=100')).body.items as { id: string }[]).map((job) => job.id);
      const earlier = new Set(await jobIds());
      expect((await hook(`/hooks/whatsapp/${hooks.whatsapp}`, { body, headers: whatsappHeaders(body) })).body).toMatchObject({ stored: 2 });
      const list = (await jobIds()).filter((id) => !earlier.has(id)).map((id) => ({ id }));
      expect(list).toHaveLength(2);
      const ended = await Promise.all(list.map((job) => jobs.finished(acme.workspace.id, job.id)));
      expect(ended.map((job) => job.status)).toEqual(['succeeded', 'succeeded']);
      expect(ended.map((job) => job.result).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))).toEqual([
        { fetched: 0, skipped: 1 },
        { fetched: 1, skipped: 0 },
      ]);
      const thread = await threadOf('whatsapp', '+16505557777');
      const damage = thread.messages.find((message) => message.body === 'The damage')! as unknown as { kind: string; attachments: { id: string; kind: string; contentType: string; sizeBytes: number }[]; conversationId: string };
      expect(damage.kind).toBe('media');
      expect(damage.attachments).toEqual([{ id: expect.any(String), kind: 'image', fileName: 'image-1.jpg', contentType: 'image/jpeg', sizeBytes: 'bytes of MEDIA-1'.length }]);
      const stored = await stack.blobs.get(`attachments/${acme.workspace.id}/${damage.attachments[0]!.id}`);
      expect(Buffer.from(stored!).toString()).toBe('bytes of MEDIA-1');
      const link = await get(`/v1/attachments/${damage.attachments[0]!.id}`);
      expect(link.status).toBe(200);
      expect(fetched).toEqual(expect.arrayContaining(['MEDIA-1', 'MEDIA-GONE']));
    } finally {
      await jobs.stop();
      setMediaAdapters(undefined);
    }
  });
});

describe('logs', () => {
  it('say why a webhook was refused, never the secret or the body', async () => {
    const lines: string[] = [];
    const capture = (message: string, fields?: Record<string, unknown>) => void lines.push(`${message} ${JSON.stringify(fields ?? {})}`);
    const deps = {
      ...stack.deps,
      sealer: stack.sealer,
      certificates: { fetchPem: async () => '' },
      subscriptions: { confirm: async () => undefined },
      log: { info: capture, warn: capture, error: capture },
    };
    const body = whatsappText('16505553333', 'wamid.LOGGED', 'private words');
    const request = (headers: Record<string, string>) => ({
      provider: 'whatsapp',
      connectionId: hooks.whatsapp,
      method: 'POST',
      headers,
      rawBody: Buffer.from(body),
      url: `https://hooks.example.test/hooks/whatsapp/${hooks.whatsapp}`,
      query: {},
    });
    expect((await receiveWebhook(deps, request(whatsappHeaders(body, 'wrong-secret')))).status).toBe(403);
    expect((await receiveWebhook(deps, request({}))).status).toBe(401);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain('"reason":"mismatch"');
    expect(lines[1]).toContain('"reason":"missing"');
    for (const line of lines) {
      for (const secret of [hookSecrets.appSecret, hookSecrets.verifyToken, hookSecrets.accessToken, 'private words']) expect(line).not.toContain(secret);
    }
  });
});

describe('through the local gateway', () => {
  it('routes every /hooks/ path to channel-hooks with the raw bytes, headers and query', async () => {
    const gateway = await startGateway({ port: 0 });
    try {
      const path = `/hooks/whatsapp/${hooks.whatsapp}`;
      const handshake = await fetch(`${gateway.url}${path}?hub.mode=subscribe&hub.challenge=42&hub.verify_token=${hookSecrets.verifyToken}`);
      expect(handshake.status).toBe(200);
      expect(await handshake.text()).toBe('42');
      // Bytes a JSON round trip would change (spacing, escapes): the signature is over these exactly.
      const body = whatsappText('16505552222', 'wamid.GATEWAY1', 'caf\u00e9  —  spaced').replace('{', '{  ');
      const res = await fetch(`${gateway.url}${path}`, { method: 'POST', headers: whatsappHeaders(body), body });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ stored: 1 });
      expect((await fetch(`${gateway.url}/hooks/whatsapp/chc_01JF8Z0000000000000000000Z`, { method: 'POST', body })).status).toBe(404);
    } finally {
      await gateway.stop();
    }
  });
});

describe('a disconnected connection', () => {
  it('still stores what the contact writes (nothing they wrote is lost)', async () => {
    const connection = (await stack.api('GET', `/v1/channels/${globexHooks.telegram}`, { token: globex.owner.token })).body;
    const res = await stack.api('POST', `/v1/channels/${globexHooks.telegram}/disconnect`, {
      token: globex.owner.token,
      headers: { 'if-match': `"${connection.version}"` },
    });
    expect(res.status).toBe(200);
    const body = fixtureText('telegram/text.json');
    expect((await hook(`/hooks/telegram/${globexHooks.telegram}`, { body, headers: telegramHeaders() })).body).toMatchObject({ stored: 1 });
    expect((await threadOf('telegram', '583920174', globex)).messages).toHaveLength(1);
  });
});

describe('tenant isolation', () => {
  it('answers 404 for an unknown connection, or a connection of another provider, and writes nothing', async () => {
    const body = fixtureText('whatsapp/text.json');
    const before = await itemCount(stack);
    expect((await hook(`/hooks/whatsapp/chc_01JF8Z0000000000000000000Z`, { body, headers: whatsappHeaders(body) })).status).toBe(404);
    expect((await hook(`/hooks/telegram/${hooks.whatsapp}`, { body, headers: telegramHeaders() })).status).toBe(404);
    expect((await hook(`/hooks/nope/${hooks.whatsapp}`, { body, headers: whatsappHeaders(body) })).status).toBe(404);
    expect(await itemCount(stack)).toBe(before);
  });

  it('lets the connection alone decide the workspace: Acme’s signature does not open Globex’s hook', async () => {
    const body = whatsappText('16505559999', 'wamid.TENANT1', 'Hello Globex');
    expect((await hook(`/hooks/whatsapp/${globexHooks.whatsapp}`, { body, headers: whatsappHeaders(body) })).status).toBe(403);
    const signed = whatsappHeaders(body, 'globex-app-secret-99887766');
    expect((await hook(`/hooks/whatsapp/${globexHooks.whatsapp}`, { body, headers: signed })).status).toBe(200);
    expect((await threadOf('whatsapp', '+16505559999', globex)).messages).toHaveLength(1);
    expect((await threadOf('whatsapp', '+16505559999')).contact).toBeUndefined();
    // The same provider message id on Acme's own connection is Acme's own message.
    expect((await hook(`/hooks/whatsapp/${hooks.whatsapp}`, { body, headers: whatsappHeaders(body) })).body).toMatchObject({ stored: 1 });
  });
});
