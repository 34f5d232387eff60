import { describe, expect, it } from 'vitest';
import { modelRetrySeconds } from '../../domain/bot/bot-reply.job';

describe('the bot’s waits while its model is throttled (BOT_MODEL_RETRY_SECONDS)', () => {
  it('deployed: 3, 10, 30 and 60 seconds, then people (about 100 s in all)', () => {
    expect(modelRetrySeconds(undefined)).toEqual([3, 10, 30, 60]);
    expect(modelRetrySeconds('')).toEqual([3, 10, 30, 60]);
  });

  it('a list of whole seconds replaces them', () => {
    expect(modelRetrySeconds('1,1')).toEqual([1, 1]);
    expect(modelRetrySeconds(' 5, 20 ')).toEqual([5, 20]);
  });

  it('anything else is ignored rather than waiting forever or not at all', () => {
    for (const value of ['0', '-1,2', 'fast', '1,,2', '901', '1.5']) expect(modelRetrySeconds(value), value).toEqual([3, 10, 30, 60]);
  });
});
