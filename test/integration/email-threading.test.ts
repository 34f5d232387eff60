import { createSign, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliverMessageJob } from '../../domain/channels/deliveries/deliver-message.job';
import { findDeliveredMessage, newDelivery, recordAccepted } from '../../domain/channels/deliveries/deliveries.service';
import { mailIdGuard } from '../../domain/channels/inbound/inbound-email';
import { channelScope } from '../../domain/contacts/contact-record';
import { findJob } from '../../domain/jobs/job-record';
import { runJobMessage } from '../../domain/jobs/job-run.service';
import { resetConfig } from '../../functions/shared/config';
import { setChannelAdapters, withBlobStore, withDeliveryDeps } from '../../functions/shared/deps';
import { resetChannelHookPorts } from '../../functions/webhooks/channel-hooks.handler';
import { sandboxSnsEnvironment, startProviderSandbox } from '../../local/provider-sandbox';
import { snsSigningKey } from '../../local/provider-sandbox/ses';
import { createFakeChannelAdapters } from '../support/fake-channel-adapters';
import { fixtureText } from '../support/provider-fixtures';
import {
  connectAll,
  eventsTopic,
  hook,
  inboundTopic,
  itemCount,
  snsBody,
  startFakeSns,
  type Connections,
} from '../support/channel-hooks';
import { contactWith } from '../support/send-setup';
import { createTestStack, seedWorkspace, type TestStack } from '../support/test-stack';

let stack: TestStack;
let acme: Awaited<ReturnType<typeof seedWorkspace>>;
let hooks: Connections;
let sns: Awaited<ReturnType<typeof startFakeSns>>;

beforeAll(async () => {
  // The fixture signing certificate is valid from December 2026.
  stack = await createTestStack({ clockStart: '2027-01-15T09:00:00.000Z' });
  acme = await seedWorkspace(stack, 'Acme');
  hooks = await connectAll(stack, acme.owner.token);
  sns = await startFakeSns();
});
afterAll(async () => {
  await sns?.stop();
  await stack?.destroy();
});

const get = (path: string) => stack.api('GET', path, { token: acme.owner.token });
const post = (body: string) => hook(`/hooks/ses/${hooks.email}`, { body, headers: { 'content-type': 'text/plain; charset=UTF-8' } });

let mailNo = 0;
interface Mail {
  from?: string;
  recipients?: string[];
  messageId?: string;
  inReplyTo?: string;
  references?: string[];
  subject?: string;
  text?: string;
  html?: string;
  s3Key?: string;
  /** More header lines, e.g. `Auto-Submitted: auto-replied`. */
  headers?: string[];
}

/** The MIME text of a mail. */
function mime(mail: Mail & { messageId: string }) {
  const headers = [
    `From: ${mail.from ?? 'Ana López <Ana.Lopez@Example.com>'}`,
    `To: ${(mail.recipients ?? ['support@acme.example']).join(', ')}`,
    `Subject: ${mail.subject ?? 'Question'}`,
    'Date: Mon, 1 Dec 2025 17:02:05 +0100',
    `Message-ID: ${mail.messageId}`,
    ...(mail.inReplyTo ? [`In-Reply-To: ${mail.inReplyTo}`] : []),
    ...(mail.references ? [`References: ${mail.references.join(' ')}`] : []),
    ...(mail.headers ?? []),
    'MIME-Version: 1.0',
  ];
  if (mail.html) return [...headers, 'Content-Type: text/html; charset=UTF-8', '', mail.html, ''].join('\r\n');
  return [...headers, 'Content-Type: text/plain; charset=UTF-8', '', mail.text ?? 'Hello', ''].join('\r\n');
}

