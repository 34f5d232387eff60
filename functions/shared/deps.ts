import { systemClock, ulidGenerator } from '../../domain/shared/clock';
import type { CoreDeps } from '../../domain/shared/deps';
import { createDb } from '../../domain/store/db';
import { createDocumentClient, createDynamoClient } from '../../domain/store/dynamo-client';
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
