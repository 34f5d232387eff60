import { createDocumentClient, createDynamoClient } from '../../domain/store/dynamo-client';

/**
 * The floor of the `bundles` bench: a Lambda entry that only creates the DynamoDB document client at
 * init (the SDK, external as deployed, and the client every function here uses). Its import time is
 * the least any function costs; each function's import time is reported as a ratio to it.
 */
export const documentClient = createDocumentClient(createDynamoClient());

export const handler = async () => ({ statusCode: 200 });