/** An SES receipt notification (SNS action, or S3 action) as SNS posts it, signed. */
function received(mail: Mail) {
  mailNo += 1;
  const messageId = mail.messageId ?? `<mail-${mailNo}@mail.example.com>`;
  const content = mime({ ...mail, messageId });
  const recipients = mail.recipients ?? ['support@acme.example'];
  const notification = {
    notificationType: 'Received',
    receipt: {
      timestamp: '2025-12-01T16:02:11.936Z',
      recipients,
      spamVerdict: { status: 'PASS' },
      virusVerdict: { status: 'PASS' },
      spfVerdict: { status: 'PASS' },
      dkimVerdict: { status: 'PASS' },
      dmarcVerdict: { status: 'PASS' },
      action: mail.s3Key
        ? { type: 'S3', topicArn: inboundTopic, bucketName: stack.bucket, objectKey: mail.s3Key }
        : { type: 'SNS', topicArn: inboundTopic, encoding: 'UTF8' },
    },
    mail: {
      timestamp: '2025-12-01T16:02:11.936Z',
      source: 'ana.lopez@example.com',
      messageId: `ses-received-${mailNo}`,
      destination: recipients,
      headersTruncated: false,
      headers: [
        { name: 'From', value: mail.from ?? 'Ana López <Ana.Lopez@Example.com>' },
        { name: 'Message-ID', value: messageId },
        ...(mail.inReplyTo ? [{ name: 'In-Reply-To', value: mail.inReplyTo }] : []),
        ...(mail.references ? [{ name: 'References', value: mail.references.join(' ') }] : []),
      ],
      commonHeaders: {
        from: [mail.from ?? 'Ana López <Ana.Lopez@Example.com>'],
        to: recipients,
        messageId,
        subject: mail.subject ?? 'Question',
        date: 'Mon, 1 Dec 2025 17:02:05 +0100',
      },
    },
    ...(mail.s3Key ? {} : { content }),
  };
  return { body: snsBody({ TopicArn: inboundTopic, Message: JSON.stringify(notification) }), messageId, content };
}

/** Ana's email conversations, newest first, with their messages. */
async function anasThreads() {
  const { data: guard } = await stack.deps.db.entities.uniqueGuard
    .get({ workspaceId: acme.workspace.id, scope: channelScope('email'), value: 'ana.lopez@example.com' })
    .go({ consistent: true });
  const conversations = ((await get('/v1/conversations?view=all&limit=100')).body.items as { id: string; contactId: string; channel: string; subject: string | null }[]).filter(
    (cv) => cv.contactId === guard?.ownerId && cv.channel === 'email',
  );
  return Promise.all(
    conversations.map(async (cv) => ({ ...cv, messages: (await get(`/v1/conversations/${cv.id}/messages`)).body.items as { body: string; payload: { email: Record<string, unknown> } }[] })),
  );
}

let firstThread: string;
let firstMessageId: string;

