import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveryStatusEvent } from '../../domain/channels/inbound-events';
import {
  applyProviderStatus,
  beginProviderCall,
  findDeliveredMessage,
  newDelivery,
  recordAccepted,
  recordAttemptFailed,
  recordAutoRetry,
  retriedDelivery,
  type MessageKey,
} from '../../domain/channels/deliveries/deliveries.service';
import { advanceAttempt, newAttempt } from '../../domain/channels/deliveries/delivery-state';
import { createTestStack, seedWorkspace, type TestStack } from '../support/test-stack';

let stack: TestStack;
let acme: Awaited<ReturnType<typeof seedWorkspace>>;
let globex: Awaited<ReturnType<typeof seedWorkspace>>;

beforeAll(async () => {
  stack = await createTestStack();
  acme = await seedWorkspace(stack, 'Acme');
  globex = await seedWorkspace(stack, 'Globex');
});
afterAll(() => stack?.destroy());

const connectionId = 'chc_TEST';
let n = 0;

/** An outbound WhatsApp message with a queued delivery, written as the send path writes it. */
async function queuedMessage(workspaceId = acme.workspace.id): Promise<MessageKey> {
  n += 1;
  const at = stack.clock.nowIso();
  const key = { workspaceId, conversationId: `cnv_D${n}`, messageId: `msg_D${n}` };
  await stack.deps.db.entities.message
    .create({
      ...key,
      authorKind: 'user',
      authorUserId: 'usr_X',
      channel: 'whatsapp',
      kind: 'text',
      note: false,
      body: `hello ${n}`,
      delivery: newDelivery(stack.deps, { connectionId, to: '+15551230000', jobId: `job_D${n}` }, at),
      deliveryVersion: 0,
      createdAt: at,
      updatedAt: at,
    } as never)
    .go();
  return key;
}

const status = (providerMessageId: string, value: DeliveryStatusEvent['status'], extra: Partial<DeliveryStatusEvent> = {}): DeliveryStatusEvent => ({
  type: 'delivery_status',
  provider: 'whatsapp',
  dedupeKeys: [`wa:status:${providerMessageId}:${value}`],
  channel: 'whatsapp',
  providerMessageId,
  recipient: '+15551230000',
  providerStatus: value ?? 'unknown',
  status: value,
  at: null,
  error: null,
  email: null,
  sendReference: null,
  ...extra,
});

const conn = () => ({ workspaceId: acme.workspace.id, connectionId });

/** The message's `delivery.status_changed` moves (`from>to`), sorted. */
async function statusMoves(key: MessageKey) {
  const { data: events } = await stack.deps.db.entities.event.query
    .byEntity({ workspaceId: key.workspaceId, entityType: 'message', entityId: key.messageId })
    .go({ pages: 'all' });
  return events
    .filter((event) => event.type === 'delivery.status_changed')
    .map((event) => `${(event.payload as { from: string }).from}>${(event.payload as { to: string }).to}`)
    .sort();
}

describe('the delivery state machine', () => {
  const sent = { ...newAttempt(1, 'send', null, 't0'), status: 'sent' as const, sentAt: 't0' };
  const update = (value: 'sent' | 'delivered' | 'read' | 'failed' | null, error: { code: string; message: string } | null = null) => ({
    status: value,
    providerStatus: value,
    at: 't1',
    error,
  });

  it('moves forward only; read implies delivered; failed is final', () => {
    const read = advanceAttempt(sent, update('read'))!;
    expect(read).toMatchObject({ status: 'read', deliveredAt: 't1', readAt: 't1' });
    expect(advanceAttempt(read, update('delivered'))).toBeNull();
    expect(advanceAttempt(read, update('failed'))).toBeNull();
    const delivered = advanceAttempt(sent, update('delivered'))!;
    expect(advanceAttempt(delivered, update('sent'))).toBeNull();
    expect(advanceAttempt(delivered, update('delivered'))).toBeNull();
    const failed = advanceAttempt(delivered, update('failed', { code: '131026', message: 'Undeliverable' }))!;
    expect(failed).toMatchObject({ status: 'failed', error: { code: '131026' } });
    expect(advanceAttempt(failed, update('read'))).toBeNull();
  });

  it('keeps the state and records the error of a transient problem', () => {
    const delayed = advanceAttempt(sent, update(null, { code: 'Transient', message: 'Mailbox full' }))!;
    expect(delayed).toMatchObject({ status: 'sent', error: { code: 'Transient' } });
    expect(advanceAttempt(delayed, update(null, { code: 'Transient', message: 'Mailbox full' }))).toBeNull();
    expect(advanceAttempt(sent, update(null))).toBeNull();
  });
});

