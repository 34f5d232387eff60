import { Validator } from 'jsonschema';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createDb } from '../../domain/store/db';
import { createDocumentClient, createDynamoClient } from '../../domain/store/dynamo-client';

/** ElectroDB's parsed model (entity name, keys, indexes, attributes), its functions left out. */
const parsedModel = (entity: object) => JSON.stringify((entity as { model: unknown }).model);

const client = createDocumentClient(createDynamoClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9' }));

describe('the entity models', () => {
  afterEach(() => vi.restoreAllMocks());

  it('every model passes ElectroDB’s own checks (skipped when the functions build the table’s entities)', () => {
    const validate = vi.spyOn(Validator.prototype, 'validate');
    const db = createDb(client, 'crm-models', { checkModels: true });
    const entityCount = Object.keys(db.entities).length;
    expect(entityCount).toBeGreaterThan(50);
    // ElectroDB checks each model when it builds the entity (once or twice: old model shape, then v1).
    expect(validate.mock.calls.length).toBeGreaterThanOrEqual(entityCount);
    for (const [name, entity] of Object.entries(db.entities)) {
      expect(entity.schema, name).toBeDefined();
    }
  });

  it('building the table’s entities for a function runs no JSON schema check (the cold start cost it saves)', () => {
    const validate = vi.spyOn(Validator.prototype, 'validate');
    const db = createDb(client, 'crm-models');
    expect(validate).not.toHaveBeenCalled();
    // The same entities, joined in the same service, as with the checks on.
    const checked = createDb(client, 'crm-models', { checkModels: true });
    expect(Object.keys(db.entities)).toEqual(Object.keys(checked.entities));
    for (const name of Object.keys(db.entities) as (keyof typeof db.entities)[]) {
      expect(parsedModel(db.entities[name]), name).toBe(parsedModel(checked.entities[name]));
    }
  });
});