describe('inbound mail', () => {
  it('opens a new conversation for a mail that continues no thread, with its text, subject and headers', async () => {
    const mail = received({ subject: 'Annual plan for teams?', text: 'Hi, do you have an annual plan for teams?' });
    const res = await post(mail.body);
    expect(res).toMatchObject({ status: 200, body: { stored: 1 } });
    const threads = await anasThreads();
    expect(threads).toHaveLength(1);
    expect(threads[0]).toMatchObject({ subject: 'Annual plan for teams?' });
    expect(threads[0]!.messages[0]).toMatchObject({
      body: 'Hi, do you have an annual plan for teams?',
      payload: { email: { messageIdHeader: mail.messageId, inReplyTo: null, references: [], subject: 'Annual plan for teams?' } },
    });
    firstThread = threads[0]!.id;
    firstMessageId = mail.messageId;
    // SNS delivers it again: nothing new.
    expect((await post(mail.body)).body).toMatchObject({ stored: 0, duplicate: 1 });
  });

  it('continues the conversation of the mail In-Reply-To names (our outbound mail’s id, as the send side stores it)', async () => {
    // The send side writes ours and SES's Message-ID for each outbound mail.
    await stack.deps.db.entities.uniqueGuard
      .put({ ...mailIdGuard(acme.workspace.id, '<OUT-1@mail.acme.example>'), ownerId: firstThread, createdAt: stack.clock.nowIso() })
      .go();
    const res = await post(received({ inReplyTo: '<out-1@mail.acme.example>', subject: 'Re: Annual plan', text: 'Thanks!' }).body);
    expect(res.body.stored).toBe(1);
    const threads = await anasThreads();
    expect(threads).toHaveLength(1);
    expect(threads[0]!.messages.map((message) => message.body)).toContain('Thanks!');
  });

  it('continues the conversation of the newest known References id when In-Reply-To is unknown', async () => {
    const res = await post(
      received({ inReplyTo: '<unknown@elsewhere>', references: [firstMessageId, '<unknown@elsewhere>'], text: 'One more thing' }).body,
    );
    expect(res.body.stored).toBe(1);
    const threads = await anasThreads();
    expect(threads).toHaveLength(1);
    expect(threads[0]!.messages.find((message) => message.body === 'One more thing')!.payload.email).toMatchObject({
      references: [firstMessageId, '<unknown@elsewhere>'],
      threadedBy: 'references',
    });
  });

  it('continues the conversation a reply+<conversation>@ recipient names when the headers name none', async () => {
    const address = `reply+${firstThread.toLowerCase()}@reply.acme.example`;
    const res = await post(received({ recipients: [address], text: 'Replying to the address' }).body);
    expect(res.body.stored).toBe(1);
    const threads = await anasThreads();
    expect(threads).toHaveLength(1);
    expect(threads[0]!.messages.map((message) => message.body)).toContain('Replying to the address');
  });

  it('opens another new conversation for a second new thread (not the contact’s latest)', async () => {
    await post(received({ subject: 'Invoice question', html: '<p>Where is my <b>invoice</b>?</p><p>Thanks &amp; regards</p>' }).body);
    const threads = await anasThreads();
    expect(threads).toHaveLength(2);
    const invoice = threads.find((thread) => thread.subject === 'Invoice question')!;
    expect(invoice.messages[0]!.body).toBe('Where is my invoice?\nThanks & regards');
  });

  it('reads a mail the receipt rule wrote to S3', async () => {
    const mail = received({ s3Key: 'inbound/mail-s3-1', subject: 'From S3', text: 'Stored in the bucket' });
    await stack.blobs.put('inbound/mail-s3-1', mail.content, 'message/rfc822');
    expect((await post(mail.body)).body.stored).toBe(1);
    const threads = await anasThreads();
    expect(threads.find((thread) => thread.subject === 'From S3')!.messages[0]!.body).toBe('Stored in the bucket');
  });

  it('keeps `Auto-Submitted` and `Precedence` (a mail no person wrote: the autoreply bot never answers it)', async () => {
    const mail = received({
      from: 'Out Of Office <ooo@example.com>',
      subject: 'Automatic reply: Question',
      text: 'I am out of the office until Monday.',
      headers: ['Auto-Submitted: auto-replied', 'Precedence: auto_reply'],
    });
    expect((await post(mail.body)).body.stored).toBe(1);
    const conversations = (await get('/v1/conversations?view=all&limit=100')).body.items as { id: string; subject: string | null }[];
    const auto = conversations.find((conversation) => conversation.subject === 'Automatic reply: Question')!;
    const [message] = (await get(`/v1/conversations/${auto.id}/messages`)).body.items as { payload: { email: Record<string, unknown> } }[];
    expect(message!.payload.email).toMatchObject({ autoSubmitted: 'auto-replied', precedence: 'auto_reply' });
  });
});