describe('deliveries against the table', () => {
  it('a send: the call starts, the provider accepts, callbacks move it monotonically', async () => {
    const key = await queuedMessage();
    const start = await beginProviderCall(stack.deps, key, 1);
    expect(start).toMatchObject({ go: true, resumed: false });
    // A second run of the same job message sees the call started.
    expect(await beginProviderCall(stack.deps, key, 1)).toMatchObject({ go: true, resumed: true });

    await recordAccepted(stack.deps, key, 1, { providerMessageId: 'wamid.A1', providerStatus: 'accepted' });
    await recordAccepted(stack.deps, key, 1, { providerMessageId: 'wamid.A1', providerStatus: 'accepted' });
    // Accepted: nothing more to send for this attempt.
    expect(await beginProviderCall(stack.deps, key, 1)).toMatchObject({ go: false, reason: 'not_queued' });

    expect(await applyProviderStatus(stack.deps, conn(), status('wamid.A1', 'delivered'))).toBe('applied');
    expect(await applyProviderStatus(stack.deps, conn(), status('wamid.A1', 'delivered'))).toBe('unchanged');
    // A late "sent" after "delivered" changes nothing.
    expect(await applyProviderStatus(stack.deps, conn(), status('wamid.A1', 'sent'))).toBe('unchanged');
    expect(await applyProviderStatus(stack.deps, conn(), status('wamid.A1', 'read'))).toBe('applied');
    const message = await findDeliveredMessage(stack.deps, key);
    expect(message?.delivery).toMatchObject({ status: 'read', attempt: 1 });
    expect(message?.delivery.attempts[0]).toMatchObject({ providerMessageId: 'wamid.A1', status: 'read' });

    expect(await statusMoves(key)).toEqual(['delivered>read', 'queued>sent', 'sent>delivered'].sort());
  });

  it('a status that arrives before the provider id is recorded is applied when it is', async () => {
    const key = await queuedMessage();
    await beginProviderCall(stack.deps, key, 1);
    expect(await applyProviderStatus(stack.deps, conn(), status('wamid.EARLY', 'delivered'))).toBe('pending');
    expect(await applyProviderStatus(stack.deps, conn(), status('wamid.EARLY', 'delivered'))).toBe('pending');
    const message = await recordAccepted(stack.deps, key, 1, { providerMessageId: 'wamid.EARLY', providerStatus: null });
    expect(message?.delivery.status).toBe('delivered');
    const { data: left } = await stack.deps.db.entities.pendingProviderStatus.query
      .byProviderMessage({ workspaceId: key.workspaceId, connectionId, providerMessageId: 'wamid.EARLY' })
      .go();
    expect(left).toEqual([]);
  });

  it('a failure, then a retry: a new attempt with its own provider id; the old attempt’s callbacks stay on it', async () => {
    const key = await queuedMessage();
    await beginProviderCall(stack.deps, key, 1);
    await recordAutoRetry(stack.deps, key, 1, { code: '503', message: 'Service unavailable' });
    let message = await findDeliveredMessage(stack.deps, key);
    expect(message?.delivery).toMatchObject({ status: 'queued', autoRetries: 1 });
    await recordAccepted(stack.deps, key, 1, { providerMessageId: 'wamid.R1', providerStatus: null });
    await applyProviderStatus(stack.deps, conn(), status('wamid.R1', 'failed', { error: { code: '131026', message: 'Message undeliverable' } }));
    message = await findDeliveredMessage(stack.deps, key);
    expect(message?.delivery).toMatchObject({ status: 'failed' });
    expect(message?.delivery.attempts[0]?.error).toEqual({ code: '131026', message: 'Message undeliverable' });

    const retried = retriedDelivery(message!.delivery, 'manual_retry', 'usr_X', 'job_RETRY', stack.clock.nowIso())!;
    expect(retried).toMatchObject({ status: 'queued', attempt: 2, jobId: 'job_RETRY' });
    expect(retriedDelivery(retried, 'manual_retry', 'usr_X', 'job_AGAIN', stack.clock.nowIso())).toBeUndefined();
    await stack.deps.db.entities.message.patch(key).set({ delivery: retried, deliveryVersion: message!.deliveryVersion + 1 } as never).go();
    expect(await beginProviderCall(stack.deps, key, 1)).toMatchObject({ go: false, reason: 'superseded' });
    expect(await beginProviderCall(stack.deps, key, 2)).toMatchObject({ go: true });
    await recordAccepted(stack.deps, key, 2, { providerMessageId: 'wamid.R2', providerStatus: null });
    // The first attempt's late "read" does not touch the second.
    await applyProviderStatus(stack.deps, conn(), status('wamid.R1', 'read'));
    await applyProviderStatus(stack.deps, conn(), status('wamid.R2', 'delivered'));
    message = await findDeliveredMessage(stack.deps, key);
    expect(message?.delivery.status).toBe('delivered');
    expect(message?.delivery.attempts.map((each) => [each.providerMessageId, each.status])).toEqual([
      ['wamid.R1', 'failed'],
      ['wamid.R2', 'delivered'],
    ]);
  });

  it('a refusal fails the attempt with the provider’s reason', async () => {
    const key = await queuedMessage();
    await beginProviderCall(stack.deps, key, 1);
    await recordAttemptFailed(stack.deps, key, 1, { code: '131047', message: 'Re-engagement message' });
    const message = await findDeliveredMessage(stack.deps, key);
    expect(message?.delivery).toMatchObject({ status: 'failed' });
    expect(message?.delivery.attempts[0]).toMatchObject({ error: { code: '131047' }, failedAt: expect.any(String) });
  });

  it('concurrent callbacks in any order end at the highest status, with one event per move', async () => {
    const key = await queuedMessage();
    await beginProviderCall(stack.deps, key, 1);
    await recordAccepted(stack.deps, key, 1, { providerMessageId: 'wamid.C1', providerStatus: null });
    const values = ['delivered', 'read', 'sent', 'delivered', 'read', 'sent'] as const;
    await Promise.all(values.map((value) => applyProviderStatus(stack.deps, conn(), status('wamid.C1', value))));
    const message = await findDeliveredMessage(stack.deps, key);
    expect(message?.delivery.status).toBe('read');
  });

  it('another workspace’s connection does not reach the message', async () => {
    const key = await queuedMessage();
    await beginProviderCall(stack.deps, key, 1);
    await recordAccepted(stack.deps, key, 1, { providerMessageId: 'wamid.ISO', providerStatus: null });
    const outcome = await applyProviderStatus(
      stack.deps,
      { workspaceId: globex.workspace.id, connectionId },
      status('wamid.ISO', 'read'),
    );
    expect(outcome).toBe('pending');
    expect((await findDeliveredMessage(stack.deps, key))?.delivery.status).toBe('sent');
  });
});

