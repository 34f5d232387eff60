import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DecryptCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createAesSecretSealer,
  createKeyFileSecretSealer,
  createKmsSecretSealer,
} from '../../functions/shared/adapters/secret-sealers';
import { getConfig } from '../../functions/shared/config';

const context = { workspaceId: 'ws_A', connectionId: 'chc_1', secret: 'accessToken' };
const token = 'EAAG-secret-access-token-0123456789';

describe('createKeyFileSecretSealer (npm start and tests)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'crm-sealer-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('makes the key file on first use (32 bytes, mode 600), keeps it, and opens what it sealed', async () => {
    // Prepare
    const file = join(dir, 'nested', 'credentials.key');
    const sealer = createKeyFileSecretSealer(file);

    // Act
    const sealed = await sealer.seal(token, context);
    const again = await sealer.seal(token, context);

    // Assess
    expect(statSync(file).size).toBe(32);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(sealed).toMatch(/^aes1\.[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain(token);
    expect(again).not.toBe(sealed); // a fresh IV each time
    expect(await sealer.open(sealed, context)).toBe(token);
    // Another process (a restart) reads the same key file and opens it too; the file is not rewritten.
    const key = readFileSync(file);
    expect(await createKeyFileSecretSealer(file).open(sealed, { ...context })).toBe(token);
    expect(readFileSync(file).equals(key)).toBe(true);
  });

  it('refuses a wrong context: another workspace, connection or secret name, or one key more', async () => {
    const sealer = createKeyFileSecretSealer(join(dir, 'context.key'));
    const sealed = await sealer.seal(token, context);
    // Keys in another order are the same context.
    expect(await sealer.open(sealed, { secret: 'accessToken', connectionId: 'chc_1', workspaceId: 'ws_A' })).toBe(token);
    for (const wrong of [
      { ...context, workspaceId: 'ws_B' },
      { ...context, connectionId: 'chc_2' },
      { ...context, secret: 'appSecret' },
      { ...context, extra: 'x' },
    ]) {
      await expect(sealer.open(sealed, wrong)).rejects.toThrow(/cannot be opened/);
    }
  });

  it('refuses a tampered value, another key’s value, and values that are not its own', async () => {
    const sealer = createKeyFileSecretSealer(join(dir, 'tamper.key'));
    const sealed = await sealer.seal(token, context);
    const bytes = Buffer.from(sealed.slice('aes1.'.length), 'base64url');
    for (const index of [0, 12, bytes.length - 1]) {
      const altered = Buffer.from(bytes);
      altered[index]! ^= 1;
      await expect(sealer.open(`aes1.${altered.toString('base64url')}`, context)).rejects.toThrow(/cannot be opened/);
    }
    await expect(createKeyFileSecretSealer(join(dir, 'other.key')).open(sealed, context)).rejects.toThrow(/cannot be opened/);
    await expect(sealer.open('aes1.AAAA', context)).rejects.toThrow(/too short/);
    await expect(sealer.open(`kms1.${bytes.toString('base64url')}`, context)).rejects.toThrow(/not sealed with the local key/);
  });

  it('refuses a key that is not 32 bytes, and tries again after a failed read', async () => {
    let reads = 0;
    const sealer = createAesSecretSealer(async () => {
      reads += 1;
      if (reads === 1) throw new Error('EACCES');
      return new Uint8Array(reads === 2 ? 16 : 32);
    });
    await expect(sealer.seal(token, context)).rejects.toThrow('EACCES');
    await expect(sealer.seal(token, context)).rejects.toThrow(/needs 32/);
    expect(await sealer.open(await sealer.seal(token, context), context)).toBe(token);
    expect(reads).toBe(3);
  });
});

describe('createKmsSecretSealer (AWS)', () => {
  const kms = mockClient(KMSClient);
  beforeEach(() => kms.reset());
  const keyId = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';

  it('encrypts and decrypts with the key and the context as encryption context', async () => {
    // Prepare
    kms.on(EncryptCommand).resolves({ CiphertextBlob: new Uint8Array([1, 2, 3, 250]) });
    kms.on(DecryptCommand).resolves({ Plaintext: new TextEncoder().encode(token) });
    const sealer = createKmsSecretSealer({ client: new KMSClient({ region: 'eu-west-1' }), keyId });

    // Act
    const sealed = await sealer.seal(token, context);
    const opened = await sealer.open(sealed, context);

    // Assess
    expect(sealed).toBe(`kms1.${Buffer.from([1, 2, 3, 250]).toString('base64url')}`);
    expect(opened).toBe(token);
    const encrypt = kms.commandCalls(EncryptCommand)[0]!.args[0].input;
    expect(encrypt.KeyId).toBe(keyId);
    expect(encrypt.EncryptionContext).toEqual(context);
    expect(Buffer.from(encrypt.Plaintext!).toString('utf8')).toBe(token);
    const decrypt = kms.commandCalls(DecryptCommand)[0]!.args[0].input;
    expect(decrypt).toMatchObject({ KeyId: keyId, EncryptionContext: context });
    expect([...decrypt.CiphertextBlob!]).toEqual([1, 2, 3, 250]);
  });

  it('fails when KMS refuses (a wrong context is an InvalidCiphertextException), and on a local value', async () => {
    kms.on(DecryptCommand).rejects(Object.assign(new Error('InvalidCiphertextException'), { name: 'InvalidCiphertextException' }));
    const sealer = createKmsSecretSealer({ client: new KMSClient({ region: 'eu-west-1' }), keyId });
    await expect(sealer.open('kms1.AQID', { ...context, workspaceId: 'ws_B' })).rejects.toThrow('InvalidCiphertextException');
    await expect(sealer.open('aes1.AQID', context)).rejects.toThrow(/not sealed with KMS/);
    expect(kms.commandCalls(DecryptCommand)).toHaveLength(1);
  });
});

describe('configuration', () => {
  it('reads the credentials key (KMS or file) and the hooks base URL, without a trailing slash', () => {
    const config = getConfig({
      TABLE_NAME: 't',
      CREDENTIALS_KMS_KEY_ID: 'arn:key',
      CREDENTIALS_KEY_FILE: '',
      HOOKS_BASE_URL: 'https://hooks.example.com/',
    });
    expect(config).toMatchObject({ credentialsKmsKeyId: 'arn:key', hooksBaseUrl: 'https://hooks.example.com' });
    expect(config.credentialsKeyFile).toBeUndefined();
    expect(getConfig({ TABLE_NAME: 't' }).hooksBaseUrl).toBeUndefined();
  });
});
