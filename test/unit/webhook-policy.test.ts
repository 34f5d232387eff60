import { describe, expect, it } from 'vitest';
import { nextAttemptMs, retryDelayMs } from '../../domain/webhooks/webhook-delivery-record';
import { classifyAddress, resolveWebhookTarget, UnsafeWebhookUrl } from '../../domain/webhooks/webhook-url';
import { webhookSettings } from '../../domain/webhooks/webhooks.schemas';

describe('webhook address classes', () => {
  it.each([
    ['93.184.215.14', 'public'],
    ['2606:4700:4700::1111', 'public'],
    ['127.0.0.1', 'loopback'],
    ['127.8.9.10', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['10.0.0.1', 'forbidden'],
    ['172.31.255.255', 'forbidden'],
    ['192.168.0.1', 'forbidden'],
    ['169.254.169.254', 'forbidden'],
    ['100.64.0.1', 'forbidden'],
    ['224.0.0.251', 'forbidden'],
    ['255.255.255.255', 'forbidden'],
    ['0.0.0.0', 'forbidden'],
    ['::', 'forbidden'],
    ['fe80::1', 'forbidden'],
    ['fd12:3456::1', 'forbidden'],
    ['ff02::1', 'forbidden'],
    ['::ffff:10.0.0.1', 'forbidden'],
    ['::ffff:169.254.169.254', 'forbidden'],
    ['64:ff9b::a00:1', 'forbidden'],
    ['2002:a00:1::', 'forbidden'],
  ])('%s is %s', (address, kind) => {
    expect(classifyAddress(address).kind).toBe(kind);
  });

  it('refuses a name when any of its addresses is forbidden, and plain http to anything but loopback', async () => {
    const resolver = (addresses: string[]) => async () => addresses.map((address) => ({ address, family: address.includes(':') ? (6 as const) : (4 as const) }));
    await expect(resolveWebhookTarget('https://mixed.example/x', { allowLoopback: true }, resolver(['93.184.215.14', '10.0.0.7']))).rejects.toThrow(UnsafeWebhookUrl);
    await expect(resolveWebhookTarget('http://public.example/x', { allowLoopback: true }, resolver(['93.184.215.14']))).rejects.toThrow(/https/);
    await expect(resolveWebhookTarget('https://public.example/x', { allowLoopback: false }, resolver(['93.184.215.14']))).resolves.toEqual({
      address: '93.184.215.14',
      family: 4,
    });
    await expect(resolveWebhookTarget('http://127.0.0.1:4000/x', { allowLoopback: true }, resolver([]))).resolves.toMatchObject({ address: '127.0.0.1' });
    await expect(resolveWebhookTarget('https://gone.example/x', { allowLoopback: true }, async () => Promise.reject(new Error('ENOTFOUND')))).rejects.toThrow(/does not resolve/);
  });
});

describe('webhook retry schedule', () => {
  it('waits 5 s, then 4 times longer each time, at most 12 h', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 20].map(retryDelayMs)).toEqual([5_000, 20_000, 80_000, 320_000, 1_280_000, 5_120_000, 20_480_000, 43_200_000, 43_200_000]);
  });

  it('tries for 3 days, the last attempt at the window’s very end, then gives up', () => {
    const start = Date.parse('2026-01-15T00:00:00Z');
    const times = [start];
    for (let next = nextAttemptMs(start, 1, start); next !== undefined; next = nextAttemptMs(start, times.length, times.at(-1)!)) times.push(next);
    expect(times.at(-1)! - start).toBe(webhookSettings.retryWindowMs);
    expect(times.length).toBe(14);
    expect(Math.max(...times.slice(1).map((at, index) => at - times[index]!))).toBeLessThanOrEqual(webhookSettings.maxRetryDelayMs);
  });
});
