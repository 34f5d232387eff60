import { afterEach, describe, expect, it } from 'vitest';
import { scaledBackoffSeconds } from '../../domain/channels/deliveries/deliver-message.job';
import { autoRetryBackoffSeconds } from '../../domain/channels/deliveries/delivery-sender';

describe('the delivery back-off scale (DELIVERY_BACKOFF_SCALE, for the failure bench)', () => {
  afterEach(() => {
    delete process.env.DELIVERY_BACKOFF_SCALE;
  });

  it('waits the back-off itself when unset', () => {
    expect(autoRetryBackoffSeconds.map((seconds) => scaledBackoffSeconds(seconds))).toEqual([5, 30, 120, 600, 900]);
  });

  it('shortens it to whole seconds, at least 1, when set', () => {
    process.env.DELIVERY_BACKOFF_SCALE = '0.01';
    expect(autoRetryBackoffSeconds.map((seconds) => scaledBackoffSeconds(seconds))).toEqual([1, 1, 2, 6, 9]);
    expect(scaledBackoffSeconds(30, 0.5)).toBe(15);
  });

  it('ignores a value that is not a number', () => {
    process.env.DELIVERY_BACKOFF_SCALE = 'fast';
    expect(scaledBackoffSeconds(120)).toBe(120);
  });
});