describe('SES events', () => {
  let n = 0;
  /** An outbound email in Ana's first thread, accepted by SES under `sesId`. */
  async function outbound(sesId: string) {
    n += 1;
    const at = stack.clock.nowIso();
    const key = { workspaceId: acme.workspace.id, conversationId: firstThread, messageId: `msg_OUTBOUND${n}` };
    await stack.deps.db.entities.message
      .create({
        ...key,
        authorKind: 'user',
        authorUserId: acme.owner.user.id,
        channel: 'email',
        kind: 'text',
        note: false,
        body: `outbound ${n}`,
        delivery: newDelivery(stack.deps, { connectionId: hooks.email, to: 'ana.lopez@example.com', jobId: `job_O${n}` }, at),
        deliveryVersion: 0,
        createdAt: at,
        updatedAt: at,
      } as never)
      .go();
    await recordAccepted(stack.deps, key, 1, { providerMessageId: sesId, providerStatus: 'accepted' });
    return key;
  }
  const sesEvent = (name: string, sesId: string) =>
    snsBody({
      TopicArn: eventsTopic,
      Message: fixtureText(`ses/${name}.json`).replaceAll('0100019a1b2c3d4e-5f6a7b8c-9d0e-4f1a-8b2c-3d4e5f6a7b8c-000000', sesId),
    });
  const eventTypes = async (messageId: string) =>
    ((await stack.deps.db.entities.event.query.byEntity({ workspaceId: acme.workspace.id, entityType: 'message', entityId: messageId } as never).go({ pages: 'all' }))
      .data as { type: string }[]).map((event) => event.type);

  it('an open reads the delivery (email.opened), a click records email.clicked; repeats change nothing', async () => {
    const key = await outbound('ses-open-1');
    for (const name of ['open', 'click', 'open']) expect((await post(sesEvent(name, 'ses-open-1'))).status).toBe(200);
    expect((await findDeliveredMessage(stack.deps, key))!.delivery.status).toBe('read');
    expect(await eventTypes(key.messageId)).toEqual(expect.arrayContaining(['email.opened', 'email.clicked']));
    expect((await eventTypes(key.messageId)).filter((type) => type === 'email.opened')).toHaveLength(1);
  });

  it('a permanent bounce fails the delivery (email.bounced, hard)', async () => {
    const key = await outbound('ses-bounce-1');
    expect((await post(sesEvent('bounce-permanent', 'ses-bounce-1'))).status).toBe(200);
    expect((await findDeliveredMessage(stack.deps, key))!.delivery.status).toBe('failed');
    expect(await eventTypes(key.messageId)).toContain('email.bounced');
  });

  it('a delivery delay or a soft bounce keeps a sent mail sent and shows why; a later delivery still delivers it', async () => {
    const delayed = await outbound('ses-delay-1');
    expect((await post(sesEvent('delivery-delay', 'ses-delay-1'))).body).toMatchObject({ stored: 1 });
    const attemptOf = async (key: typeof delayed) => (await findDeliveredMessage(stack.deps, key))!.delivery.attempts[0]!;
    expect(await attemptOf(delayed)).toMatchObject({
      status: 'sent',
      providerStatus: 'DeliveryDelay',
      error: { code: '4.4.1', message: 'smtp; 421 4.4.1 Unable to connect to remote host' },
    });
    expect((await post(sesEvent('delivery', 'ses-delay-1'))).body).toMatchObject({ stored: 1 });
    expect(await attemptOf(delayed)).toMatchObject({ status: 'delivered', providerStatus: 'Delivery' });

    const soft = await outbound('ses-soft-1');
    expect((await post(sesEvent('bounce-transient', 'ses-soft-1'))).status).toBe(200);
    expect(await attemptOf(soft)).toMatchObject({ status: 'sent', providerStatus: 'Bounce/Transient/MailboxFull', error: { code: expect.any(String) } });
    expect(await eventTypes(soft.messageId)).toContain('email.bounced');
  });

  it('each click is its own email.clicked (the same link again too); SNS sending a click again adds none', async () => {
    const key = await outbound('ses-clicks-1');
    const click = sesEvent('click', 'ses-clicks-1');
    const later = snsBody({
      TopicArn: eventsTopic,
      Message: fixtureText('ses/click.json')
        .replaceAll('0100019a1b2c3d4e-5f6a7b8c-9d0e-4f1a-8b2c-3d4e5f6a7b8c-000000', 'ses-clicks-1')
        .replace('2025-12-01T15:31:25.570Z', '2025-12-01T15:45:02.004Z'),
    });
    const otherLink = snsBody({
      TopicArn: eventsTopic,
      Message: fixtureText('ses/click.json')
        .replaceAll('0100019a1b2c3d4e-5f6a7b8c-9d0e-4f1a-8b2c-3d4e5f6a7b8c-000000', 'ses-clicks-1')
        .replace('https://acme.example/pricing?plan=annual', 'https://acme.example/contact'),
    });
    for (const body of [click, later, otherLink]) expect((await post(body)).body).toMatchObject({ stored: 1 });
    // SNS delivers a notification again when it got no answer in time: the same click, not a new one.
    expect((await post(click)).body).toMatchObject({ stored: 0, duplicate: 1 });
    const clicks = ((await stack.deps.db.entities.event.query.byEntity({ workspaceId: acme.workspace.id, entityType: 'message', entityId: key.messageId } as never).go({ pages: 'all' }))
      .data as { type: string; payload: { url: string } }[]).filter((event) => event.type === 'email.clicked');
    expect(clicks.map((event) => event.payload.url).sort()).toEqual([
      'https://acme.example/contact',
      'https://acme.example/pricing?plan=annual',
      'https://acme.example/pricing?plan=annual',
    ]);
  });

  it('a complaint suppresses the contact', async () => {
    await outbound('ses-complaint-1');
    expect((await post(sesEvent('complaint', 'ses-complaint-1'))).status).toBe(200);
    const { data: guard } = await stack.deps.db.entities.uniqueGuard
      .get({ workspaceId: acme.workspace.id, scope: channelScope('email'), value: 'ana.lopez@example.com' })
      .go({ consistent: true });
    expect((await get(`/v1/contacts/${guard!.ownerId}`)).body).toMatchObject({ suppressed: true });
  });
});

