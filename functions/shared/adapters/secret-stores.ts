import { readFile } from 'node:fs/promises';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SecretName, SecretStore } from '../../../domain/shared/ports';

// Imported on first use, not at cold start: bundled, a static import of the SDK client would load it
// in every function that carries this adapter, whether it calls it or not.
const secretsManager = () => import('@aws-sdk/client-secrets-manager');

/** Each secret is read once and kept; a failed read is forgotten, so the next request tries again. */
function readOnce(read: (name: SecretName) => Promise<Uint8Array>): SecretStore {
  const cache = new Map<SecretName, Promise<Uint8Array>>();
  return {
    get(name) {
      let value = cache.get(name);
      if (!value) {
        value = read(name).then((bytes) => {
          if (bytes.byteLength < 32) throw new Error(`The secret "${name}" holds ${bytes.byteLength} bytes; it needs at least 32`);
          return bytes;
        });
        value.catch(() => cache.delete(name));
        cache.set(name, value);
      }
      return value;
    },
  };
}

const unknownSecret = (name: SecretName, variable: string) =>
  new Error(`No secret "${name}" is configured: set ${variable}`);

export interface SecretsManagerSecretStoreOptions {
  client: SecretsManagerClient;
  /** The secret's ARN by name, e.g. from `Config.cursorSecretArn`. */
  secretIds: Partial<Record<SecretName, string>>;
}

/** On AWS: secrets the stack generated in Secrets Manager (their string values' bytes), read once per cold start. */
export function createSecretsManagerSecretStore({ client, secretIds }: SecretsManagerSecretStoreOptions): SecretStore {
  return readOnce(async (name) => {
    const secretId = secretIds[name];
    if (!secretId) throw unknownSecret(name, 'its ARN (CURSOR_SECRET_ARN)');
    const result = await client.send(new (await secretsManager()).GetSecretValueCommand({ SecretId: secretId }));
    if (result.SecretString !== undefined) return new TextEncoder().encode(result.SecretString);
    if (result.SecretBinary !== undefined) return Uint8Array.from(result.SecretBinary);
    throw new Error(`The secret "${name}" has no value`);
  });
}

/** Under `npm start`: key files (random bytes) that `local/start.ts` creates under `.data/` on first start. */
export function createFileSecretStore(files: Partial<Record<SecretName, string>>): SecretStore {
  return readOnce(async (name) => {
    const file = files[name];
    if (!file) throw unknownSecret(name, 'its key file (CURSOR_KEY_FILE)');
    return new Uint8Array(await readFile(file));
  });
}

/** Secrets given in code: tests, and `npm start -- --in-memory` (a throwaway key). */
export function createStaticSecretStore(secrets: Partial<Record<SecretName, Uint8Array>>): SecretStore {
  return readOnce(async (name) => {
    const secret = secrets[name];
    if (!secret) throw new Error(`No secret "${name}" was given`);
    return secret;
  });
}
