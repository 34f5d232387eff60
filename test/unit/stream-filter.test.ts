import { describe, expect, it } from 'vitest';
import { streamConsumers } from '../../functions/streams/stream-consumers';
import { assertSupportedPattern, matchesAnyPattern, matchesPattern } from '../../functions/streams/stream-filter';

const record = (eventName: string, newImage?: Record<string, unknown>) => ({
  eventID: 'e1',
  eventName,
  eventSource: 'aws:dynamodb',
  dynamodb: {
    Keys: { pk: { S: 'WS#ws_1#ENTITY#user#usr_1' }, sk: { S: 'EVENT#evt_1' } },
    ...(newImage ? { NewImage: newImage } : {}),
    SequenceNumber: '100',
    SizeBytes: 120,
  },
});

const eventInsert = record('INSERT', {
  __edb_e__: { S: 'event' },
  type: { S: 'user.added' },
  tags: { L: [] },
});

describe('the event-fanout filter as deployed', () => {
  const patterns = streamConsumers.find((consumer) => consumer.name === 'event-fanout')!.filterPatterns;

  it('lets event inserts through and nothing else', () => {
    expect(matchesAnyPattern(patterns, eventInsert)).toBe(true);
    expect(matchesAnyPattern(patterns, record('MODIFY', { __edb_e__: { S: 'event' } }))).toBe(false);
    expect(matchesAnyPattern(patterns, record('INSERT', { __edb_e__: { S: 'user' } }))).toBe(false);
    expect(matchesAnyPattern(patterns, record('REMOVE'))).toBe(false);
  });

  it('is made only of supported syntax', () => {
    for (const pattern of patterns) expect(() => assertSupportedPattern(pattern)).not.toThrow();
  });
});

describe('matchesPattern', () => {
  it('matches exact values in an array, any of them', () => {
    expect(matchesPattern({ eventName: ['INSERT', 'MODIFY'] }, record('MODIFY'))).toBe(true);
    expect(matchesPattern({ eventName: ['INSERT', 'MODIFY'] }, record('REMOVE'))).toBe(false);
    expect(matchesPattern({ dynamodb: { SizeBytes: [120] } }, eventInsert)).toBe(true);
    expect(matchesPattern({ dynamodb: { SizeBytes: ['120'] } }, eventInsert)).toBe(false);
  });

  it('requires every field of a pattern (AND), while patterns of a list are alternatives (OR)', () => {
    const both = { eventName: ['INSERT'], dynamodb: { NewImage: { type: { S: ['user.updated'] } } } };
    expect(matchesPattern(both, eventInsert)).toBe(false);
    expect(matchesAnyPattern([both, { eventName: ['INSERT'] }], eventInsert)).toBe(true);
    expect(matchesAnyPattern([], eventInsert)).toBe(true);
  });

  it('descends into nested objects, and a missing branch matches nothing but exists:false', () => {
    expect(matchesPattern({ dynamodb: { NewImage: { type: { S: ['user.added'] } } } }, eventInsert)).toBe(
      true,
    );
    expect(matchesPattern({ dynamodb: { OldImage: { type: { S: ['user.added'] } } } }, eventInsert)).toBe(
      false,
    );
    expect(matchesPattern({ dynamodb: { OldImage: { type: [{ exists: false }] } } }, eventInsert)).toBe(true);
  });

  it('supports exists true and false', () => {
    expect(matchesPattern({ dynamodb: { NewImage: { type: { S: [{ exists: true }] } } } }, eventInsert)).toBe(
      true,
    );
    expect(matchesPattern({ dynamodb: { NewImage: { gone: { S: [{ exists: true }] } } } }, eventInsert)).toBe(
      false,
    );
    expect(matchesPattern({ dynamodb: { NewImage: [{ exists: false }] } }, record('REMOVE'))).toBe(true);
    expect(matchesPattern({ dynamodb: { NewImage: [{ exists: false }] } }, eventInsert)).toBe(false);
  });

  it('supports prefix, suffix, equals-ignore-case and anything-but', () => {
    const type = (matcher: unknown) => ({ dynamodb: { NewImage: { type: { S: [matcher] } } } });
    expect(matchesPattern(type({ prefix: 'user.' }), eventInsert)).toBe(true);
    expect(matchesPattern(type({ prefix: 'token.' }), eventInsert)).toBe(false);
    expect(matchesPattern(type({ suffix: '.added' }), eventInsert)).toBe(true);
    expect(matchesPattern(type({ 'equals-ignore-case': 'USER.ADDED' }), eventInsert)).toBe(true);
    expect(matchesPattern(type({ 'anything-but': ['user.added'] }), eventInsert)).toBe(false);
    expect(matchesPattern(type({ 'anything-but': 'token.created' }), eventInsert)).toBe(true);
    expect(matchesPattern(type({ 'anything-but': { prefix: 'user.' } }), eventInsert)).toBe(false);
    // A prefix never matches a missing field or a non-string.
    expect(matchesPattern({ dynamodb: { SizeBytes: [{ prefix: '1' }] } }, eventInsert)).toBe(false);
  });

  it('supports numeric ranges', () => {
    expect(
      matchesPattern({ dynamodb: { SizeBytes: [{ numeric: ['>', 100, '<=', 120] }] } }, eventInsert),
    ).toBe(true);
    expect(matchesPattern({ dynamodb: { SizeBytes: [{ numeric: ['<', 100] }] } }, eventInsert)).toBe(false);
  });

  it('matches an array value when any element matches', () => {
    expect(matchesPattern({ tags: ['b'] }, { tags: ['a', 'b'] })).toBe(true);
    expect(matchesPattern({ tags: ['c'] }, { tags: ['a', 'b'] })).toBe(false);
  });

  it('matches null only against null', () => {
    expect(matchesPattern({ owner: [null] }, { owner: null })).toBe(true);
    expect(matchesPattern({ owner: [null] }, {})).toBe(false);
  });
});

describe('assertSupportedPattern', () => {
  it('refuses syntax the local matcher does not implement, instead of silently differing from AWS', () => {
    expect(() => assertSupportedPattern({ eventName: [{ wildcard: 'IN*' }] })).toThrow(/unsupported matcher/);
    expect(() => assertSupportedPattern({ eventName: 'INSERT' })).toThrow(/array of matchers/);
    expect(() => assertSupportedPattern({ eventName: [] })).toThrow(/matches nothing/);
    expect(() => assertSupportedPattern({ n: [{ numeric: ['~', 1] }] })).toThrow(/numeric/);
    expect(() => assertSupportedPattern({ n: [{ exists: 'yes' }] })).toThrow(/exists/);
  });
});