describe('a send whose answer was lost: the first status that names the attempt marks it sent', () => {
  const referenced = (key: MessageKey, attempt = 1) => ({ conversationId: key.conversationId, messageId: key.messageId, attempt });

  it('adopts the status’s id as the attempt’s, applies the status, and the job’s next run sends nothing', async () => {
    const key = await queuedMessage();
    await beginProviderCall(stack.deps, key, 1);
    // The call timed out: the re-send is counted and waits; meanwhile the provider's status arrives.
    await recordAutoRetry(stack.deps, key, 1, { code: 'timeout', message: 'no answer within 300 ms' });
    const outcome = await applyProviderStatus(stack.deps, conn(), status('wamid.LOST', 'delivered', { sendReference: referenced(key) }));
    expect(outcome).toBe('applied');
    const message = await findDeliveredMessage(stack.deps, key);
    expect(message?.delivery).toMatchObject({ status: 'delivered', attempt: 1 });
    expect(message?.delivery.attempts[0]).toMatchObject({ providerMessageId: 'wamid.LOST', status: 'delivered', error: null });
    expect(await beginProviderCall(stack.deps, key, 1)).toMatchObject({ go: false, reason: 'not_queued' });
    // Later statuses find it by the id, as any other.
    expect(await applyProviderStatus(stack.deps, conn(), status('wamid.LOST', 'read'))).toBe('applied');
    expect(await statusMoves(key)).toEqual(['delivered>read', 'queued>sent', 'sent>delivered'].sort());
  });

  it('a reference to an attempt already accepted under another id changes nothing (kept pending)', async () => {
    const key = await queuedMessage();
    await beginProviderCall(stack.deps, key, 1);
    await recordAccepted(stack.deps, key, 1, { providerMessageId: 'wamid.FIRST', providerStatus: null });
    const outcome = await applyProviderStatus(stack.deps, conn(), status('wamid.SECOND', 'read', { sendReference: referenced(key) }));
    expect(outcome).toBe('pending');
    expect((await findDeliveredMessage(stack.deps, key))?.delivery.attempts[0]).toMatchObject({ providerMessageId: 'wamid.FIRST', status: 'sent' });
  });

  it('a reference from another connection or workspace, or to another attempt, adopts nothing', async () => {
    const key = await queuedMessage();
    await beginProviderCall(stack.deps, key, 1);
    const other = { workspaceId: acme.workspace.id, connectionId: 'chc_OTHER' };
    expect(await applyProviderStatus(stack.deps, other, status('wamid.X1', 'sent', { sendReference: referenced(key) }))).toBe('pending');
    const globexConn = { workspaceId: globex.workspace.id, connectionId };
    expect(await applyProviderStatus(stack.deps, globexConn, status('wamid.X2', 'sent', { sendReference: referenced(key) }))).toBe('pending');
    expect(await applyProviderStatus(stack.deps, conn(), status('wamid.X3', 'sent', { sendReference: referenced(key, 2) }))).toBe('pending');
    const message = await findDeliveredMessage(stack.deps, key);
    expect(message?.delivery.attempts[0]).toMatchObject({ status: 'queued', providerMessageId: null });
  });

  it('the send’s own late answer after a callback adopted the same id changes nothing', async () => {
    const key = await queuedMessage();
    await beginProviderCall(stack.deps, key, 1);
    await applyProviderStatus(stack.deps, conn(), status('wamid.SAME', 'sent', { sendReference: referenced(key) }));
    await recordAccepted(stack.deps, key, 1, { providerMessageId: 'wamid.SAME', providerStatus: 'accepted' });
    const message = await findDeliveredMessage(stack.deps, key);
    expect(message?.delivery.attempts[0]).toMatchObject({ providerMessageId: 'wamid.SAME', status: 'sent' });
  });
});