describe('SES events on the contact’s timeline', () => {
  const fake = createFakeChannelAdapters();
  beforeAll(() => setChannelAdapters(fake));
  afterAll(() => setChannelAdapters(undefined));

  /** Sends Carla an email through the API; its job hands it to "SES", which answers `sesId`. */
  async function emailCarla(contactId: string, sesId: string) {
    const res = await stack.api('POST', `/v1/contacts/${contactId}/messages`, {
      token: acme.owner.token,
      body: { body: 'Your quote is ready: https://acme.example/pricing?plan=annual', channel: 'email', subject: 'Your quote' },
    });
    expect(res.status).toBe(201);
    const key = { workspaceId: acme.workspace.id, conversationId: res.body.conversationId as string, messageId: res.body.id as string };
    const { jobId } = (await findDeliveredMessage(stack.deps, key))!.delivery;
    const job = (await findJob(stack.deps, acme.workspace.id, jobId, true))!;
    fake.next({ accept: true, providerMessageId: sesId });
    await runJobMessage(withDeliveryDeps(withBlobStore(stack.deps)), deliverMessageJob, {
      workspaceId: acme.workspace.id,
      jobId: job.jobId,
      seq: job.dispatchSeq,
    }, { deadlineReached: () => false });
    expect((await findDeliveredMessage(stack.deps, key))!.delivery.status).toBe('sent');
    return key;
  }
  const notify = (name: string, sesId: string) =>
    post(
      snsBody({
        TopicArn: eventsTopic,
        Message: fixtureText(`ses/${name}.json`).replaceAll('0100019a1b2c3d4e-5f6a7b8c-9d0e-4f1a-8b2c-3d4e5f6a7b8c-000000', sesId),
      }),
    );

  it('shows the mail delivered, opened, clicked and bounced on the contact it went to', async () => {
    const carla = await contactWith(stack, acme, [{ kind: 'email', value: 'carla.timeline@example.com' }], 'Carla Timeline');
    const read = await emailCarla(carla.id, 'ses-timeline-1');
    for (const name of ['delivery', 'open', 'click']) expect((await notify(name, 'ses-timeline-1')).body).toMatchObject({ stored: 1 });
    const bounced = await emailCarla(carla.id, 'ses-timeline-2');
    expect((await notify('bounce-permanent', 'ses-timeline-2')).body).toMatchObject({ stored: 1 });

    const res = await get(`/v1/contacts/${carla.id}/timeline?limit=100`);
    expect(res.status).toBe(200);
    const about = (messageId: string) =>
      (res.body.items as { event: { type: string; payload: { messageId?: string; from?: string; to?: string } } }[])
        .map((entry) => entry.event)
        .filter((event) => event.payload.messageId === messageId)
        .map((event) => (event.type === 'delivery.status_changed' ? `${event.type} ${event.payload.from}>${event.payload.to}` : event.type))
        .sort();
    expect(about(read.messageId)).toEqual([
      'delivery.status_changed delivered>read',
      'delivery.status_changed queued>sent',
      'delivery.status_changed sent>delivered',
      'email.clicked',
      'email.opened',
      'email.sent',
    ]);
    expect(about(bounced.messageId)).toEqual(['delivery.status_changed queued>sent', 'delivery.status_changed sent>failed', 'email.bounced', 'email.sent']);
  });
});

