import { createCipheriv, createDecipheriv, createSecretKey, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import { invalidCursor } from './errors';

/**
 * What a sealed cursor is bound to. It opens only for the same workspace, route, path parameters and
 * filters it was sealed for; anything else is `invalid_cursor`.
 */
export interface CursorBinding {
  workspaceId: string;
  /** The route's operationId. */
  route: string;
  /** The parsed path parameters. */
  params: Record<string, unknown>;
  /** The parsed query without `cursor` and `limit`: a cursor may go on with another page size. */
  filters: Record<string, unknown>;
}

export interface CursorSeal {
  /** An opaque, URL-safe cursor: the inner one encrypted and authenticated, with the binding as AAD. */
  seal(inner: string, binding: CursorBinding): string;
  /** The inner cursor back; `invalid_cursor` when this key did not seal it for this binding, unchanged. */
  open(sealed: string, binding: CursorBinding): string;
}

/** The layout's version: the first byte of every sealed cursor, authenticated with the rest. */
const version = 1;
const ivBytes = 12;
const tagBytes = 16;
/** Version, IV, a one-byte plaintext form, and the tag: what sealing adds to the inner cursor's bytes. */
const overheadBytes = 1 + ivBytes + 1 + tagBytes;
/** Plaintext forms: the inner cursor's UTF-8 text, or the bytes of a base64url one (a quarter shorter). */
const text = 0;
const base64url = 1;

const base64urlPattern = /^[A-Za-z0-9_-]*$/;
/** Only the one spelling `toString('base64url')` gives: no padding bits or characters a decoder skips. */
const isCanonicalBase64url = (value: string) =>
  base64urlPattern.test(value) && Buffer.from(value, 'base64url').toString('base64url') === value;

/** JSON with object keys sorted at every level: equal bindings give equal bytes. */
function canonicalJson(value: unknown): string {
  const sorted = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(sorted);
    if (node === null || typeof node !== 'object') return node;
    return Object.fromEntries(
      Object.keys(node)
        .sort()
        .map((key) => [key, sorted((node as Record<string, unknown>)[key])]),
    );
  };
  // The round trip first turns dates into ISO strings and drops undefined members, as a URL would.
  return JSON.stringify(sorted(JSON.parse(JSON.stringify(value))));
}

const associatedData = (binding: CursorBinding) =>
  Buffer.concat([
    Buffer.of(version),
    Buffer.from(
      canonicalJson({ w: binding.workspaceId, r: binding.route, p: binding.params, f: binding.filters }),
      'utf8',
    ),
  ]);

/**
 * Seals list cursors with AES-256-GCM under a key derived (HKDF-SHA-256) from the deployment's secret,
 * a random 96-bit IV per cursor. The binding is the additional authenticated data: it is not carried
 * in the cursor, so a cursor reveals nothing (no key, hash or id) and opens only where it was made.
 */
export function createCursorSeal(secret: Uint8Array): CursorSeal {
  if (secret.byteLength < 32) throw new Error('The cursor key must hold at least 32 bytes');
  const key: KeyObject = createSecretKey(
    Buffer.from(hkdfSync('sha256', secret, 'crm/cursor-seal', 'aes-256-gcm/v1', 32)),
  );
  return {
    seal(inner, binding) {
      const form = inner !== '' && isCanonicalBase64url(inner) ? base64url : text;
      const body = form === base64url ? Buffer.from(inner, 'base64url') : Buffer.from(inner, 'utf8');
      const iv = randomBytes(ivBytes);
      const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: tagBytes });
      cipher.setAAD(associatedData(binding));
      const encrypted = Buffer.concat([cipher.update(Buffer.of(form)), cipher.update(body), cipher.final()]);
      return Buffer.concat([Buffer.of(version), iv, encrypted, cipher.getAuthTag()]).toString('base64url');
    },

    open(sealed, binding) {
      if (!isCanonicalBase64url(sealed)) throw invalidCursor();
      const bytes = Buffer.from(sealed, 'base64url');
      if (bytes.length < overheadBytes || bytes[0] !== version) throw invalidCursor();
      const iv = bytes.subarray(1, 1 + ivBytes);
      const tag = bytes.subarray(bytes.length - tagBytes);
      let plain: Buffer;
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: tagBytes });
        decipher.setAAD(associatedData(binding));
        decipher.setAuthTag(tag);
        plain = Buffer.concat([decipher.update(bytes.subarray(1 + ivBytes, bytes.length - tagBytes)), decipher.final()]);
      } catch {
        // Another key, another binding, or any byte changed: GCM's tag does not verify.
        throw invalidCursor();
      }
      const body = plain.subarray(1);
      if (plain[0] === base64url) return body.toString('base64url');
      if (plain[0] === text) return body.toString('utf8');
      throw invalidCursor();
    },
  };
}
