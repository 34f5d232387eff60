import { Service } from 'electrodb';
import { Validator } from 'jsonschema';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createDb, entityNames } from '../../domain/store/db';
import { createDocumentClient, createDynamoClient } from '../../domain/store/dynamo-client';

/** ElectroDB's parsed model (entity name, keys, indexes, attributes), its functions left out. */
const parsedModel = (entity: object) => JSON.stringify((entity as { model: unknown }).model);

const client = createDocumentClient(
  createDynamoClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9' }),
);

describe('the entity models', () => {
  afterEach(() => vi.restoreAllMocks());

  it('every model passes ElectroDB’s own checks (skipped when the functions build the table’s entities)', () => {
    const validate = vi.spyOn(Validator.prototype, 'validate');
    const db = createDb(client, 'crm-models', { checkModels: true });
    expect(entityNames.length).toBeGreaterThan(50);
    expect(Object.keys(db.entities).sort()).toEqual([...entityNames].sort());
    // The service's own checks too: every entity of one service name, on one table.
    expect(Object.keys(new Service(db.entities, { client, table: 'crm-models' }).entities).sort()).toEqual([...entityNames].sort());
    // ElectroDB checks each model when it builds the entity (once or twice: old model shape, then v1).
    expect(validate.mock.calls.length).toBeGreaterThanOrEqual(entityNames.length);
  });

  it('building the table’s entities for a function runs no JSON schema check (the cold start cost it saves)', () => {
    const validate = vi.spyOn(Validator.prototype, 'validate');
    const db = createDb(client, 'crm-models');
    const checked = createDb(client, 'crm-models', { checkModels: true });
    validate.mockClear();
    for (const name of entityNames) {
      // The same model as ElectroDB's checked one.
      expect(parsedModel(db.entities[name]), name).toBe(parsedModel(checked.entities[name]));
    }
    expect(validate).not.toHaveBeenCalled();
  });

  it('builds each entity on first use, once; a transaction builds only those it writes', () => {
    const db = createDb(client, 'crm-models');
    expect(Object.keys(db.entities)).toEqual([]);
    const contact = db.entities.contact;
    expect(db.entities.contact).toBe(contact);
    expect(Object.keys(db.entities)).toEqual(['contact']);
    const { TransactItems } = db
      .transactWrite(({ tag }) => [tag.delete({ workspaceId: 'w1', key: 'vip' }).commit()])
      .params();
    expect(TransactItems).toHaveLength(1);
    expect(TransactItems).toMatchObject([{ Delete: { TableName: 'crm-models' } }]);
    expect(Object.keys(db.entities).sort()).toEqual(['contact', 'event', 'tag']);
  });
});