describe('SNS', () => {
  it('confirms a subscription to an expected topic by visiting its SubscribeURL', async () => {
    const fixture = JSON.parse(fixtureText('sns/subscription-confirmation.json')) as Record<string, string>;
    const body = snsBody({
      Type: 'SubscriptionConfirmation',
      TopicArn: eventsTopic,
      Message: fixture.Message!,
      SubscribeURL: fixture.SubscribeURL!,
      Token: fixture.Token!,
    });
    const res = await post(body);
    expect(res).toMatchObject({ status: 200, body: { confirmed: 1 } });
    expect(sns.confirmations).toHaveLength(1);
    expect(sns.confirmations[0]).toContain(`Token=${fixture.Token}`);
    expect(sns.certificateFetches()).toBe(1);
  });

  it('under npm start, confirms the subscription against the provider sandbox (README: confirmed automatically)', async () => {
    const sandbox = await startProviderSandbox();
    const saved = { cert: process.env.SNS_CERTIFICATE_BASE_URL, subscribe: process.env.SNS_SUBSCRIBE_BASE_URL };
    // The handler's SNS settings exactly as local/start.ts gives them.
    Object.assign(process.env, sandboxSnsEnvironment(sandbox.url));
    resetConfig();
    resetChannelHookPorts();
    try {
      const token = randomUUID().replaceAll('-', '');
      // A SubscriptionConfirmation as SNS posts it (SignatureVersion 2), signed by the sandbox's key.
      const message: Record<string, string> = {
        Type: 'SubscriptionConfirmation',
        MessageId: randomUUID(),
        Token: token,
        TopicArn: eventsTopic,
        Message: `You have chosen to subscribe to the topic ${eventsTopic}.\nTo confirm the subscription, visit the SubscribeURL included in this message.`,
        SubscribeURL: `https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${encodeURIComponent(eventsTopic)}&Token=${token}`,
        Timestamp: stack.clock.nowIso(),
        SignatureVersion: '2',
      };
      const signed = ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'].map((name) => `${name}\n${message[name]}\n`).join('');
      const body = JSON.stringify({
        ...message,
        Signature: createSign('RSA-SHA256').update(signed, 'utf8').sign(snsSigningKey, 'base64'),
        SigningCertURL: 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-sandbox.pem',
      });
      expect(await post(body)).toMatchObject({ status: 200, body: { confirmed: 1 } });
      const confirmed = (await (await fetch(`${sandbox.url}/_sandbox/subscriptions`)).json()) as { subscriptions: { topicArn: string; token: string }[] };
      expect(confirmed.subscriptions).toEqual([expect.objectContaining({ topicArn: eventsTopic, token })]);
    } finally {
      process.env.SNS_CERTIFICATE_BASE_URL = saved.cert;
      process.env.SNS_SUBSCRIBE_BASE_URL = saved.subscribe;
      resetConfig();
      resetChannelHookPorts();
      await sandbox.stop();
    }
  });

  it('refuses another topic, a forged signature or an unsigned body, writing nothing', async () => {
    const before = await itemCount(stack);
    const other = snsBody({ TopicArn: 'arn:aws:sns:us-east-1:123456789012:someone-else', Message: '{}' });
    expect((await post(other)).status).toBe(403);
    const forged = JSON.parse(received({ text: 'forged' }).body) as Record<string, string>;
    forged.Message = forged.Message!.replace('forged', 'FORGED');
    expect((await post(JSON.stringify(forged))).status).toBe(403);
    const { Signature: _dropped, ...unsigned } = forged;
    expect((await post(JSON.stringify(unsigned))).status).toBe(401);
    expect(await itemCount(stack)).toBe(before);
  });
});

