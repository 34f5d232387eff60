import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createFileSecretStore,
  createSecretsManagerSecretStore,
  createStaticSecretStore,
} from '../../functions/shared/adapters/secret-stores';
import { getConfig } from '../../functions/shared/config';

const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:CursorSecret-abc';
const secretString = 'k'.repeat(64);

describe('createSecretsManagerSecretStore', () => {
  const secretsManager = mockClient(SecretsManagerClient);
  beforeEach(() => secretsManager.reset());

  it('reads the secret once by its ARN and returns its bytes', async () => {
    // Prepare
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: secretString });
    const store = createSecretsManagerSecretStore({ client: new SecretsManagerClient({}), secretIds: { 'cursor-key': arn } });

    // Act
    const [first, second] = await Promise.all([store.get('cursor-key'), store.get('cursor-key')]);
    const third = await store.get('cursor-key');

    // Assess
    expect(Buffer.from(first).toString('utf8')).toBe(secretString);
    expect(second).toBe(first);
    expect(third).toBe(first);
    const calls = secretsManager.commandCalls(GetSecretValueCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input).toEqual({ SecretId: arn });
  });

  it('tries again after a failed read, and refuses a short secret', async () => {
    secretsManager.on(GetSecretValueCommand).rejectsOnce(new Error('throttled')).resolves({ SecretString: secretString });
    const store = createSecretsManagerSecretStore({ client: new SecretsManagerClient({}), secretIds: { 'cursor-key': arn } });
    await expect(store.get('cursor-key')).rejects.toThrow('throttled');
    expect((await store.get('cursor-key')).byteLength).toBe(64);

    secretsManager.reset();
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: 'short' });
    const short = createSecretsManagerSecretStore({ client: new SecretsManagerClient({}), secretIds: { 'cursor-key': arn } });
    await expect(short.get('cursor-key')).rejects.toThrow(/at least 32/);
  });

  it('names the variable to set when the secret has no ARN', async () => {
    const store = createSecretsManagerSecretStore({ client: new SecretsManagerClient({}), secretIds: {} });
    await expect(store.get('cursor-key')).rejects.toThrow(/CURSOR_SECRET_ARN/);
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(0);
  });
});

describe('createFileSecretStore and createStaticSecretStore', () => {
  const dir = mkdtempSync(join(tmpdir(), 'crm-secrets-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a key file once', async () => {
    const file = join(dir, 'cursor.key');
    writeFileSync(file, Buffer.alloc(32, 7));
    const store = createFileSecretStore({ 'cursor-key': file });
    expect(await store.get('cursor-key')).toEqual(new Uint8Array(32).fill(7));
    writeFileSync(file, Buffer.alloc(32, 9));
    expect(await store.get('cursor-key')).toEqual(new Uint8Array(32).fill(7));
    await expect(createFileSecretStore({ 'cursor-key': join(dir, 'missing.key') }).get('cursor-key')).rejects.toThrow(/ENOENT/);
  });

  it('gives the bytes it was given', async () => {
    const key = new Uint8Array(32).fill(1);
    expect(await createStaticSecretStore({ 'cursor-key': key }).get('cursor-key')).toBe(key);
    await expect(createStaticSecretStore({}).get('cursor-key')).rejects.toThrow(/No secret/);
  });
});

describe('configuration', () => {
  it('reads the cursor secret ARN and key file, empty meaning unset', () => {
    const config = getConfig({ TABLE_NAME: 't', CURSOR_SECRET_ARN: arn, CURSOR_KEY_FILE: '' });
    expect(config.cursorSecretArn).toBe(arn);
    expect(config.cursorKeyFile).toBeUndefined();
  });
});
