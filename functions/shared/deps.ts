import { systemClock, ulidGenerator } from '../../domain/shared/clock';
import type { CoreDeps } from '../../domain/shared/deps';
import { createDb } from '../../domain/store/db';
import type { SecretStore } from '../../domain/shared/ports';
import { createDocumentClient, createDynamoClient } from '../../domain/store/dynamo-client';
import { createSecretsManagerClient } from './adapters/aws-clients';
import { createFileSecretStore, createSecretsManagerSecretStore } from './adapters/secret-stores';
import { getConfig } from './config';

let cached: CoreDeps | undefined;

/** The domain's dependencies, built once per cold start and reused by every invocation. */
export function getCoreDeps(): CoreDeps {
  if (cached) return cached;
  const config = getConfig();
  const client = createDynamoClient({ endpoint: config.dynamodbEndpoint, region: config.region });
  cached = {
    db: createDb(createDocumentClient(client), config.tableName),
    clock: systemClock,
    newId: ulidGenerator(systemClock),
  };
  return cached;
}

/** Tests and the local runtime replace or reset the dependencies. */
export function setCoreDeps(deps: CoreDeps | undefined): void {
  cached = deps;
}

let secrets: SecretStore | undefined;

/**
 * The deployment's secrets: Secrets Manager on AWS (CURSOR_SECRET_ARN), a key file under `npm start`
 * (CURSOR_KEY_FILE). Built on first use, so a function that never seals a cursor needs neither.
 */
export function getSecretStore(): SecretStore {
  if (secrets) return secrets;
  const config = getConfig();
  if (config.cursorSecretArn) {
    secrets = createSecretsManagerSecretStore({
      client: createSecretsManagerClient(config),
      secretIds: { 'cursor-key': config.cursorSecretArn },
    });
  } else if (config.cursorKeyFile) {
    secrets = createFileSecretStore({ 'cursor-key': config.cursorKeyFile });
  } else {
    throw new Error('Missing required environment variable CURSOR_SECRET_ARN (or CURSOR_KEY_FILE locally)');
  }
  return secrets;
}

/** Tests and `npm start -- --in-memory` give their own secrets; undefined goes back to the configuration. */
export function setSecretStore(store: SecretStore | undefined): void {
  secrets = store;
}
