import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { KMSClient } from '@aws-sdk/client-kms';
import type { SealContext, SecretSealer } from '../../../domain/shared/ports';

// Imported on first use, not at cold start: bundled, a static import of the SDK client would load it
// in every function that carries this adapter, whether it calls it or not.
const kms = () => import('@aws-sdk/client-kms');

/** The context as canonical bytes (keys sorted), the AES-GCM additional data: the same context always gives the same bytes. */
const contextBytes = (context: SealContext) =>
  Buffer.from(JSON.stringify(Object.keys(context).sort().map((key) => [key, context[key]])), 'utf8');

const aesPrefix = 'aes1.';
const kmsPrefix = 'kms1.';
const ivBytes = 12;
const tagBytes = 16;

const unreadable = (why: string) => new Error(`The sealed secret cannot be opened: ${why}`);

/**
 * AES-256-GCM under a 32-byte key: `aes1.` and base64url(iv ‖ ciphertext ‖ tag), the context as additional
 * data. The key is read on first use and kept; a failed read is forgotten, so the next call tries again.
 */
export function createAesSecretSealer(readKey: () => Promise<Uint8Array>): SecretSealer {
  let key: Promise<Uint8Array> | undefined;
  const getKey = () => {
    if (!key) {
      key = readKey().then((bytes) => {
        if (bytes.byteLength !== 32) throw new Error(`The sealing key holds ${bytes.byteLength} bytes; it needs 32`);
        return bytes;
      });
      key.catch(() => (key = undefined));
    }
    return key;
  };
  return {
    async seal(plaintext, context) {
      const iv = randomBytes(ivBytes);
      const cipher = createCipheriv('aes-256-gcm', await getKey(), iv);
      cipher.setAAD(contextBytes(context));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return aesPrefix + Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
    },
    async open(sealed, context) {
      if (!sealed.startsWith(aesPrefix)) throw unreadable('not sealed with the local key');
      const bytes = Buffer.from(sealed.slice(aesPrefix.length), 'base64url');
      if (bytes.length < ivBytes + tagBytes) throw unreadable('too short');
      const decipher = createDecipheriv('aes-256-gcm', await getKey(), bytes.subarray(0, ivBytes));
      decipher.setAAD(contextBytes(context));
      decipher.setAuthTag(bytes.subarray(bytes.length - tagBytes));
      try {
        return Buffer.concat([decipher.update(bytes.subarray(ivBytes, bytes.length - tagBytes)), decipher.final()]).toString('utf8');
      } catch {
        // The tag does not match: the value was altered, or it was sealed for another context or key.
        throw unreadable('altered, or sealed for another record');
      }
    },
  };
}

/**
 * Under `npm start` (`.data/credentials.key`) and in tests (a temp dir): AES-256-GCM under a key file
 * of 32 random bytes, made (mode 600) on first use when missing and kept after; `--reset` loses it
 * with the data it sealed.
 */
export function createKeyFileSecretSealer(file: string): SecretSealer {
  return createAesSecretSealer(async () => {
    await mkdir(dirname(file), { recursive: true });
    try {
      await writeFile(file, randomBytes(32), { mode: 0o600, flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    return new Uint8Array(await readFile(file));
  });
}

export interface KmsSecretSealerOptions {
  client: KMSClient;
  /** The symmetric KMS key's id or ARN (CREDENTIALS_KMS_KEY_ID). */
  keyId: string;
}

/**
 * On AWS: KMS Encrypt and Decrypt (at most 4 KiB of plaintext), the context as the encryption context,
 * so CloudTrail shows which record each use was for, and a ciphertext opens only with the same context.
 */
export function createKmsSecretSealer({ client, keyId }: KmsSecretSealerOptions): SecretSealer {
  return {
    async seal(plaintext, context) {
      const result = await client.send(
        new (await kms()).EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from(plaintext, 'utf8'), EncryptionContext: { ...context } }),
      );
      if (!result.CiphertextBlob) throw new Error('KMS returned no ciphertext');
      return kmsPrefix + Buffer.from(result.CiphertextBlob).toString('base64url');
    },
    async open(sealed, context) {
      if (!sealed.startsWith(kmsPrefix)) throw unreadable('not sealed with KMS');
      const result = await client.send(
        new (await kms()).DecryptCommand({
          KeyId: keyId,
          CiphertextBlob: Buffer.from(sealed.slice(kmsPrefix.length), 'base64url'),
          EncryptionContext: { ...context },
        }),
      );
      if (!result.Plaintext) throw new Error('KMS returned no plaintext');
      return Buffer.from(result.Plaintext).toString('utf8');
    },
  };
}
