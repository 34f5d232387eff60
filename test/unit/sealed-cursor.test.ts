import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../domain/shared/errors';
import { createCursorSeal, type CursorBinding } from '../../domain/shared/sealed-cursor';

const key = Buffer.alloc(32, 1);
const seal = createCursorSeal(key);
const binding: CursorBinding = {
  workspaceId: 'ws_01JAAAAAAAAAAAAAAAAAAAAAAA',
  route: 'listContacts',
  params: {},
  filters: { sort: 'name', order: 'asc', archived: false },
};
/** An ElectroDB cursor as the lists make them: base64url JSON of a start key. */
const inner = Buffer.from(
  JSON.stringify({ pk: `WS#${binding.workspaceId}#CONTACT#ct_1`, sk: 'CONTACT', gsi1pk: `WS#${binding.workspaceId}#CONTACTS`, gsi1sk: 'ada#ct_1' }),
).toString('base64url');

function refused(open: () => unknown) {
  try {
    open();
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe('invalid_cursor');
    expect((error as DomainError).details.fields).toEqual([expect.objectContaining({ field: 'query.cursor' })]);
    return;
  }
  expect.unreachable('the cursor opened');
}

describe('sealed cursors', () => {
  it('open to the inner cursor for the same binding, whatever its key order', () => {
    const sealed = seal.seal(inner, binding);
    expect(seal.open(sealed, binding)).toBe(inner);
    const reordered = { filters: { archived: false, order: 'asc', sort: 'name' }, params: {}, route: binding.route, workspaceId: binding.workspaceId };
    expect(seal.open(sealed, reordered)).toBe(inner);
    // Undefined members are absent members, and a date is its ISO string, as in a URL.
    const at = new Date('2026-01-01T00:00:00.000Z');
    const withDate = seal.seal(inner, { ...binding, filters: { ...binding.filters, from: at, ownerId: undefined } });
    expect(seal.open(withDate, { ...binding, filters: { ...binding.filters, from: at.toISOString() } })).toBe(inner);
  });

  it('carry any inner text, base64url or not', () => {
    for (const text of ['x', 'not base64url!', '{"v":1,"p":"Zoë#ct_1"}', 'AAAA', 'AB', inner.slice(0, -1), 'é'.repeat(300)]) {
      expect(seal.open(seal.seal(text, binding), binding)).toBe(text);
    }
  });

  it('are URL-safe, different each time (random IV), about 40 characters longer than a base64url inner cursor', () => {
    const [a, b] = [seal.seal(inner, binding), seal.seal(inner, binding)];
    expect(a).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(a).not.toBe(b);
    expect(a.length - inner.length).toBeLessThanOrEqual(41);
  });

  it('show nothing of the inner cursor or the binding', () => {
    const sealed = seal.seal(inner, binding);
    for (const decoded of [Buffer.from(sealed, 'base64url').toString('latin1'), Buffer.from(sealed, 'base64').toString('latin1'), sealed]) {
      // `"pk"` with its quotes: two random bytes spell pk now and then, a key's JSON always has them.
      for (const secret of ['WS#', '"pk"', 'CONTACT', 'ct_1', binding.workspaceId, 'listContacts', 'ada#']) {
        expect(decoded).not.toContain(secret);
      }
    }
  });

  it('refuse another workspace, route, path parameter or filter', () => {
    const sealed = seal.seal(inner, { ...binding, params: { contactId: 'ct_1' } });
    const bound = { ...binding, params: { contactId: 'ct_1' } };
    expect(seal.open(sealed, bound)).toBe(inner);
    refused(() => seal.open(sealed, { ...bound, workspaceId: 'ws_01JBBBBBBBBBBBBBBBBBBBBBBB' }));
    refused(() => seal.open(sealed, { ...bound, route: 'searchContacts' }));
    refused(() => seal.open(sealed, { ...bound, params: { contactId: 'ct_2' } }));
    refused(() => seal.open(sealed, { ...bound, params: {} }));
    refused(() => seal.open(sealed, { ...bound, filters: { ...bound.filters, order: 'desc' } }));
    refused(() => seal.open(sealed, { ...bound, filters: { ...bound.filters, tag: 'vip' } }));
    refused(() => seal.open(sealed, { ...bound, filters: { sort: 'name', order: 'asc' } }));
    refused(() => seal.open(sealed, { ...bound, filters: { ...bound.filters, archived: 'false' } }));
  });

  it('refuse a cursor sealed with another key', () => {
    const other = createCursorSeal(randomBytes(32));
    refused(() => seal.open(other.seal(inner, binding), binding));
    refused(() => other.open(seal.seal(inner, binding), binding));
  });

  it('refuse every single-bit change, every truncation and an extension', () => {
    const sealed = seal.seal('{"v":1,"k":"x"}', binding);
    const bytes = Buffer.from(sealed, 'base64url');
    for (let bit = 0; bit < bytes.length * 8; bit++) {
      const flipped = Buffer.from(bytes);
      flipped[bit >> 3]! ^= 1 << (bit & 7);
      refused(() => seal.open(flipped.toString('base64url'), binding));
    }
    for (let length = 0; length < sealed.length; length++) refused(() => seal.open(sealed.slice(0, length), binding));
    refused(() => seal.open(`${sealed}AAAA`, binding));
    refused(() => seal.open(Buffer.concat([bytes, Buffer.of(0)]).toString('base64url'), binding));
  });

  it('refuse another spelling of the same bytes (padding, unused bits, base64 characters)', () => {
    const sealed = seal.seal(inner, binding);
    const bytes = Buffer.from(sealed, 'base64url');
    expect(bytes.length % 3).not.toBe(0); // so the last character has unused bits
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sameBytes = [...alphabet]
      .map((char) => sealed.slice(0, -1) + char)
      .filter((spelling) => spelling !== sealed && Buffer.from(spelling, 'base64url').equals(bytes));
    expect(sameBytes.length).toBeGreaterThan(0);
    for (const spelling of sameBytes) refused(() => seal.open(spelling, binding));
    refused(() => seal.open(`${sealed}=`, binding));
    refused(() => seal.open(bytes.toString('base64'), binding));
  });

  it('refuse garbage and the old readable cursors', () => {
    const oldFormat = Buffer.from(JSON.stringify({ pk: 'WS#ws_other#USERS', sk: 'USER#usr_1' })).toString('base64url');
    for (const garbage of ['', 'x', '%%%', 'AAAA', 'A'.repeat(100), randomBytes(64).toString('base64url'), oldFormat, inner]) {
      refused(() => seal.open(garbage, binding));
    }
  });

  it('needs a key of at least 32 bytes', () => {
    expect(() => createCursorSeal(new Uint8Array(31))).toThrow(/32 bytes/);
  });
});
