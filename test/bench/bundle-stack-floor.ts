import * as z from 'zod';
import { PrecheckedEntity } from '../../domain/store/prechecked-entity';
import { createDocumentClient, createDynamoClient } from '../../domain/store/dynamo-client';

/**
 * The stack floor of the `bundles` bench: the floor (the DynamoDB document client) plus what DESIGN.md
 * puts in every function before any of its own code: ElectroDB with one small entity (built as the
 * functions build theirs, without ElectroDB's model check), and zod with one small schema. Its import time, as a ratio to the floor's, is the least a function on this stack can
 * cost; each function is also reported against it, which says how much of its init is its own code.
 */
export const documentClient = createDocumentClient(createDynamoClient());

export const inputSchema = z.object({ name: z.string().min(1).max(200), limit: z.coerce.number().int().min(1).max(100).default(25) });

export const tagEntity = new PrecheckedEntity(
  {
    model: { entity: 'floorTag', version: '1', service: 'crm' },
    attributes: {
      workspaceId: { type: 'string', required: true },
      tagId: { type: 'string', required: true },
      name: { type: 'string', required: true },
    },
    indexes: {
      primary: { pk: { field: 'pk', composite: ['workspaceId'] }, sk: { field: 'sk', composite: ['tagId'] } },
    },
  },
  { client: documentClient, table: process.env.TABLE_NAME ?? 'crm' },
);

export const handler = async () => ({ statusCode: 200 });