describe('a mail for another workspace on the same topic', () => {
  it('stores a mail only at a connection one of whose addresses or domains received it: SNS sends every subscriber the same mail', async () => {
    // Another workspace subscribes its own email connection to the same topic (one SES account serves all).
    const globex = await seedWorkspace(stack, 'Globex');
    const theirs = await stack.api('POST', '/v1/channels', {
      token: globex.owner.token,
      body: {
        kind: 'email',
        name: 'Globex mail',
        settings: { sesIdentity: 'globex.example', fromAddress: 'hello@globex.example', replyDomain: 'reply.globex.example', snsTopicArns: [inboundTopic] },
      },
    });
    expect(theirs.status).toBe(201);
    // Nor may it claim Acme's domains to read Acme's mail or send as Acme: a domain is one workspace's.
    for (const [settings, field] of [
      [{ sesIdentity: 'acme.example', fromAddress: 'support@acme.example', replyDomain: 'reply.globex.example' }, 'body.settings.sesIdentity'],
      [{ sesIdentity: 'globex.example', fromAddress: 'sales@globex.example', replyDomain: 'reply.acme.example' }, 'body.settings.replyDomain'],
    ] as const) {
      const squat = await stack.api('POST', '/v1/channels', { token: globex.owner.token, body: { kind: 'email', name: 'Squat', settings } });
      expect(squat.status, field).toBe(409);
      expect(squat.body).toMatchObject({ code: 'domain_taken', errors: [{ field }] });
    }
    const moved = await stack.api('PATCH', `/v1/channels/${theirs.body.id}`, { token: globex.owner.token, body: { kind: 'email', settings: { replyDomain: 'reply.acme.example' } } });
    expect(moved.status).toBe(409);
    // A second connection of the same workspace may share its domains.
    const second = await stack.api('POST', '/v1/channels', {
      token: globex.owner.token,
      body: { kind: 'email', name: 'Sales', settings: { sesIdentity: 'globex.example', fromAddress: 'sales@globex.example', replyDomain: 'reply.globex.example' } },
    });
    expect(second.status).toBe(201);
    const mail = received({ subject: 'Our renewal terms', text: 'CONFIDENTIAL: renewal terms for Acme' });
    const atGlobex = await hook(`/hooks/ses/${theirs.body.id}`, { body: mail.body, headers: { 'content-type': 'text/plain; charset=UTF-8' } });
    expect(atGlobex).toMatchObject({ status: 200, body: { stored: 0, ignored: 1 } });
    const seen = await stack.api('GET', '/v1/conversations', { token: globex.owner.token, query: { channel: 'email' } });
    expect(seen.body.items).toEqual([]);
    expect((await stack.api('GET', '/v1/contacts/search', { token: globex.owner.token, query: { q: 'ana' } })).body.items).toEqual([]);
    // At Acme's connection the same mail is stored; so is one to an address of Acme's domain, any case.
    expect((await post(mail.body)).body).toMatchObject({ stored: 1 });
    expect((await post(received({ recipients: ['Sales@ACME.example'], text: 'To sales' }).body)).body).toMatchObject({ stored: 1 });
    // A mail to Globex's address alone is Globex's: not stored at Acme's hook.
    expect((await post(received({ recipients: ['hello@globex.example'], text: 'For Globex' }).body)).body).toMatchObject({ stored: 0, ignored: 1 });
  });
});
